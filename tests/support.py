"""Helpers the tests share: a registered site, signed requests, a recording HTTP receiver."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from moderation.delivery import signing

SERVER_POLL = 0.02
"""Seconds a test's HTTP server sleeps between looks for shutdown (socketserver's 0.5 s default was added to the
teardown of every test with a callback receiver or a served app)."""


def serve_in_thread(server: Any) -> threading.Thread:
    """Run a socketserver-style server's ``serve_forever`` in a daemon thread that stops promptly on shutdown."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SERVER_POLL}, daemon=True)
    thread.start()
    return thread


@dataclass
class Site:
    """A registered site with its credentials."""

    id: int
    slug: str
    secret: str
    api_key: str


@dataclass
class Receiver:
    """A real local HTTP server standing in for a news site's callback endpoint."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    together: threading.Barrier | None = None
    """When set, each request waits at this barrier and is answered 503 if the barrier breaks (times out)."""

    def next_status(self) -> int:
        """The scripted answer for the next request (200 once the script runs out)."""
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies received so far."""
        return [json.loads(r["body"]) for r in self.requests]


def signed_request(client: FlaskClient, site: Site, method: str, path: str, payload: Any = None,
                   raw: bytes | None = None, content_type: str = "application/json",
                   headers: dict[str, str] | None = None) -> Any:
    """Send a request signed with the site's secret, as a news site would."""
    body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
    all_headers = signing.signed_headers(site.slug, site.secret, method, path, body)
    if method != "GET":
        all_headers["Content-Type"] = content_type
    all_headers.update(headers or {})
    return client.open(path, method=method, data=body, headers=all_headers)


@contextmanager
def serve_app(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port (werkzeug's threaded server) for real HTTP clients; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = serve_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def write_shared_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    """Write a data.csv laid out like shared/data (text,label,lang,source) for (text, label) rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label", "lang", "source"])
        writer.writerows([(text, label, "id", "test") for text, label in rows])
