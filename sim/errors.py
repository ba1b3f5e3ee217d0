"""Errors a user can fix by changing the configuration or an input file."""


class ConfigError(ValueError):
    """An impossible or invalid setting; the message names the key and what would be valid."""
