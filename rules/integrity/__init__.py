"""Manifest integrity (LS0xx): report what the load and link steps recorded under the ids in loopscan.integrity."""
