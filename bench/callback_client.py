"""Callback POSTs per second: the deadline-bound client (delivery/posting.py) against requests.Session.

Both POST the same signed-size body to a local keep-alive HTTP/1.1 receiver, one thread, --n requests per
round, rounds interleaved (--rounds); medians of each round's requests/s and of the per-request latency.
requests.Session is the baseline: it is what callbacks used before the total deadline.

    /work/main/.venv/bin/python bench/callback_client.py [--n 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from moderation.delivery.posting import CallbackClient  # noqa: E402

BODY = b'{"event":"comment.decided","comment":{"id":"' + b"x" * 28 + b'","status":"approved","reasons":[]}}'


class _Receiver(BaseHTTPRequestHandler):
    """Reads the body, answers 204, keeps the connection."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


def _round(post: object, url: str, n: int) -> tuple[float, float]:
    """(requests per second, median latency in ms) of n sequential POSTs."""
    latencies = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        post(url)  # type: ignore[operator]
        latencies.append((time.perf_counter() - t0) * 1000)
    return n / (time.perf_counter() - started), statistics.median(latencies)


def main() -> None:
    """Interleave the two clients' rounds and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    headers = {"Content-Type": "application/json"}
    ours = CallbackClient(deadline=5.0)
    session = requests.Session()
    clients = {
        "deadline client (ours)": lambda u: ours.post(u, BODY, headers),
        "requests.Session (baseline)": lambda u: session.post(u, data=BODY, headers=headers, timeout=5.0),
    }
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
    for _ in range(args.rounds):
        for name, post in clients.items():
            figures[name].append(_round(post, url, args.n))
    for name, rounds in figures.items():
        rate = statistics.median(r for r, _ in rounds)
        latency = statistics.median(m for _, m in rounds)
        print(f"{name:30s} {rate:8.0f} POSTs/s   median {latency:.3f} ms per POST  ({args.rounds} rounds of {args.n})")
    server.shutdown()


if __name__ == "__main__":
    main()
