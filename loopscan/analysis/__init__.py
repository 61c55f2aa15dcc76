"""Analyse: facts about the linked graph that the rules read.

``cycles`` finds loops and witnesses, ``provenance`` infers what flows where,
``mixing`` does the ratio arithmetic, ``exposure`` finds the models collapse
can reach, and ``facts`` computes each of them once, on first use.
"""
