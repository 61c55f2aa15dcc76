"""Play 3 (break recursive loops): every loop gated, capped and documented."""
