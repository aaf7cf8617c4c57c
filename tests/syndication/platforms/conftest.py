"""Fixtures of the adapter tests: the stand-ins, and the third-party clients that prove them."""

from __future__ import annotations

import importlib
import sys
import types

import pytest

from tests.syndication.platforms.standins import LazadaStandin, ShopeeStandin, TikiStandin


@pytest.fixture
def shopee():
    with ShopeeStandin() as standin:
        yield standin


@pytest.fixture
def lazada():
    with LazadaStandin() as standin:
        yield standin


@pytest.fixture
def tiki():
    with TikiStandin() as standin:
        yield standin


@pytest.fixture(scope="session")
def lazop(tmp_path_factory):
    """Lazada's official SDK. It creates ~/logs and opens a log file there at import: give it a
    temporary HOME for that moment (the module, once imported, keeps that folder)."""
    home = tmp_path_factory.mktemp("lazop-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        module = importlib.import_module("lazop_sdk")
    yield module
    for handler in list(module.base.logger.handlers):
        handler.close()
        module.base.logger.removeHandler(handler)


@pytest.fixture(scope="session")
def pyshopee2():
    """pyshopee's Shopee v2 client (package pyshopee, module pyshopee2). Its client module imports
    selenium at the top for one helper (get_code drives a desktop browser through the
    authorisation page); nothing we call touches it, so an empty stand-in module satisfies the
    import. Everything that signs and sends is pyshopee's own code."""
    stub = types.ModuleType("selenium")
    stub.webdriver = types.ModuleType("selenium.webdriver")  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as patch:
        if "selenium" not in sys.modules:
            patch.setitem(sys.modules, "selenium", stub)
            patch.setitem(sys.modules, "selenium.webdriver", stub.webdriver)
        module = importlib.import_module("pyshopee2")
    return module
