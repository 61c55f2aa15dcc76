"""Play 5 (the collapse response drill): a rollback checkpoint and a recent drill for every exposed model."""
