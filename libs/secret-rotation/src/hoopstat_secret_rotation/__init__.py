"""Rotation function for API-key style secrets, following Secrets Manager's four-step protocol."""

__version__ = "0.1.0"
