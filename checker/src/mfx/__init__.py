"""mfx: lint rules and a compliance suite for Metaflow extensions."""

__version__ = "0.1.0"
