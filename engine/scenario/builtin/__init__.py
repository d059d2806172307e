"""The built-in scenario files (``--scenario NAME``), shipped as package data."""
