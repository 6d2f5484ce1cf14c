"""Hoopstat Factory: the Python behind the composite actions in ``actions/``."""

__version__ = "0.1.0"
