"""logistics: see README (not built yet)."""
