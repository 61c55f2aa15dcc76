"""The built-in per-node checks: integrity, provenance, ratio, monitoring, response, governance."""
