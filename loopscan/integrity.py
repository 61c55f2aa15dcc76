"""The ids of the integrity rules (LS0xx): problems the load and link steps find and record.

A file that is not valid YAML never reaches a rule, so the step that finds the
problem records it under one of these ids, and the rule of that id in
``rules/integrity/`` reports what was recorded; selection, severity,
overrides and docs then work as for every rule. The ids are constants, used
by both sides, so that a misspelt id is an import error rather than a finding
that silently goes nowhere. They live in the engine because data flows one
way: the steps that record problems never import a rule.
"""

YAML_SYNTAX = "LS001"
SCHEMA = "LS002"
DUPLICATE_KEY = "LS003"
UNKNOWN_REFERENCE = "LS004"
CONFLICTING_ARTIFACT = "LS005"
UNSAFE_YAML = "LS006"

IDS = (YAML_SYNTAX, SCHEMA, DUPLICATE_KEY, UNKNOWN_REFERENCE, CONFLICTING_ARTIFACT, UNSAFE_YAML)
