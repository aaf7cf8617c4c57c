"""Dashboards and reports: the producer's figures on /kenh-ban/<shop>/, the operator's console
on /quan-tri/, the province's report, and the audit log's pages.

The last package: it reads what sellers, catalog, orders, logistics, syndication and govqa store
(SQL aggregates over their tables, days in the floor's zone — see `periods`), and plugs its pages
into theirs through `app.extensions` ("seller_dashboard", "operator_links"…); none of them imports
it. Charts are SVG drawn here (`charts`).

`app.extensions["dashboard_queries"]` names every query a dashboard runs, so `bench/
dashboards_bench.py` times exactly those: name -> DashboardQuery(scope, run), where `run(period,
shop_id)` returns the figure (shop_id is None for the floor-wide ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from flask import Flask

from .periods import Period


@dataclass(frozen=True)
class DashboardQuery:
    scope: Literal["shop", "floor"]
    run: Callable[[Period, int | None], Any]


def register_query(
    app: Flask, name: str, scope: Literal["shop", "floor"], run: Callable[[Period, int | None], Any]
) -> None:
    queries: dict[str, DashboardQuery] = app.extensions.setdefault("dashboard_queries", {})
    if name in queries:
        raise RuntimeError(f"dashboard query {name!r} registered twice")
    queries[name] = DashboardQuery(scope, run)


def init_app(app: Flask) -> None:
    app.extensions.setdefault("dashboard_queries", {})
    from . import audit_views

    audit_views.init_app(app)  # the audit log's pages (/quan-tri/nhat-ky)
    from . import operator_views

    operator_views.init_app(app)  # the operator's console and the province report (/quan-tri/)
    from . import producer_views

    producer_views.init_app(app)  # the producer dashboard on /kenh-ban/<shop>/
