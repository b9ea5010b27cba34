"""pytest plugin entry point of the compliance suite (inactive unless `mfx compliance` runs it)."""
