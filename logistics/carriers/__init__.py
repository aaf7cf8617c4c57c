"""Carrier adapters (GHN, GHTK): booking, callbacks, COD remittances. Pure Python: no Flask, no db.

See base.py for the interface (`adapter_for`), callbacks.py for inbound carrier callbacks and
remittance.py for the carriers' COD remittance files."""

from .base import (
    CARRIER_KINDS,
    DEFAULT_BASE_URLS,
    FLOOR_STATUSES,
    Booking,
    CarrierAdapter,
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    CarrierValidationError,
    Contact,
    Item,
    Parcel,
    Quote,
    adapter_for,
)
from .callbacks import DEFAULT_STATUS_MAPS, TRACKING_URLS, CallbackError, InboundEvent, parse_callback
from .remittance import Remittance, RemittanceFormatError, RemittanceLine, parse_remittance_csv

__all__ = [
    "CARRIER_KINDS",
    "DEFAULT_BASE_URLS",
    "DEFAULT_STATUS_MAPS",
    "FLOOR_STATUSES",
    "TRACKING_URLS",
    "Booking",
    "CallbackError",
    "CarrierAdapter",
    "CarrierAuthError",
    "CarrierError",
    "CarrierRateLimited",
    "CarrierUnavailable",
    "CarrierValidationError",
    "Contact",
    "InboundEvent",
    "Item",
    "Parcel",
    "Quote",
    "Remittance",
    "RemittanceFormatError",
    "RemittanceLine",
    "adapter_for",
    "parse_callback",
    "parse_remittance_csv",
]
