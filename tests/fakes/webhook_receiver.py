"""An app's webhook receiver: a real HTTP server on loopback, in a thread of the test process.

It verifies every delivery as a receiving app would, with Svix's own package
(`svix.webhooks.Webhook(secret).verify(body, headers)`, which checks the signature and the
timestamp window against the real clock), and records what arrived. It can be told to
answer 500 to the next requests, or to those a predicate picks, so tests can watch
retries, ordering and disabling.
"""

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from svix.webhooks import Webhook, WebhookVerificationError

JSON = dict[str, Any]


@dataclass(frozen=True)
class Arrival:
    """One request the receiver got, and what it answered."""

    webhook_id: str
    body: JSON
    headers: dict[str, str]
    is_verified: bool
    status: int

    @property
    def type(self) -> str:
        """The event's type."""
        value: str = self.body["type"]
        return value

    @property
    def account_id(self) -> str:
        """The account the event is about."""
        value: str = self.body["data"]["account_id"]
        return value


class Server(ThreadingHTTPServer):
    """A threading server whose accept queue holds every worker's parallel sends at once.

    The default queue of 5 resets connections past it, and the workers' sends of one round
    (16 each) would see failures of the test's own making.
    """

    request_queue_size = 128


class Receiver:
    """Records deliveries; answers 204, or 500 while told to fail."""

    def __init__(self) -> None:
        self.secret: str | None = None
        """The endpoint's signing secret, set once the endpoint is created."""
        self.arrivals: list[Arrival] = []
        self.failures_left = 0
        """Answer 500 to this many more requests."""
        self.refuse: Callable[[JSON], bool] | None = None
        """Answer 500 to the requests whose body this picks."""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where to send deliveries."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def __enter__(self) -> Self:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver.take(raw, headers)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads `arrivals`, not the log."""

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def take(self, raw: bytes, headers: dict[str, str]) -> int:
        """Verify and record one request; the status to answer."""
        body: JSON = json.loads(raw)
        try:
            assert self.secret is not None
            Webhook(self.secret).verify(raw, headers)
            is_verified = True
        except WebhookVerificationError:
            is_verified = False
        with self._lock:
            failing = self.failures_left > 0 or (self.refuse is not None and self.refuse(body))
            if self.failures_left > 0:
                self.failures_left -= 1
            status = 500 if failing or not is_verified else 204
            self.arrivals.append(
                Arrival(
                    webhook_id=headers.get("webhook-id", ""),
                    body=body,
                    headers=headers,
                    is_verified=is_verified,
                    status=status,
                )
            )
        return status

    def delivered(self) -> list[Arrival]:
        """The requests answered 2xx, in arrival order."""
        with self._lock:
            return [a for a in self.arrivals if a.status < 300]


def receiving() -> Iterator[Receiver]:
    """A started receiver, stopped after (for fixtures)."""
    with Receiver() as receiver:
        yield receiver
