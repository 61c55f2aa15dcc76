"""Play 2 (set and enforce mixing ratios): every training run capped, anchored on real data, and logged."""
