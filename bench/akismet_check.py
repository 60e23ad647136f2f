"""Akismet comment-check latency at 100 concurrent checks, against a baseline measured in the same run.

`moderation serve` (gunicorn, the shared-data model) in a temp data dir, like `make run`. Each run sends
--requests comment-checks with real comment texts from shared/data over --concurrency keep-alive
connections (closed loop: each connection sends its next check when the previous answer came back),
every check from its own user_ip. The baseline is `POST /1.1/verify-key` on the same server at the same
concurrency: the same HTTP, WSGI, form parsing and key lookup, but no scoring and no database write, so
the difference is what scoring and recording cost. Figures are medians over --runs runs of each run's
p50/p99 (milliseconds), plus throughput.

A closed loop of 100 connections measures saturation: by Little's law the latency is 100 / throughput, so
p99 <= 20 ms there would need over 5,000 checks/s. What a site sees is the open-loop figure, also printed:
checks sent at a steady --rates (each at its scheduled time, whatever came back), p50/p99 per rate, for
the baseline and for comment-check.

    /work/main/.venv/bin/python bench/akismet_check.py [--requests 2000] [--concurrency 100] [--runs 3]
                                                       [--rates 50,100,200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from urllib.parse import urlencode

import _harness as h

GOAL_P99_MS = 20.0


def _raw(host: str, port: int, path: str, form: dict[str, str]) -> bytes:
    """One pre-built form POST."""
    body = urlencode(form).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def _checks(host: str, port: int, key: str, n: int, seed: int) -> list[bytes]:
    """n comment-checks with real texts, each from its own IP."""
    return [_raw(host, port, "/1.1/comment-check", {
        "api_key": key, "blog": "https://news.example.id",
        "user_ip": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
        "user_agent": "Mozilla/5.0", "comment_type": "comment", "comment_author": f"pembaca{i}",
        "comment_content": text}) for i, text in enumerate(h.sample_texts(n, seed=seed))]


def _measure(host: str, port: int, requests: list[bytes], concurrency: int) -> tuple[float, float, float, int]:
    """(p50 ms, p99 ms, requests/s, non-200 answers) of one closed-loop pass."""
    started = time.perf_counter()
    results = asyncio.run(h.send_all(host, port, requests, concurrency))
    wall = time.perf_counter() - started
    ms = [seconds * 1000 for status, seconds, _ in results if status == 200]
    return h.pct(ms, 50), h.pct(ms, 99), len(requests) / wall, sum(1 for r in results if r[0] != 200)


def _open_loop(host: str, port: int, requests: list[bytes], rate: float) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, max lag ms) of requests sent open-loop at `rate` per second; failures count as infinite."""
    _, answer, lag = asyncio.run(h.paced(host, port, requests, rate, ok=200))
    ms = [a * 1000 if a == a else float("inf") for a in answer]  # NaN (a failed answer) is never fast enough
    return h.pct(ms, 50), h.pct(ms, 99), lag * 1000


def _rates(host: str, port: int, key: str, verify: list[bytes], args: argparse.Namespace) -> None:
    """The open-loop table: baseline and comment-check p50/p99 at each steady rate."""
    h.header(f"open loop: checks at a steady rate for {args.seconds:.0f} s (medians over {args.runs} runs)")
    for rate in [float(r) for r in args.rates.split(",") if r]:
        n = int(rate * args.seconds)
        base = [_open_loop(host, port, verify[:1] * n, rate) for _ in range(args.runs)]
        check = [_open_loop(host, port, _checks(host, port, key, n, seed=500 + run), rate) for run in range(args.runs)]
        h.say(f"{rate:5.0f}/s  baseline verify-key p50 {h.median([b[0] for b in base]):6.1f} ms "
              f"p99 {h.median([b[1] for b in base]):6.1f} ms | comment-check p50 {h.median([c[0] for c in check]):6.1f}"
              f" ms p99 {h.median([c[1] for c in check]):6.1f} ms (max send lag {max(c[2] for c in check):.0f} ms)")


def main() -> None:
    """Start the service, warm it up, then alternate baseline and comment-check passes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rates", default="50,100,200", help="open-loop rates, checks per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each open-loop pass")
    parser.add_argument("--workers", type=int, default=1, help="RQ workers beside the web (callbacks, none here)")
    args = parser.parse_args()
    h.install_cleanup()
    h.header(f"Akismet comment-check latency (closed loop, {args.concurrency} concurrent)")
    h.say(h.machine_line())
    model_dir, _ = h.ensure_bench_model("akismet")
    svc = h.Service("akismet", model_dir, workers=args.workers,
                    extra_env={"MODERATION_INTAKE_IP_RATE_LIMIT_PER_MINUTE": "0",
                               "MODERATION_DATABASE_SQLITE_SYNCHRONOUS": "FULL"}).start()
    with svc.db() as con:
        key = con.execute("SELECT api_key FROM sites WHERE slug='bench'").fetchone()[0]
    host, port = svc.host, svc.port
    verify = [_raw(host, port, "/1.1/verify-key", {"key": key, "blog": "https://news.example.id"})] * args.requests
    _measure(host, port, _checks(host, port, key, 300, seed=1) + verify[:300], args.concurrency)  # warm-up
    base, check = [], []
    for run in range(args.runs):
        base.append(_measure(host, port, verify, args.concurrency))
        check.append(_measure(host, port, _checks(host, port, key, args.requests, seed=100 + run), args.concurrency))
        h.say(f"run {run + 1}: baseline verify-key p50 {base[-1][0]:.1f} ms p99 {base[-1][1]:.1f} ms "
              f"{base[-1][2]:.0f}/s | comment-check p50 {check[-1][0]:.1f} ms p99 {check[-1][1]:.1f} ms "
              f"{check[-1][2]:.0f}/s (non-200: {check[-1][3]})")
    _rates(host, port, key, verify, args)
    with svc.db() as con:
        stored = con.execute("SELECT count(*) FROM comments WHERE external_id LIKE 'akismet:%'").fetchone()[0]
        by_status = dict(con.execute("SELECT status, count(*) FROM comments GROUP BY status").fetchall())
    svc.stop()
    h.header("summary (medians over runs)")
    for name, rows in (("baseline verify-key", base), ("comment-check", check)):
        h.say(f"{name:<22} p50 {h.median([r[0] for r in rows]):6.1f} ms   p99 {h.median([r[1] for r in rows]):6.1f} ms"
              f"   {h.median([r[2] for r in rows]):6.0f} req/s")
    p99 = h.median([r[1] for r in check])
    h.say(f"goal: comment-check p99 <= {GOAL_P99_MS:.0f} ms at {args.concurrency} concurrent -> "
          f"{'met' if p99 <= GOAL_P99_MS else 'NOT met'} ({p99:.1f} ms)")
    h.say(f"stored checked comments: {stored}; statuses: {by_status}")


if __name__ == "__main__":
    main()
