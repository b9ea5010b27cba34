"""Backend (step decorator) part of the compliance suite."""
