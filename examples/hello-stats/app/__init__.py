"""hello-stats: the smallest useful Hoopstat app (raw box score in, per-team totals out)."""
