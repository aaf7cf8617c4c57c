"""`make run`'s console: the address, where search and mail go, the demo accounts printed once;
mail files named by one scheme."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from demo import _without_credentials
from marketplace.mail import mail_file
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("mail:order-new-shop:12", "mail-order-new-shop_12.eml"),
        ("qa-mail:7:3", "mail-qa_7_3.eml"),
        ("mail.send:0ecd08ede9bf434b", "mail-0ecd08ede9bf434b.eml"),
        ("mail:shipment-event:1:demo-DH1-0:shop", "mail-shipment-event_1_demo-DH1-0_shop.eml"),
        ("complaint:4:buyer", "mail-complaint_4_buyer.eml"),
        ("../../etc/passwd:x", "mail-etc-passwd_x.eml"),
    ],
)
def test_every_mail_file_is_named_by_one_scheme(app, key, name):
    path = mail_file(key)
    assert path.name == name and path.parent == Path(app.config["MAIL_DIR"])


def test_loading_without_accounts_leaves_the_table_to_the_server(runner):
    result = runner.invoke(args=["demo", "load", "--no-accounts"])
    assert result.exit_code == 0, result.output
    assert "operator@demo.vn" not in result.output and "demo accounts" in result.output.lower()


def test_the_setup_lines_say_which_search_and_where_mail_goes(app, runner):
    result = runner.invoke(args=["demo", "setup"])
    assert result.exit_code == 0, result.output
    search, mail = result.output.strip().splitlines()
    assert search.startswith("Search:  the built-in index ") and app.config["SEARCH_EMBEDDED_PATH"] in search
    assert mail.startswith("Mail:    ") and app.config["MAIL_DIR"] in mail


def test_an_engine_address_is_shown_without_its_password():
    assert (
        _without_credentials("https://elastic:s3cret@search.example.vn:9200/")
        == "https://search.example.vn:9200/"
    )
    assert _without_credentials("http://127.0.0.1:9200") == "http://127.0.0.1:9200"


def _flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_run_console_prints_the_accounts_once_and_a_search_line(tmp_path):
    """What `make run` does, in a fresh instance folder: migrate, load the demo without its table,
    start the launcher, read its console until it says it is serving, stop it with Ctrl+C."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith(("_URL", "DATABASE_URL"))},
        "INSTANCE_PATH": str(tmp_path),
        "MARKETPLACE_ENV": "local",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("BASE_URL", None)
    assert _flask(env, "db", "upgrade").returncode == 0
    loaded = _flask(env, "demo", "load", "--no-accounts")
    assert loaded.returncode == 0, loaded.stderr
    launcher = subprocess.Popen(
        [sys.executable, "tools/run_local.py", "--port", str(port), "--workers", "1", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        assert launcher.stdout is not None
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if "Ctrl+C stops" in line:
                break
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            rest, _ = launcher.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            launcher.kill()
            rest, _ = launcher.communicate()
    console = "\n".join(lines)
    everything = loaded.stdout + console + rest
    assert f"The marketplace is running at http://127.0.0.1:{port}/" in console
    assert everything.count("operator@demo.vn") == 1  # the accounts, once
    assert everything.count("Demo carrier partner") == 1
    assert f"http://127.0.0.1:{port}/api/v1/logistics/orders" in console  # the real port, not 5000
    search = next(line for line in lines if line.strip().startswith("Search:"))
    assert f"{tmp_path}/search.sqlite" in search
    assert next(line for line in lines if line.strip().startswith("Mail:")).endswith(
        f"{tmp_path}/mail/mail-*.eml"
    )
    assert launcher.returncode == 0
