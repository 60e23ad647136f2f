"""Intake throughput: signed comments/s and p50/p99 latency at 64 connections, service vs baseline.

SERVICE   `moderation serve` (embedded Redis, gunicorn gthread with the settings' processes/threads, the
          RQ workers and the cron sweeper), rate limit off, model trained on shared/data. Measured twice:
          "as in production" (serve's default --workers, which score while intake runs) and "web only"
          (MODERATION_SERVE_WORKERS=0: nothing consumes, exactly like the baseline).
BASELINE  bench/baseline_app.py: Flask parsing the JSON body + one rq Queue.enqueue per request, under
          gunicorn with the very same options (moderation.web.gunicorn_options) and an embedded
          redis-server started the same way.

Load: wrk (Debian package `wrk`) with bench/wrk_presigned.lua cycling through requests signed in Python
beforehand, each with a unique comment id (no request is sent twice). Each run lasts --duration seconds;
figures are medians over --runs runs, after one warm-up run per server.

    /work/main/.venv/bin/python bench/intake.py [--runs 3] [--duration 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import _harness as h

GOAL = 0.90


def measure(name: str, host: str, port: int, url: str, site: str, secret: str, args: argparse.Namespace,
            between: Any = None) -> dict[str, float]:
    workdir = h.make_temp_dir("wrk")
    pool = int(args.max_rps * args.duration)
    # warm-up: fills gunicorn's threads, connection pools, SQLite page cache
    reqs, _ = h.presign_comments(host, port, site, secret, f"{name}-warm", 1500, seed=1)
    h.run_wrk(url, reqs, workdir, duration=30, connections=args.connections, threads=args.threads,
              stop_when_done=True)
    if between:
        between()
    rows = []
    for run in range(args.runs):
        reqs, _ = h.presign_comments(host, port, site, secret, f"{name}-r{run}", pool, seed=100 + run)
        r = h.run_wrk(url, reqs, workdir, duration=args.duration, connections=args.connections,
                      threads=args.threads)
        rps = r.real_responses / r.seconds
        bad = {k: v for k, v in r.codes.items() if k != "202"}
        errors = {k: v for k, v in r.errors.items() if v}
        h.say(f"  {name:<22} run {run + 1}: {rps:8.1f} comments/s   p50 {r.p50_ms:7.1f} ms   p99 {r.p99_ms:7.1f} ms"
              f"   ({r.real_responses} answered 202: {r.ok_202}{'; other codes ' + str(bad) if bad else ''}"
              f"{'; socket errors ' + str(errors) if errors else ''}{'; POOL EXHAUSTED' if r.exhausted else ''})")
        rows.append((rps, r.p50_ms, r.p99_ms))
        if between:
            between()
    return {"rps": h.median([x[0] for x in rows]), "p50": h.median([x[1] for x in rows]),
            "p99": h.median([x[2] for x in rows])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="serve --workers for the production-like run")
    parser.add_argument("--max-rps", type=float, default=4000.0, help="size of the pre-signed pool per second")
    parser.add_argument("--skip-web-only", action="store_true")
    args = parser.parse_args()
    h.install_cleanup()
    h.wrk_path()
    h.preamble("INTAKE: signed single-comment POSTs, service vs baseline (wrk, "
               f"{args.connections} connections, {args.runs} x {args.duration:.0f} s)")
    from moderation.settings import load_settings
    from moderation.web import gunicorn_options

    opts = gunicorn_options(load_settings(environ={}))
    h.say(f"gunicorn options (both): workers={opts['workers']} threads={opts['threads']} "
          f"worker_class={opts['worker_class']} keepalive={opts['keepalive']} backlog={opts['backlog']}")
    model_dir, train_s = h.ensure_bench_model("intake")
    results: dict[str, dict[str, float]] = {}

    h.say("\nbaseline (Flask + json + rq enqueue):")
    base = h.Baseline().start()
    results["baseline"] = measure("baseline", base.host, base.port, base.url, "baseline", "unused-secret", args)
    base.stop()

    configs = [(f"service (--workers {args.workers})", args.workers)]
    if not args.skip_web_only:
        configs.append(("service (web only)", 0))
    for label, workers in configs:
        h.say(f"\n{label}:")
        svc = h.Service(f"intake-w{workers}", model_dir, workers=workers).start()
        assert svc.site is not None
        drain = (lambda s=svc: h.wait_drained(s)) if workers else None
        results[label] = measure(label.replace(" ", ""), svc.host, svc.port, svc.url, svc.site.slug,
                                 svc.site.secret, args, between=drain)
        svc.stop()

    b = results["baseline"]
    h.header("INTAKE RESULT (medians)")
    if train_s is not None:
        h.say(f"model training: {train_s:.1f} s")
    h.say(f"{'':<26}{'comments/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'vs baseline':>14}")
    for label, r in results.items():
        ratio = r["rps"] / b["rps"] if b["rps"] else float("nan")
        h.say(f"{label:<26}{r['rps']:>12.1f}{r['p50']:>10.1f}{r['p99']:>10.1f}{ratio:>13.0%}")
    for label in results:
        if label == "baseline":
            continue
        ratio = results[label]["rps"] / b["rps"]
        h.say(f"goal >= {GOAL:.0%} of baseline throughput, {label}: {ratio:.0%} -> "
              f"{'MET' if ratio >= GOAL else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
