"""Decay in review (the playbook's first failure mode): what a change did to the safeguards.

These rules compare the project with a base revision, so they report only in
``loopscan diff --base REF``.
"""
