"""Observed lineage: the manifests compared with what really ran, as OpenLineage run events report it."""
