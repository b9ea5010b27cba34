"""The compliance suite: our own test flows run against a live engine, keyed to capabilities."""
