#!/usr/bin/env python3
"""A throwaway PostgreSQL server for tests: initdb into a temp dir, 127.0.0.1 only, stdlib only.

Python
    from pg import TempPostgres
    with TempPostgres() as pg:          # or pg = TempPostgres(); pg.start(); ...; pg.stop()
        pg.create_database("marketplace_test")
        url = pg.url("marketplace_test")   # postgresql+psycopg://postgres@127.0.0.1:PORT/marketplace_test

CLI (handy for running one package's tests against PostgreSQL by hand)
    python tools/pg.py               # prints TEST_DATABASE_URL=... and waits for Ctrl+C

The server uses Debian's binaries (/usr/lib/postgresql/<newest>/bin, or pg_config/PATH), runs as
the `postgres` user when we are root (postgres refuses to run as root), listens on 127.0.0.1 on a
free port with its unix socket inside the temp dir, and trades durability for speed (fsync=off).
It asks the kernel to stop it if this process dies (PR_SET_PDEATHSIG), so a killed test run does
not leave a server behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_USER = "postgres"
PR_SET_PDEATHSIG = 1


class PostgresError(RuntimeError):
    """Start failure; the message carries the server log tail."""


def _version_key(path: Path) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.]", path.parent.parent.name))


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<ver>/bin with a postgres binary, else pg_config's, else PATH's."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=_version_key)
    if found:
        return found[-1].parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            if out and (Path(out) / "postgres").exists():
                return Path(out)
    postgres = shutil.which("postgres")
    return Path(postgres).parent if postgres else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent(sig: int):
    """A preexec_fn: the kernel sends `sig` to the child when the thread that started it exits.

    Start such children from the main thread only (the signal follows the creating thread)."""

    def _set() -> None:
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return _set


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


class TempPostgres:
    def __init__(
        self, bindir: Path | None = None, *, shared_buffers: str = "32MB", max_connections: int = 100
    ):
        self.bindir = Path(bindir) if bindir else find_bindir()
        if self.bindir is None:
            raise PostgresError("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")
        self.shared_buffers = shared_buffers
        self.max_connections = max_connections
        self.root: Path | None = None
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._as_postgres = os.geteuid() == 0

    # ------------------------------------------------------------------ helpers
    @property
    def log_path(self) -> Path:
        assert self.root is not None
        return self.root / "postgres.log"

    def _user_kwargs(self) -> dict:
        if not self._as_postgres:
            return {}
        return {"user": PG_USER, "group": PG_USER, "extra_groups": []}

    def _bin(self, name: str) -> str:
        return str(self.bindir / name)

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{PG_USER}@127.0.0.1:{self.port}/{database}"

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 60.0) -> TempPostgres:
        self.root = Path(tempfile.mkdtemp(prefix="marketplace-pg-"))
        if self._as_postgres:
            import pwd

            try:
                entry = pwd.getpwnam(PG_USER)
            except KeyError:
                raise PostgresError(
                    f"running as root but there is no {PG_USER!r} user to run PostgreSQL as"
                ) from None
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        data = self.root / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.setdefault("LC_ALL", "C.UTF-8")
        with open(self.log_path, "ab") as log:
            cmd = [
                self._bin("initdb"),
                "-D",
                str(data),
                "-U",
                PG_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
            result = subprocess.run(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                **self._user_kwargs(),
            )
            if result.returncode != 0:  # an old cluster tool or a missing C.UTF-8 locale: no locale then
                shutil.rmtree(data, ignore_errors=True)
                cmd = [c for c in cmd if not c.startswith("--locale")] + ["--no-locale"]
                result = subprocess.run(
                    cmd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    **self._user_kwargs(),
                )
        if result.returncode != 0:
            raise PostgresError(
                f"initdb failed (rc={result.returncode}); {self.log_path}:\n{_tail(self.log_path)}"
            )

        last_error = ""
        for _attempt in range(3):  # a free port can be taken between our probe and the bind
            self.port = free_port()
            cmd = [
                self._bin("postgres"),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                f"shared_buffers={self.shared_buffers}",
                "-c",
                f"max_connections={self.max_connections}",
                "-c",
                "max_wal_size=256MB",
                "-c",
                "log_min_messages=warning",
                "-c",
                "logging_collector=off",
            ]
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(
                    cmd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.root,
                    env=env,
                    start_new_session=True,
                    preexec_fn=die_with_parent(signal.SIGINT),
                    **self._user_kwargs(),
                )
            finally:
                log.close()
            ok, last_error = self._wait_ready(timeout)
            if ok:
                return self
            self._stop_proc()
        raise PostgresError(
            f"PostgreSQL did not start ({last_error}); {self.log_path}:\n{_tail(self.log_path)}"
        )

    def _wait_ready(self, timeout: float) -> tuple[bool, str]:
        deadline = time.monotonic() + timeout
        last = "not ready"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, f"postgres exited with code {self.proc.returncode}"
            result = subprocess.run(
                [
                    self._bin("pg_isready"),
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    PG_USER,
                    "-t",
                    "2",
                ],
                stdin=subprocess.DEVNULL,
            )
            if result.returncode == 0:
                return True, ""
            last = f"pg_isready rc={result.returncode}"
            time.sleep(0.2)
        return False, f"{last} after {timeout:.0f}s"

    def create_database(self, name: str) -> str:
        result = subprocess.run(
            [self._bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, name],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise PostgresError(f"createdb {name} failed: {result.stderr.strip()}")
        return self.url(name)

    def _stop_proc(self, timeout: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)  # fast shutdown: roll back clients, stop
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def stop(self, *, keep: bool = False) -> None:
        self._stop_proc()
        if self.root is not None and not keep:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> int:
    pg = TempPostgres()
    try:
        pg.start()
        url = pg.create_database("marketplace_test")
        print(f"TEST_DATABASE_URL={url}", flush=True)
        print("PostgreSQL is running; Ctrl+C stops it.", file=sys.stderr, flush=True)
        while pg.proc is not None and pg.proc.poll() is None:
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
