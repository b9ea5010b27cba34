"""Our own flows for the backend part of the compliance suite (run with --with <backend>)."""
