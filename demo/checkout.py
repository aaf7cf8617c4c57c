"""A guest's cash-on-delivery checkout of one listing, through the real services: how the demo's
orders are placed (demo/logistics.py's parcels, demo/sales.py's history)."""

from __future__ import annotations

from catalog.models import Listing
from marketplace.models import Commune
from orders import services as order_services
from orders.models import Order


def place_cod_order(
    listing: Listing, quantity: int, commune: Commune, *, name: str, phone: str, address_line: str
) -> Order | None:
    """One order, or None when the shop does not ship to the commune's province."""
    quote, listings = order_services.quote_items([(listing.id, quantity)], commune.province)
    if order_services.refusals(quote, listings, commune.province):
        return None
    payment = order_services.place_checkout(
        [(listing.id, quantity)],
        {
            "receiver_name": name,
            "receiver_phone": phone,
            "address_line": address_line,
            "commune_id": str(commune.id),
            "province": commune.province,
            "payment_method": "cod",
            "quote": quote.fingerprint(),
            "privacy_consent": "y",
            "email": "",
        },
        buyer=None,
    )
    return payment.orders[0]
