"""govqa: see README (not built yet)."""
