"""search: see README (not built yet)."""
