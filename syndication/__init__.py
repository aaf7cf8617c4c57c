"""syndication: see README (not built yet)."""
