"""Hook points where later packages join the order flow without orders importing them.

A package registers callables from its `init_app` (`register(app, "packed", fn)`); orders calls
them inside the same transaction as the change (`run("packed", order, data, actor)`). Hooks:

- "pack_choices"(shop) -> list[(value, label)]: extra choices offered when packing (e.g. the
  logistics partners the shop ships with; the first is the default);
- "packed"(order, data, actor): the order was packed (data: the posted form, e.g. "partner");
- "cancelled"(order): the order was cancelled;
- "buyer_panels"(order) -> list[Markup]: panels on the buyer's order page (e.g. the tracking timeline);
- "seller_panels"(order) -> list[Markup]: panels on the shop's order page (e.g. the carrier's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app


def register(app: Flask, name: str, fn: Callable[..., Any]) -> None:
    app.extensions.setdefault("order_hooks", {}).setdefault(name, []).append(fn)


def run(name: str, *args: Any, **kwargs: Any) -> list[Any]:
    """Call every hook registered under `name`; returns their results in registration order."""
    return [fn(*args, **kwargs) for fn in current_app.extensions.get("order_hooks", {}).get(name, [])]


def collect(name: str, *args: Any, **kwargs: Any) -> list[Any]:
    """The concatenated lists the hooks under `name` return."""
    out: list[Any] = []
    for result in run(name, *args, **kwargs):
        out.extend(result or [])
    return out
