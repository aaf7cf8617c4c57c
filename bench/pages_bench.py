"""Pages benchmark: the storefront under `make run`'s server, against a bare Flask route, in one run.

    .venv/bin/python bench/pages_bench.py [--seconds 5] [--listings 100000] [--no-big] [--keep]

1. The demo province (`flask db upgrade` + `flask demo load`) in a temporary SQLite database.
2. gunicorn exactly as tools/run_local.py starts it for `make run` (2 workers x 4 threads, access
   log on), the page cache as configured by default (`memory://`, per worker).
3. `wrk -t2 -c8` (Debian's `wrk`; installed with apt-get when missing) for --seconds each against:
   a bare Flask app returning a 17 KB page under the same gunicorn settings (run again before each
   page, which is compared with the run just before it: the machine may be shared); home, a category, a
   listing, a shop, the trace page, search, the sitemap and /api/v1/listings, anonymous with a
   warm cache; the same pages signed in as a demo buyer (never cached). Rate limits are off
   (RATELIMIT_ENABLED=0): one client asking as fast as it can is what the limits are there to stop.
4. In process (Flask test client, page cache off): the application time of uncached renders of
   home, a category and a listing (median of 40 after 5 warm-ups).
5. The category page on a 100 000-listing catalogue (bench/search_bench.py's generator) against the
   same page on the demo's catalogue, in process, uncached.

Prints a table of figures beside the targets, with the load average (the machine may be shared).
Not part of `make test`: run it by hand (`make bench-pages`)."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

BARE_APP = """
from flask import Flask

app = Flask(__name__)
BODY = "<!doctype html><html><body>" + "<p>Cam bù Hương Sơn, mật ong rừng, nước mắm.</p>" * 340 + "</body></html>"


@app.get("/")
def bare():
    return BODY
"""


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                return
        except Exception:  # not up yet
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: apt-get install -y wrk", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def wrk(binary: str, url: str, seconds: float, headers: dict[str, str] | None = None) -> tuple[float, str]:
    argv = [binary, "-t2", "-c8", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    note = f"p50 {p50.group(1) if p50 else '?'}"
    if errors:
        note += f", {errors.group(1)} non-2xx"
    return rps, note


class Server:
    """gunicorn with tools/run_local.py's arguments for `make run`, in its own process group."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path):
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=self.log, stderr=self.log, start_new_session=True
        )

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def gunicorn_argv(port: int, module: str) -> list[str]:
    run_local = load_module("run_local", ROOT / "tools" / "run_local.py")
    name, argv = run_local.web_commands("127.0.0.1", port, 2, 4)[0]
    if name != "gunicorn":
        raise RuntimeError("gunicorn is not installed in .venv")
    return [module if a == "wsgi:app" else a for a in argv]


def sign_in_cookie(base: str, email: str, password: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{base}/dang-nhap").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    data = urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": token.group(1) if token else ""}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/dang-nhap", data=data, headers={"Origin": base}))
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session=" not in cookies:
        raise RuntimeError("signing in failed")
    return cookies


def app_time(client, url: str, n: int = 40) -> float:
    for _ in range(5):
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(samples)


def bench_app(db_url: str, workdir: Path):
    from marketplace import create_app

    return create_app(
        {
            "SECRET_KEY": "bench",
            "SERVER_NAME": "localhost",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "MEDIA_ROOT": str(workdir / "media"),
            "MAIL_DIR": str(workdir / "mail"),
            "SEARCH_EMBEDDED_PATH": str(workdir / "search.sqlite"),
            "RATELIMIT_ENABLED": False,
            "PAGE_CACHE_URL": "none",  # the uncached render is what is measured
            "OPENSEARCH_URL": None,
            "ELASTICSEARCH_URL": None,
        }
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="wrk duration per URL")
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--no-big", action="store_true", help="skip the 100 000-listing catalogue")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pages-bench-"))
    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    started_all = time.monotonic()
    env = {
        **os.environ,
        "MARKETPLACE_ENV": "local",
        "INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": f"sqlite:///{workdir / 'demo.db'}",
        "SEARCH_EMBEDDED_PATH": str(workdir / "search.sqlite"),
        "SECRET_KEY": "pages-bench",
        "RATELIMIT_ENABLED": "0",
        "PYTHONPATH": f"{workdir}{os.pathsep}{ROOT}",
    }
    for name in ("OPENSEARCH_URL", "ELASTICSEARCH_URL", "PAGE_CACHE_URL"):
        env.pop(name, None)
    binary = ensure_wrk()
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    rows: list[tuple[str, str, str, bool | None]] = []
    servers: list[Server] = []
    try:
        subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([*flask, "demo", "load"], env=env, cwd=ROOT, check=True, capture_output=True)
        (workdir / "bench_bare.py").write_text(BARE_APP)

        demo_app = bench_app(env["DATABASE_URL"], workdir)
        import logging

        for noisy in ("marketplace.outbox", "alembic", "search"):  # the demo's webhooks have no receiver
            logging.getLogger(noisy).setLevel(logging.ERROR)
        with demo_app.app_context():
            from sqlalchemy import func, select

            from catalog import services
            from catalog.models import Category, Listing
            from demo.loader import demo_accounts, demo_password
            from marketplace import outbox
            from marketplace.extensions import db
            from sellers.models import Shop

            outbox.drain()  # what loading queued (the search index among it), as the worker would
            public = services.public_listings_query().subquery()
            top = db.session.execute(
                select(Category.slug, func.count())
                .join(public, public.c.category_id == Category.id)
                .group_by(Category.slug)
                .order_by(func.count().desc())
            ).first()
            listing = db.session.scalars(services.public_listings_query().order_by(Listing.id)).first()
            shop_slug = db.session.scalar(select(Shop.slug).where(Shop.id == listing.shop_id))
            buyer = next(a for a in demo_accounts() if a["role"] == "buyer" and not a.get("staff_of"))
            urls = {
                "home": "/",
                "category": f"/danh-muc/{top[0]}",
                "listing": f"/san-pham/{listing.slug}",
                "shop": f"/cua-hang/{shop_slug}",
                "trace page": f"/truy-xuat/{listing.slug}",
                "search": "/tim-kiem?q=cam",
                "sitemap": "/sitemap.xml",
                "/api/v1/listings": "/api/v1/listings",
            }
            client = demo_app.test_client()
            uncached = {name: app_time(client, urls[name]) for name in ("home", "category", "listing")}
            demo_category_ms = uncached["category"]
            db.session.remove()

        port = free_port()
        bare = Server(gunicorn_argv(port, "bench_bare:app"), env, workdir, workdir / "bare.log")
        servers.append(bare)
        bare_url = f"http://127.0.0.1:{port}/"
        wait_for(bare_url)
        wrk(binary, bare_url, 1)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web = Server(gunicorn_argv(port, "wsgi:app"), env, ROOT, workdir / "web.log")
        servers.append(web)
        wait_for(f"{base}/healthz")
        # The machine may be shared: each page is measured right after a run of the bare route (the
        # idle server beside it costs nothing), and compared with that run.
        bare_runs: list[float] = []
        page_rows = []
        for name, path in urls.items():
            for _ in range(4):  # each worker stores its own copy: warm both
                urllib.request.urlopen(base + path).read()
            wrk(binary, base + path, 1)
            bare_rps, _note = wrk(binary, bare_url, args.seconds)
            bare_runs.append(bare_rps)
            rps, note = wrk(binary, base + path, args.seconds)
            page_rows.append(
                (
                    f"{name}, anonymous, warm cache (req/s)",
                    f"{rps:,.0f}  ({rps / bare_rps:.0%} of the bare run before it, {bare_rps:,.0f}; {note})",
                    ">= 50 % of bare",
                    rps >= 0.5 * bare_rps,
                )
            )
        rows.append(
            (
                "bare Flask route, 17 KB (req/s)",
                f"{statistics.median(bare_runs):,.0f}  (median of {len(bare_runs)} runs, "
                f"{min(bare_runs):,.0f}-{max(bare_runs):,.0f})",
                "reference",
                None,
            )
        )
        rows.extend(page_rows)
        bare.stop()
        servers.remove(bare)
        cookie = sign_in_cookie(base, buyer["email"], demo_password())
        signed_in = urllib.request.urlopen(urllib.request.Request(base + "/", headers={"Cookie": cookie}))
        if "Đăng xuất" not in signed_in.read().decode():
            raise RuntimeError("the signed-in cookie does not sign in")
        for name, path in urls.items():
            rps, note = wrk(binary, base + path, args.seconds, {"Cookie": cookie})
            rows.append((f"{name}, signed in, uncached (req/s)", f"{rps:,.0f}  ({note})", "measured", None))
        web.stop()
        servers.remove(web)

        for name, ms in uncached.items():
            rows.append((f"{name}, uncached, in process (ms)", f"{ms:.1f}", "<= 10", ms <= 10))

        if not args.no_big:
            search_bench = load_module("search_bench", ROOT / "bench" / "search_bench.py")
            from flask_migrate import upgrade

            big_url = f"sqlite:///{workdir / 'big.db'}"
            big_app = bench_app(big_url, workdir)
            with big_app.app_context():
                upgrade()
                generated = time.monotonic()
                search_bench.generate(big_app, args.listings)
                print(
                    f"generated {args.listings} listings in {time.monotonic() - generated:.0f} s",
                    file=sys.stderr,
                )
                from marketplace.extensions import db

                big_slug = (
                    top[0]
                    if db.session.scalar(select(Category.id).where(Category.slug == top[0]))
                    else "trai-cay"
                )
                big_ms = app_time(big_app.test_client(), f"/danh-muc/{big_slug}")
                db.session.remove()
            limit = 1.5 * demo_category_ms
            rows.append(
                (
                    f"category /danh-muc/{big_slug}, {args.listings:,} listings (ms)",
                    f"{big_ms:.1f}  ({big_ms / demo_category_ms:.2f}x the demo's {demo_category_ms:.1f})",
                    f"<= {limit:.1f} (1.5x)",
                    big_ms <= limit,
                )
            )
    finally:
        for server in servers:
            server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    load_after = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(
        f"\nPages benchmark ({time.monotonic() - started_all:.0f} s; wrk -t2 -c8, {args.seconds:g} s per URL)"
    )
    print(f"{'measure'.ljust(width)}  {'figure'.ljust(vwidth)}  target")
    for name, value, goal, ok in rows:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"{name.ljust(width)}  {value.ljust(vwidth)}  {goal}{mark}")
    print(f"load average (1/5/15 min) before: {load_before}; after: {load_after}; {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
