"""One module per ``mfx`` subcommand (imported only when that command runs)."""
