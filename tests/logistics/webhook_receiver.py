"""A partner's webhook endpoint on loopback: verifies every request with the official
`standardwebhooks` package and answers what the test scripted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


class Receiver:
    """`answer(message_id, try_number) -> (status, headers)`; default 204."""

    def __init__(
        self, secret: str, answer: Callable[[str, int], tuple[int, dict]] | None = None, delay_s: float = 0.0
    ):
        self.verifier = Webhook(secret)
        self.answer = answer or (lambda _id, _n: (204, {}))
        self.delay_s = delay_s
        self.received: list[dict] = []  # every request: id, headers, payload, verified
        self.lock = threading.Lock()

    def tries(self, message_id: str) -> int:
        with self.lock:
            return sum(1 for r in self.received if r["id"] == message_id)

    def accepted_ids(self) -> set[str]:
        with self.lock:
            return {r["id"] for r in self.received if 200 <= r["status"] < 300}

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = receiver.verifier.verify(body, headers)
                    verified = True
                except Exception:  # noqa: BLE001 - an unverifiable request is refused and recorded
                    payload, verified = None, False
                message_id = headers.get("webhook-id", "")
                with receiver.lock:
                    n = sum(1 for r in receiver.received if r["id"] == message_id) + 1
                status, extra = receiver.answer(message_id, n) if verified else (401, {})
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                with receiver.lock:
                    receiver.received.append(
                        {
                            "id": message_id,
                            "headers": headers,
                            "payload": payload,
                            "verified": verified,
                            "status": status,
                        }
                    )
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
