"""Governance (the playbook's failure modes): one owner per pipeline, and overrides that are approved,
expire and are used.
"""
