"""Loop rules (Play 3: break recursive loops), one module per rule.

This folder ships in the wheel as ``loopscan.rules``.
"""
