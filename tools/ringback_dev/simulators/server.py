"""A small threaded HTTP server that provider simulators build on, with fault injection.

Faults are queued per test (``sim.faults.add("http_429", times=3)``) and consumed one per request,
so a test says exactly what the connector must survive.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ringback_dev.simulators.journeys import JourneyGenerator, TrueCall

log = logging.getLogger(__name__)

FAULT_KINDS = (
    "http_429",  # throttled (with Retry-After where the provider sends one)
    "http_500",
    "http_503",
    "slow",  # answer only after `seconds` (a client timeout should fire)
    "truncate",  # cut the body in half: invalid JSON with a 200
    "provider_error",  # the provider's own error envelope (Binotel: code 106 in an HTTP 200)
    "duplicate_across_pages",  # the next page repeats the last record of the previous one
)


@dataclass
class Fault:
    kind: str
    seconds: float = 0.0


class FaultQueue:
    """Faults to inject, in order, one per request."""

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.injected: list[str] = []

    def add(self, kind: str, times: int = 1, seconds: float = 0.0) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._queue.extend(Fault(kind, seconds) for _ in range(times))

    def take(self) -> Fault | None:
        with self._lock:
            if not self._queue:
                return None
            fault = self._queue.popleft()
            self.injected.append(fault.kind)
            return fault

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode())


class ProviderSimulator:
    """Base of each provider's simulator: routing, auth, faults and the shared journeys."""

    provider = "base"
    retry_after_header: str | None = "1"  # what a 429 says; None: no Retry-After at all
    # Requests closer together than this are throttled (``too_soon``); 0: never.
    min_interval_seconds: float = 0.0

    def __init__(
        self, generator: JourneyGenerator | None = None, *, now: dt.datetime | None = None
    ) -> None:
        self.generator = generator or JourneyGenerator()
        self.faults = FaultQueue()
        self._now = now
        self.requests: list[dict[str, Any]] = []
        # Records that change between pulls: call_id -> fields of TrueCall to replace.
        self.changes: dict[str, dict[str, Any]] = {}
        # A fault the generic dispatcher does not act on, for the provider's handler to apply.
        self.pending_fault: Fault | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._last_request = 0.0
        self._spacing_lock = threading.Lock()

    def too_soon(self) -> bool:
        """Whether this request came within ``min_interval_seconds`` of the previous one."""
        with self._spacing_lock:
            gap = time.monotonic() - self._last_request
            self._last_request = time.monotonic()
        return gap < self.min_interval_seconds

    @property
    def now(self) -> dt.datetime:
        return self._now or dt.datetime.now(dt.UTC)

    def calls_between(self, start: dt.datetime, end: dt.datetime) -> list[TrueCall]:
        """True calls that have started by now, with any changes made since the last pull
        (``changes[call_id] = {"deleted": True}`` removes a call, as a provider's edit does)."""
        calls = self.generator.calls_between(start, min(end, self.now))
        changed = (
            dataclasses.replace(c, **self.changes[c.call_id]) if c.call_id in self.changes else c
            for c in calls
        )
        return [c for c in changed if not c.deleted]

    # To be written by each provider.
    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Response:  # pragma: no cover
        raise NotImplementedError

    def throttled(self) -> Response:
        """The provider's 429 (with Retry-After where it sends one)."""
        after = self.retry_after_header
        return Response(
            429,
            b'{"error":"Too Many Requests"}',
            headers={"Retry-After": after} if after else None,
        )

    def provider_error(self) -> Response:
        return Response.json({"error": "provider error"}, status=500)

    # -- serving ---------------------------------------------------------------------------
    def dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> Response:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        self.requests.append(
            {"method": method, "path": parts.path, "query": query, "headers": headers, "body": body}
        )
        fault = self.faults.take()
        if fault is not None:
            if fault.kind == "http_429":
                return self.throttled()
            if fault.kind in ("http_500", "http_503"):
                return Response(int(fault.kind[-3:]), b'{"error":"server error"}')
            if fault.kind == "slow":
                time.sleep(fault.seconds or 5)
            if fault.kind == "provider_error":
                return self.provider_error()
            if fault.kind == "duplicate_across_pages":
                self.pending_fault = fault
            if fault.kind == "truncate":
                full = self.handle(method, parts.path, query, headers, body)
                return Response(
                    full.status, full.body[: max(1, len(full.body) // 2)], full.content_type
                )
        return self.handle(method, parts.path, query, headers, body)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; return the base URL."""
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    resp = sim.dispatch(self.command, self.path, headers, body)
                except Exception as exc:  # a simulator bug must show, not hang the client
                    log.exception("simulator error")
                    resp = Response.json({"error": f"simulator error: {exc}"}, status=500)
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(resp.body)))
                for k, v in (resp.headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(resp.body)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up first (the "slow" fault is meant to make it time out).
                    log.debug("%s: client went away before the answer", sim.provider)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, fmt: str, *args: Any) -> None:
                # Request lines may carry secrets in the query (GA4's api_secret).
                line = re.sub(r"(secret|key|token|password)=[^&\s]*", r"\1=***", fmt % args)
                log.debug("%s %s", sim.provider, line)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name=f"{self.provider}-simulator"
        )
        self._thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self._server is not None, "simulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ProviderSimulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
