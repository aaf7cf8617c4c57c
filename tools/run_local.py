"""`make run`: the web server and the outbox worker as two child processes, stopped together.

Run after `flask db upgrade` and `flask demo load` (the Makefile does both). Starts gunicorn
(`wsgi:app` on 127.0.0.1:PORT, two workers with threads; `flask run` when gunicorn cannot start)
and `flask worker`, prints the address, where search and mail go (`flask demo setup`) and the demo
accounts (once: `make run` loads the demo with `--no-accounts`), forwards Ctrl+C / SIGTERM to both
and waits. If either child dies, the other is stopped and the launcher exits non-zero.
Run by the venv's Python: the programs come from its folder, and PORT is read by the app's own
configuration loader (marketplace/config.py), so `PORT=abc` is refused here as it is by the app."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marketplace.config import ConfigError, env_int  # noqa: E402 - needs ROOT on the path

BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15


def log(message: str) -> None:
    print(f"[run] {message}", flush=True)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    log(f"starting {name}: {' '.join(argv)}")
    # Own process group: the terminal's Ctrl+C reaches only this launcher, which then stops the
    # children in order and can tell a requested stop from a crash.
    return subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for proc in processes.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for name, proc in processes.items():
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in {STOP_TIMEOUT_S}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def web_commands(host: str, port: int, workers: int, threads: int) -> list[tuple[str, list[str]]]:
    """The web server, best first."""
    commands = []
    gunicorn = BIN / "gunicorn"
    if gunicorn.exists() and os.name == "posix":
        commands.append(
            (
                "gunicorn",
                [
                    str(gunicorn),
                    "wsgi:app",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--access-logfile",
                    "-",
                    "--graceful-timeout",
                    "10",
                    # several servers may run on one machine: no shared ~/.gunicorn socket
                    "--no-control-socket",
                ],
            )
        )
    commands.append(
        (
            "flask run",
            [
                str(BIN / "flask"),
                "--app",
                "wsgi",
                "run",
                "--host",
                host,
                "--port",
                str(port),
                "--with-threads",
                "--no-reload",
                "--no-debugger",
            ],
        )
    )
    return commands


def flask_output_process(env: dict[str, str], *command: str) -> subprocess.Popen:
    """A `flask` command whose output is printed later: `demo accounts` runs while the servers
    start; `demo setup` (the search and mail lines) once they serve, so that it sees what the
    worker has indexed meanwhile."""
    return subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def read_output(proc: subprocess.Popen, failed: str) -> str:
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return failed
    return out.strip() if proc.returncode == 0 else failed


def wait_until_serving(
    web: subprocess.Popen, url: str, processes: dict[str, subprocess.Popen], stopping: dict
) -> str:
    """'up', 'stop' (Ctrl+C meanwhile), 'failed' (the web server exited or timed out) or the name
    of another child that died."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if stopping["signal"]:
            return "stop"
        if web.poll() is not None or time.monotonic() > deadline:
            return "failed"
        for name, proc in processes.items():
            if proc is not web and proc.poll() is not None:
                return name
        if healthy(url):
            return "up"
        time.sleep(0.3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: PORT, else 5000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if args.port is None:
        try:
            args.port = env_int("PORT", 5000, minimum=1, maximum=65535)
        except ConfigError as exc:
            parser.error(str(exc))

    url = f"http://{args.host}:{args.port}"
    env = dict(os.environ)
    env.setdefault("MARKETPLACE_ENV", "local")  # cookies without the Secure flag on plain http
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["PORT"] = str(args.port)
    env.setdefault("BASE_URL", url)  # links in mails point at this server
    if not port_is_free(args.host, args.port):
        log(f"port {args.port} is already in use; choose another with `PORT=5050 make run`")
        return 2

    stopping: dict = {"signal": None}

    def request_stop(signum, _frame):
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    table = flask_output_process(env, "demo", "accounts")
    setup: subprocess.Popen | None = None
    processes: dict[str, subprocess.Popen] = {}
    try:
        # The worker needs no port and starts at once; the web server is the one that may fail.
        processes["worker"] = start("worker", [str(BIN / "flask"), "--app", "wsgi", "worker"], env)
        for name, argv in web_commands(args.host, args.port, args.workers, args.threads):
            processes["web"] = start(name, argv, env)
            state = wait_until_serving(processes["web"], url, processes, stopping)
            if state == "up":
                break
            if state == "stop":
                log("stopping")
                return 0
            if state != "failed":
                log(f"{state} exited with code {processes[state].returncode}; stopping the rest")
                return 1
            log(f"{name} did not start (exit code {processes['web'].poll()})")
            stop({"web": processes.pop("web")})
            if not port_is_free(args.host, args.port):
                log(f"port {args.port} is taken")
                return 1
        else:
            log("no web server could start")
            return 1

        setup = flask_output_process(env, "demo", "setup")
        where = read_output(
            setup, "Search:  (could not read the search status: `flask --app wsgi search status`)"
        )
        print(
            f"\n  The marketplace is running at {url}/\n"
            f"  Sign in: {url}/dang-nhap   Seller pages: {url}/kenh-ban/   Operator: {url}/quan-tri/\n"
            + "".join(f"  {line}\n" for line in where.splitlines()),
            flush=True,
        )
        print(read_output(table, "(no demo accounts: run `make demo`)") + "\n", flush=True)
        log("Ctrl+C stops the web server and the worker.")

        while not stopping["signal"]:
            for name, proc in processes.items():
                code = proc.poll()
                if code is not None:
                    log(f"{name} exited with code {code}; stopping the rest")
                    return 1
            time.sleep(0.3)
        log("stopping")
        return 0
    finally:
        for helper in (table, setup):
            if helper is not None and helper.poll() is None:
                helper.kill()
                helper.wait()
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
