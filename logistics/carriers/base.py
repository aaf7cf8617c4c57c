"""The carrier adapter interface: what the floor hands a carrier, what it gets back, the errors.

Pure Python (no Flask, no database): the worker books, cancels and reads shipments through
`adapter_for(kind, ...)`, and the tests run each adapter against a local stand-in server that
enforces the carrier's protocol (tests/logistics/carriers/standins.py).

Amounts are integer đồng, weights grams, sizes centimetres. An `Item`'s `weight_g` and
`value_vnd` are per unit (the carriers' item lists take a unit price and a quantity); the
`Parcel`'s `weight_g` and `declared_value_vnd` are the whole parcel's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

FLOOR_STATUSES = (
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "delivery_failed",
    "returning",
    "returned",
    "lost",
    "damaged",
)

INSPECTION_RULES = ("allow", "forbid")  # may the receiver open the parcel before paying


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    street: str  # street / hamlet (thôn, xóm) and house number
    commune_code: str  # the official code (vietnam-provinces, after 1 July 2025)
    commune_name: str
    province_code: str
    province_name: str

    def one_line(self) -> str:
        """The address as carriers print it: street, commune, province."""
        return ", ".join(part for part in (self.street, self.commune_name, self.province_name) if part)


@dataclass(frozen=True)
class Item:
    name: str
    sku: str
    quantity: int
    weight_g: int  # one unit
    value_vnd: int  # one unit


@dataclass(frozen=True)
class Parcel:
    order_code: str  # ours ("client order code"): the idempotency key at the carrier
    pickup: Contact
    receiver: Contact
    items: tuple[Item, ...]
    weight_g: int
    length_cm: int
    width_cm: int
    height_cm: int
    cod_vnd: int  # 0 when prepaid
    declared_value_vnd: int
    inspection: str  # "allow" | "forbid" (opening the parcel)
    note: str = ""


@dataclass(frozen=True)
class Quote:
    fee_vnd: int
    expected_delivery: datetime | None


@dataclass(frozen=True)
class Booking:
    tracking_code: str
    fee_vnd: int
    expected_delivery: datetime | None


class CarrierError(Exception):
    """A carrier call failed. `message` is plain text for the operator's log (the carrier's own
    words included); `retryable` says whether trying again later may succeed; `retry_after`
    (seconds) is the carrier's own hint when it gave one. `status` is the HTTP status when the
    carrier answered at all."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        retry_after: float | None = None,
        status: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.status = status


class CarrierAuthError(CarrierError):
    """Bad or expired token, wrong shop id: the operator must fix the account; not retryable."""


class CarrierValidationError(CarrierError):
    """The carrier refused the request's content (a missing ward, a bad phone…); not retryable.
    `field` names the carrier's field when it can be told (e.g. "to_ward_code", "order.ward")."""

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message, status=status)
        self.field = field


class CarrierRateLimited(CarrierError):
    """Too many calls: retry after `retry_after` seconds (the carrier's Retry-After) or later."""

    default_retryable = True


class CarrierUnavailable(CarrierError):
    """5xx, a timeout, a refused or broken connection, an answer that is not the protocol's."""

    default_retryable = True


@runtime_checkable
class CarrierAdapter(Protocol):
    kind: str  # "ghn" | "ghtk"

    def quote(self, parcel: Parcel) -> Quote: ...

    def create_shipment(self, parcel: Parcel) -> Booking:
        """Idempotent on parcel.order_code: a second call for the same order code returns the
        existing booking, never a second one."""
        ...

    def cancel_shipment(self, tracking_code: str) -> None:
        """Cancelling a shipment already cancelled succeeds; one already picked up raises
        CarrierError (not retryable)."""
        ...

    def shipment_status(self, tracking_code: str) -> str:
        """The carrier's own status word or number, as text ("delivering", "5")."""
        ...


CARRIER_KINDS: dict[str, str] = {
    "ghn": "Giao Hàng Nhanh",
    "ghtk": "Giao Hàng Tiết Kiệm",
}

# The carriers' production API roots; never called by the tests (which use local stand-ins).
DEFAULT_BASE_URLS: dict[str, str] = {
    "ghn": "https://online-gateway.ghn.vn/shiip/public-api/v2",
    "ghtk": "https://services.giaohangtietkiem.vn",
}


def _factories() -> dict[str, Callable[..., CarrierAdapter]]:
    from .ghn import GHNAdapter
    from .ghtk import GHTKAdapter

    return {"ghn": GHNAdapter, "ghtk": GHTKAdapter}


def adapter_for(
    kind: str, *, base_url: str, credentials: dict[str, str], timeout: float = 15.0
) -> CarrierAdapter:
    """The adapter of a carrier kind. credentials: GHN {"token", "shop_id"}; GHTK {"token"}.

    Raises KeyError (an unknown kind) or ValueError (a base URL that is not http(s), a missing
    credential, a timeout that is not positive): configuration errors, found before any call."""
    factories = _factories()
    if kind not in factories:
        raise KeyError(f"unknown carrier kind {kind!r}; known: {', '.join(sorted(factories))}")
    return factories[kind](base_url=base_url, credentials=credentials, timeout=timeout)
