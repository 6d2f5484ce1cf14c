"""hello-stats: the smallest useful Hoopstat app.

Raw box score in, per-team totals out.
"""
