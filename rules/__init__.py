"""loopscan's built-in rules, one module per rule, in a folder per play of the playbook.

This folder ships in the wheel as ``loopscan.rules``; :mod:`loopscan.registry`
finds every rule in it. CONTRIBUTING.md shows how to add one.
"""
