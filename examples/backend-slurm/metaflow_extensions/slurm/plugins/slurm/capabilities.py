# USER-OWNED: which OPTIONAL compliance capabilities this backend supports.
"""Declared optional capabilities; `mfx compliance` skips the tests of undeclared ones."""

CAPABILITIES = frozenset({"resources-granted", "cards"})
