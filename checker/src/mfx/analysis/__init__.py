"""Shared static analyses used by several lint rules (pure libcst, no imports of Metaflow)."""
