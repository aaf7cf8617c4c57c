"""orders: see README (not built yet)."""
