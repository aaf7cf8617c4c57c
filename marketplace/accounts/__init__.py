"""Accounts: sign-up, sign-in with throttling, password reset by mailed link, the first operator."""

from .views import bp

__all__ = ["bp"]
