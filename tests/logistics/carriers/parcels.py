"""A realistic parcel from a Hà Tĩnh shop, for the carrier adapter tests (and the core's)."""

from __future__ import annotations

import dataclasses
from typing import Any

from logistics.carriers import Contact, Item, Parcel

SHOP = Contact(
    name="HTX Cam bù Hương Sơn",
    phone="0912345678",
    street="Thôn 3",
    commune_code="18073",
    commune_name="Xã Sơn Kim 1",
    province_code="42",
    province_name="Hà Tĩnh",
)
BUYER = Contact(
    name="Nguyễn Thị Lan",
    phone="0987654321",
    street="12 Trần Phú",
    commune_code="18070",
    commune_name="Phường Thành Sen",
    province_code="42",
    province_name="Hà Tĩnh",
)


def make_parcel(order_code: str = "HT-250801-0001", **changes: Any) -> Parcel:
    """Two boxes of oranges and a jar of honey, COD 385 000 đ; override any field by name, and the
    receiver's fields with receiver__<field>."""
    receiver_changes = {
        k.removeprefix("receiver__"): changes.pop(k) for k in list(changes) if k.startswith("receiver__")
    }
    parcel = Parcel(
        order_code=order_code,
        pickup=SHOP,
        receiver=dataclasses.replace(BUYER, **receiver_changes),
        items=(
            Item(
                name="Cam bù Hương Sơn (hộp 2 kg)",
                sku="CAM-2KG",
                quantity=2,
                weight_g=2_100,
                value_vnd=150_000,
            ),
            Item(name="Mật ong Hương Sơn 500 ml", sku="MO-500", quantity=1, weight_g=700, value_vnd=60_000),
        ),
        weight_g=4_900,
        length_cm=40,
        width_cm=30,
        height_cm=20,
        cod_vnd=385_000,
        declared_value_vnd=360_000,
        inspection="allow",
        note="Gọi trước khi giao",
    )
    return dataclasses.replace(parcel, **changes)
