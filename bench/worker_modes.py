"""The measurement behind the worker design: decided/s of three ways to run scoring on RQ.

  (a) fork    rq Worker (forks a work horse per job), one job per comment:
              workers.jobs.score_comments([id]) enqueued once per comment
  (b) simple  rq SimpleWorker (runs jobs in-process), one job per comment, same jobs
  (c) drain   the service's design: SimpleWorker + ids on the pending list + one drain job scoring
              batches of scoring.batch_size per model call

Same model (trained on shared/data), same database, same Redis, same run. Comments are stored by the
service's own intake (`moderation serve` with MODERATION_SERVE_WORKERS=0, sweeper pushed out of the way),
then the queue is prepared for the mode and ONE worker process (bench/_mode_worker.py, model preloaded
like `moderation worker`) runs in burst mode on the score queue; decided/s = comments decided / time
work() took. The site has a callback URL, so every mode also writes the outbox rows and enqueues the
callback jobs (which nobody runs here). Each mode is verified in the database (all decided, one
decision_event each). Medians over --runs runs.

    /work/main/.venv/bin/python bench/worker_modes.py [--runs 3] [--n-fork 100] [--n-simple 500] [--n-drain 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from typing import Any

import _harness as h


def prepare(svc: h.Service, prefix: str, n: int) -> list[str]:
    """Store n comments through /batch (the drain design's pending list and job are queued by intake)."""
    assert svc.site is not None
    reqs, _ = h.presign_batches(svc.host, svc.port, svc.site.slug, svc.site.secret, prefix, n, seed=hash(prefix))
    results = asyncio.run(h.send_all(svc.host, svc.port, reqs, 4))
    bad = [s for s, _t, _b in results if s != 202]
    if bad:
        raise RuntimeError(f"intake refused batches: {bad[:5]}")
    con = svc.db()
    ids = [r[0] for r in h.run_rows(con, svc.site.id, prefix)]
    con.close()
    return ids


def one_mode(svc: h.Service, mode: str, n: int, prefix: str) -> dict[str, Any]:
    import redis as redis_lib
    from rq import Queue

    from moderation.delivery.queueing import Names
    from moderation.redis_conn import redis_url
    from moderation.settings import load_settings

    settings = load_settings(environ=h.base_env(svc.data_dir, svc.model_dir))
    names = Names(settings["queue.prefix"])
    r = redis_lib.Redis.from_url(redis_url(settings))
    ids = prepare(svc, prefix, n)
    queue = Queue(names.score_queue, connection=r)
    if mode in ("fork", "simple"):
        # undo what intake queued for the drain design, then one job per comment
        r.delete(names.pending, names.drain_flag)
        queue.empty()
        pipe = r.pipeline()
        for cid in ids:
            queue.enqueue("workers.jobs.score_comments", [cid], result_ttl=0, failure_ttl=86400, pipeline=pipe)
        pipe.execute()
    jobs_queued = queue.count
    env = h.base_env(svc.data_dir, svc.model_dir)
    log = open(svc.data_dir / f"worker-{prefix}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen([h.PYTHON, str(h.BENCH_DIR / "_mode_worker.py"), "simple" if mode == "drain" else mode],
                            cwd=h.ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
                            preexec_fn=h._pdeathsig)
    log.close()
    stop = h.on_exit(f"worker {mode}", lambda: h.stop_process(proc, grace=5))
    out, _ = proc.communicate()
    stop()
    timing = json.loads(out.strip().splitlines()[-1])
    assert svc.site is not None
    con = svc.db()
    rows = h.run_rows(con, svc.site.id, prefix)
    events = h.event_counts(con, svc.site.id, prefix)
    con.close()
    decided = sum(1 for x in rows if x[2] != "queued")
    seconds = timing["end"] - timing["start"]
    r.close()
    return {"mode": mode, "n": n, "jobs": jobs_queued, "decided": decided, "seconds": seconds,
            "rate": decided / seconds, "one_event": sum(1 for e in events.values() if e == 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n-fork", type=int, default=100)
    parser.add_argument("--n-simple", type=int, default=500)
    parser.add_argument("--n-drain", type=int, default=10000)
    args = parser.parse_args()
    h.install_cleanup()
    h.preamble(f"WORKER MODES: one worker process, decided/s, {args.runs} runs each")
    model_dir, train_s = h.ensure_bench_model("modes")
    # the web part only stores comments; keep the sweeper from re-queueing anything during the runs
    svc = h.Service("modes", model_dir, workers=0, callback_url="http://127.0.0.1:9/never-called",
                    extra_env={"MODERATION_SWEEPER_STALE_AFTER": "86400"}).start()
    sizes = {"fork": args.n_fork, "simple": args.n_simple, "drain": args.n_drain}
    labels = {"fork": "(a) rq Worker (fork), 1 job/comment",
              "simple": "(b) SimpleWorker, 1 job/comment",
              "drain": "(c) SimpleWorker + drain/batches"}
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in sizes}
    for run in range(args.runs):
        for mode in ("fork", "simple", "drain"):  # interleaved, so drift hits every mode alike
            res = one_mode(svc, mode, sizes[mode], f"{mode}-r{run}")
            results[mode].append(res)
            h.say(f"  run {run + 1} {labels[mode]:<40} {res['decided']:>6}/{res['n']} decided in "
                  f"{res['seconds']:6.2f} s -> {res['rate']:8.1f} decided/s ({res['jobs']} job(s) queued; "
                  f"exactly one decision_event: {res['one_event']})")
    svc.stop()
    h.header(f"WORKER MODES RESULT (one worker process, medians of {args.runs} runs)")
    if train_s is not None:
        h.say(f"model training: {train_s:.1f} s")
    drain = h.median([r["rate"] for r in results["drain"]])
    for mode in ("fork", "simple", "drain"):
        rate = h.median([r["rate"] for r in results[mode]])
        h.say(f"{labels[mode]:<42} {rate:9.1f} decided/s   ({rate / drain:6.1%} of the drain design; "
              f"{1000 / rate:7.2f} ms per comment)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
