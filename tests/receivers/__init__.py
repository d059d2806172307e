"""Receivers written from a provider's documentation only, to check what we send."""
