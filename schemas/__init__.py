"""JSON schemas shipped with loopscan: the manifest format and the JSON output."""
