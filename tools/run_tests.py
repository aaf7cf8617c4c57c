#!/usr/bin/env python3
"""`make test`: bring up the test services, run the whole suite on SQLite and on PostgreSQL.

Steps (stdlib only, Python 3.11):
  1. system packages: Debian's PostgreSQL server, Chromium and redis-server (apt-get as root when
     missing);
  2. services on 127.0.0.1, free ports, temp dirs: a throwaway PostgreSQL, localstripe, and the
     search engine nodes of tools/search_node.py when that tool exists;
  3. pytest on SQLite (everything, e2e included) and, at the same time, on PostgreSQL (`-m "not
     e2e"`, and only the tests that touch a database: TEST_DATABASE_ONLY=1, see tests/conftest.py);
  4. a summary line per run; exit non-zero if any run or (under CI=true) any service failed.

Usage
    python tools/run_tests.py                       # what `make test` runs
    python tools/run_tests.py -- -k listing -x      # extra pytest args after `--`
    PYTEST_ARGS="-k listing" python tools/run_tests.py
    python tools/run_tests.py --only sqlite         # one database only
    python tools/run_tests.py --no-engines          # do not start search engine nodes
    TEST_PARALLEL=0 python tools/run_tests.py       # one database after the other (or --no-parallel)

Environment for the tests: TEST_DATABASE_URL (PostgreSQL pass only), STRIPE_API_BASE,
STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, OPENSEARCH_TEST_URL, ELASTICSEARCH_TEST_URL; CI passes
through. SEARCH_ENGINES=opensearch,elasticsearch (or empty for none) overrides which nodes start.
"""

from __future__ import annotations

import argparse
import atexit
import concurrent.futures
import contextlib
import importlib.util
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"
sys.path.insert(0, str(TOOLS))

import pg  # noqa: E402  (tools/pg.py, next to this file)

CHROMIUM = Path("/usr/bin/chromium")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Vietnamese glyphs in screenshots
ON_CI = os.environ.get("CI") == "true"


def say(message: str) -> None:
    print(f"[run_tests] {message}", flush=True)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


class SetupError(RuntimeError):
    pass


@dataclass
class Run:
    name: str
    status: str = "not run"
    exit_code: int | None = None
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("PASS", "EMPTY")

    def line(self) -> str:
        c = self.counts
        if c:
            detail = (
                f"{c['passed']} passed, {c['failed']} failed, {c['errors']} errors, {c['skipped']} skipped"
            )
        else:
            detail = "no result file (pytest did not finish)"
        return f"{self.name:<9} {self.status:<5} {detail} in {self.seconds:.1f}s (exit {self.exit_code})"


# ------------------------------------------------------------------------------ system packages


def ensure_system_packages(run_dir: Path) -> str:
    missing = []
    if pg.find_bindir() is None:
        missing.append("postgresql")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append("chromium")
    # The search-engine node is built with Maven and runs on Java (both come with this machine
    # kind, but a fresh Debian may lack them).
    if shutil.which("java") is None:
        missing.append("default-jdk-headless")
    if shutil.which("mvn") is None:
        missing.append("maven")
    if shutil.which("redis-server") is None:  # the page cache's shared store (test_page_cache_redis.py)
        missing.append("redis-server")
    if not missing:
        return "present"
    if not FONT.exists():
        missing.append("fonts-dejavu-core")
    if os.geteuid() != 0:
        raise SetupError(
            f"missing system packages: {', '.join(missing)}; as root run:\n"
            f"    apt-get update && apt-get install -y --no-install-recommends {' '.join(missing)}"
        )
    log = run_dir / "apt.log"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    options = ["-q", "-o", "Dpkg::Use-Pty=0", "-o", "DPkg::Lock::Timeout=300"]
    say(f"installing {' '.join(missing)} with apt-get (log: {log})")
    with open(log, "ab") as fh:
        for cmd in (
            ["apt-get", *options, "update"],
            ["apt-get", *options, "install", "-y", "--no-install-recommends", *missing],
        ):
            fh.write(f"$ {shlex.join(cmd)}\n".encode())
            fh.flush()
            rc = subprocess.run(
                cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            ).returncode
            if rc != 0:
                raise SetupError(f"{shlex.join(cmd)} failed (rc={rc}); {log}:\n{tail(log)}")
    still = [
        p
        for p, ok in (
            ("postgresql", pg.find_bindir() is not None),
            ("chromium", os.access(CHROMIUM, os.X_OK)),
        )
        if not ok
    ]
    if still:
        raise SetupError(f"apt-get succeeded but {', '.join(still)} still missing; {log}:\n{tail(log)}")
    return f"installed {' '.join(missing)}"


# ------------------------------------------------------------------------------ services


class Services:
    """Everything started here, stopped once, in reverse order, whatever happens."""

    def __init__(self) -> None:
        self._stops: list[tuple[str, callable]] = []
        self._stopped = False

    def add(self, name: str, stop) -> None:
        if self._stopped:  # finished starting after we began stopping (a search node): stop it now
            stop()
            return
        self._stops.append((name, stop))

    def stop_all(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for name, stop in reversed(self._stops):
            try:
                stop()
            except Exception as exc:  # keep stopping the others
                say(f"stopping {name} failed: {exc!r}")


def start_postgres(services: Services) -> tuple[str, str]:
    """(description, TEST_DATABASE_URL)"""
    server = pg.TempPostgres()
    services.add("postgresql", server.stop)
    server.start()
    url = server.create_database("marketplace_test")
    return f"PostgreSQL {server.bindir.parent.name} on 127.0.0.1:{server.port}", url


def start_localstripe(services: Services, run_dir: Path) -> tuple[str, dict[str, str]]:
    """(description, environment for the tests)"""
    if importlib.util.find_spec("localstripe") is None:
        raise SetupError("localstripe is not installed (it is in requirements-dev.lock: run `make venv-dev`)")
    log_path = run_dir / "localstripe.log"
    # Through tools/localstripe_loopback.py: localstripe's own command binds every interface and
    # pickles its store to a fixed /tmp path.
    launcher = Path(__file__).resolve().parent / "localstripe_loopback.py"
    for _attempt in range(3):
        port = pg.free_port()
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(
                [sys.executable, str(launcher), "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=run_dir,
                start_new_session=True,
                preexec_fn=pg.die_with_parent(signal.SIGTERM),
            )
        finally:
            log.close()
        services.add("localstripe", lambda proc=proc: _stop_process(proc))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            request = urllib.request.Request(
                base + "/v1/customers?limit=1", headers={"Authorization": "Bearer sk_test_localstripe"}
            )
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return base, {
                            "STRIPE_API_BASE": base,
                            "STRIPE_SECRET_KEY": "sk_test_localstripe",
                            "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe",
                        }
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        _stop_process(proc)
    raise SetupError(f"localstripe did not answer; {log_path}:\n{tail(log_path)}")


def _stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def search_engines(module) -> list[str]:
    """Engines to start: SEARCH_ENGINES if set, else what tools/search_node.py says it supports."""
    if "SEARCH_ENGINES" in os.environ:
        return [e.strip() for e in os.environ["SEARCH_ENGINES"].split(",") if e.strip()]
    for name in ("SUPPORTED_ENGINES", "TEST_ENGINES"):
        if hasattr(module, name):
            return list(getattr(module, name))
    for name in ("supported_engines", "available_engines"):
        if callable(getattr(module, name, None)):
            return list(getattr(module, name)())
    return list(getattr(module, "ENGINES", {"opensearch": None}))


def start_search_nodes(
    services: Services, run_dir: Path, pool
) -> tuple[str, dict[str, concurrent.futures.Future]]:
    """Start the nodes in the background (they take a while): (description, {engine: future of (url, seconds)})."""
    if not (TOOLS / "search_node.py").exists():
        return "no tools/search_node.py", {}
    import search_node  # tools/search_node.py

    futures = {}
    for engine in search_engines(search_node):

        def start(engine=engine):
            t0 = time.monotonic()
            url, proc = search_node.start_node(engine, run_dir / f"search-{engine}", port=0)
            services.add(engine, lambda: search_node.stop_node(proc))
            return url, time.monotonic() - t0

        futures[engine] = pool.submit(start)
    return ", ".join(futures) or "none", futures


# ------------------------------------------------------------------------------ pytest


def with_marker(args: list[str], expr: str) -> list[str]:
    """Add `-m expr`, and-ed with a -m the caller already gave (pytest keeps only the last -m)."""
    rest, given, i = [], None, 0
    while i < len(args):
        arg = args[i]
        if arg == "-m" and i + 1 < len(args):
            given, i = args[i + 1], i + 2
            continue
        if arg.startswith("-m") and not arg.startswith("--") and len(arg) > 2:
            given, i = arg[2:], i + 1
            continue
        rest.append(arg)
        i += 1
    return [*rest, "-m", f"({given}) and ({expr})" if given else expr]


def read_counts(junit: Path) -> dict:
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return {}
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    return {
        "passed": total["tests"] - total["failures"] - total["errors"] - total["skipped"],
        "failed": total["failures"],
        "errors": total["errors"],
        "skipped": total["skipped"],
        "tests": total["tests"],
    }


class PytestProcess:
    """One pytest run: output to our terminal, or to a log file printed when it ends (--parallel)."""

    def __init__(self, run: Run, args: list[str], env: dict, run_dir: Path, *, to_log: bool = False):
        self.run = run
        self.junit = run_dir / f"junit-{run.name}.xml"
        self.log = run_dir / f"pytest-{run.name}.log" if to_log else None
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={run_dir / ('pytest-' + run.name)}",
            f"--junitxml={self.junit}",
            *args,
        ]
        say(f"{run.name}: {shlex.join(cmd[1:])}" + (f"  (output: {self.log})" if self.log else ""))
        self.t0 = time.monotonic()
        out = open(self.log, "wb") if self.log else None
        try:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT if out else None
            )
        finally:
            if out:
                out.close()
        self.ended: float | None = None
        # Notes when pytest ends even while we wait on the other run (--parallel timings).
        self._watch = threading.Thread(target=self._note_end, name=f"pytest-{run.name}", daemon=True)
        self._watch.start()

    def _note_end(self) -> None:
        self.proc.wait()
        self.ended = time.monotonic()

    @staticmethod
    def interrupt_all(processes: list[PytestProcess], timeout: float = 30.0) -> None:
        """Ctrl+C or SIGTERM: let pytest tear its fixtures down before we stop the services."""
        for process in processes:
            if process.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.proc.send_signal(signal.SIGINT)  # a terminal Ctrl+C already did; SIGTERM did not
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.proc.kill()
                process.proc.wait()

    def wait(self) -> None:
        run = self.run
        while self._watch.is_alive():
            self._watch.join(0.5)
        run.exit_code = self.proc.returncode
        run.seconds = (self.ended or time.monotonic()) - self.t0
        if self.log:
            print(f"\n----- {run.name} run output ({self.log}) -----", flush=True)
            sys.stdout.write(self.log.read_text(errors="replace"))
            sys.stdout.flush()
        run.counts = read_counts(self.junit)
        if run.exit_code == 0:
            run.status = "PASS"
        elif run.exit_code == 5:
            run.status = "EMPTY"  # judged in finish(): an empty run fails unless the caller filtered it
        else:
            run.status = "FAIL"


# ------------------------------------------------------------------------------ main


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" in argv:
        cut = argv.index("--")
        ours, extra = argv[:cut], argv[cut + 1 :]
    else:
        ours, extra = argv, []
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="run on one database only")
    parser.add_argument("--no-engines", action="store_true", help="do not start search engine nodes")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs, pytest tmp dirs)")
    # Two passes at once take ~60 % of the time of one after the other on two cores: each waits
    # on its database, the browser or a search node much of the time.
    parser.add_argument(
        "--parallel",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("TEST_PARALLEL", "1") != "0",
        help="run the SQLite and PostgreSQL passes at the same time (the default; TEST_PARALLEL=0 "
        "or --no-parallel for one after the other); the PostgreSQL output is printed when it ends",
    )
    args, unknown = parser.parse_known_args(ours)
    extra = shlex.split(os.environ.get("PYTEST_ARGS", "")) + unknown + extra
    return args, extra


def _interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


class Report:
    def __init__(self) -> None:
        self.phases: list[tuple[str, str, float]] = []
        self.problems: list[str] = []

    def phase(self, name: str, fn, *, required: bool = True):
        """Run one setup step, timed. A failure is a problem if required, or always under CI."""
        t0 = time.monotonic()
        try:
            result = fn()
        except Exception as exc:
            seconds = time.monotonic() - t0
            self.phases.append((name, "FAILED", seconds))
            if required or ON_CI:
                self.problems.append(f"{name}: {exc}")
            say(f"{name} FAILED after {seconds:.1f}s: {exc}")
            return None
        self.phases.append(
            (name, result[0] if isinstance(result, tuple) else str(result), time.monotonic() - t0)
        )
        return result


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    run_dir = Path(tempfile.mkdtemp(prefix="marketplace-test-run-"))
    services = Services()
    atexit.register(services.stop_all)
    # SIGTERM (CI cancelling, `kill`) unwinds like Ctrl+C so the finally below stops everything.
    # SIGINT too, even when a shell started us in the background with SIGINT ignored: our children
    # then get the default disposition back, so pytest can be interrupted and tear down.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    report = Report()
    runs = [Run(name) for name in ("sqlite", "postgres") if args.only in (None, name)]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="search-node")
    env = dict(os.environ)
    env.pop("TEST_DATABASE_URL", None)
    code, keep = 1, True
    running: list[PytestProcess] = []
    try:
        report.phase("system packages", lambda: ensure_system_packages(run_dir))
        if report.problems:
            return finish(runs, report, started, run_dir)
        futures = {}
        if not args.no_engines:
            launched = report.phase(
                "search nodes (launch)", lambda: start_search_nodes(services, run_dir, pool), required=False
            )
            futures = launched[1] if launched else {}
        pg_url = None
        if any(r.name == "postgres" for r in runs):
            started_pg = report.phase("postgresql", lambda: start_postgres(services))
            if started_pg:
                pg_url = started_pg[1]
        stripe = report.phase("localstripe", lambda: start_localstripe(services, run_dir), required=False)
        if stripe:
            env.update(stripe[1])
        for engine, future in futures.items():
            node = report.phase(f"{engine} node", lambda future=future: future.result(), required=False)
            if node:
                url, seconds = node
                env[f"{engine.upper()}_TEST_URL"] = url
                report.phases[-1] = (f"{engine} node", url, seconds)  # its own start time, not our wait
        if report.problems:
            say("a service failed: the tests that need it will fail too; running them anyway")

        for run in runs:
            run_env, run_args = dict(env), list(extra)
            if run.name == "postgres":
                if pg_url is None:
                    run.status = "FAIL"
                    continue
                run_env["TEST_DATABASE_URL"] = pg_url
                # The browser test drives the same views on SQLite; once is enough. So do the
                # tests that never touch a database (tests/conftest.py), when SQLite runs too.
                run_args = with_marker(run_args, "not e2e")
                if any(r.name == "sqlite" for r in runs):
                    run_env["TEST_DATABASE_ONLY"] = "1"
            to_log = args.parallel and run is not runs[0]
            running.append(PytestProcess(run, run_args, run_env, run_dir, to_log=to_log))
            if not args.parallel:
                running[-1].wait()
        if args.parallel:
            for process in running:
                process.wait()
        code = finish(runs, report, started, run_dir, filtered=bool(extra))
        keep = code != 0 or args.keep
        return code
    except KeyboardInterrupt:
        say("interrupted")
        PytestProcess.interrupt_all(running)
        return 130
    finally:
        t0 = time.monotonic()
        services.stop_all()
        pool.shutdown(wait=True, cancel_futures=True)  # a node still starting stops as it registers
        say(f"services stopped in {time.monotonic() - t0:.1f}s")
        if keep:
            say(f"logs and pytest tmp dirs kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


def finish(runs: list[Run], report: Report, started: float, run_dir: Path, *, filtered: bool = False) -> int:
    # Exit 5 (nothing collected) is a failure; with caller filters only if every run was empty.
    if not filtered or all(r.status == "EMPTY" for r in runs):
        for r in runs:
            if r.status == "EMPTY":
                r.status = "FAIL"
    failed = [r for r in runs if not r.ok] or report.problems
    print("\n" + "=" * 30 + " make test summary " + "=" * 30, flush=True)
    for name, result, seconds in report.phases:
        print(f"  setup     {name:<22} {seconds:6.1f}s  {result}")
    for problem in report.problems:
        print(f"  PROBLEM   {problem.splitlines()[0]}")
    for run in runs:
        print(f"  {run.line()}")
    print(f"  total {time.monotonic() - started:.1f}s: {'FAILED' if failed else 'OK'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
