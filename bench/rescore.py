"""Backlog re-scoring: how long `moderation rescore` takes on 20,000 comments, and how much it slows intake.

SERVICE   `moderation serve` (embedded Redis, gunicorn, 2 RQ workers, cron) in a temporary data dir.
BACKLOG   --comments comments (texts sampled from shared/data) stored as approved by an older model, straight
          through the store's write path (store.decisions.record), so the re-score has real work to report.
RESCORE   `moderation rescore --site bench --status approved` as ops run it (its own process, CPU priority
          lowered by its default --nice 10): the dry run --runs times (median), then once with --apply.
          Goal: 20,000 comments in at most 600 s on this 2-core machine.
INTAKE    --requests signed single-comment POSTs over --concurrency keep-alive connections (bench/_harness's
          asyncio client, in this process), alternating windows without and with a rescore dry run looping
          in the background (restarted whenever it finishes, so it runs for the whole window); the workers
          score what arrives in both. Goal: with a rescore running, intake at most 20 % slower (medians of
          --rounds windows each, baseline from the same run).

Model: BENCH_MODEL_DIR when it holds an active model (run_all's, trained on shared/data), else the shipped seed
model trained here in a few seconds (smaller vocabulary: faster to score; the line says which).

    .venv/bin/python bench/rescore.py [--comments 20000] [--runs 2] [--rounds 3] [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import _harness as h

GOAL_SECONDS = 600.0
GOAL_SLOWDOWN = 0.20


def _model_dir() -> tuple[Path, str]:
    """The model to score with: run_all's shared-data model when given, else the seed model trained now."""
    shared = os.environ.get("BENCH_MODEL_DIR")
    if shared and (Path(shared) / "ACTIVE").exists():
        return Path(shared), f"shared-data model from BENCH_MODEL_DIR ({shared})"
    from training.cli import ensure_model

    model_dir = h.make_temp_dir("rescore-model") / "models"
    started = time.perf_counter()
    ensure_model(model_dir, [])
    return model_dir, f"seed model trained here in {time.perf_counter() - started:.1f} s (set BENCH_MODEL_DIR " \
                      "for the shared-data one)"


def _seed_backlog(svc: h.Service, n: int) -> float:
    """Store n comments approved by an older model, through the store's write path; returns seconds."""
    from moderation.decide.states import Decision, Status
    from moderation.store.comments import insert_comments
    from moderation.store.db import Database
    from moderation.store.decisions import record

    assert svc.site is not None
    db = Database(f"sqlite:///{svc.db_path}", "NORMAL")
    texts = h.sample_texts(n, seed=11)
    started = time.perf_counter()
    for start in range(0, n, 2000):
        items = [{**_item(f"old-{i}", texts[i], i)} for i in range(start, min(n, start + 2000))]
        with db.session() as session:
            rows = insert_comments(session, svc.site.id, items)
            decisions = [Decision(r["id"], svc.site.id, Status.APPROVED, "model",
                                  [{"code": "policy.approve_below", "detail": "an older model"}],
                                  spam=0.1, abusive=0.0, model_version="older-model") for r in rows]
            record(session, decisions, Status.QUEUED, event=None)
    db.dispose()
    return time.perf_counter() - started


def _item(ext: str, text: str, i: int) -> dict[str, Any]:
    """Intake columns of one comment (what the API would store)."""
    body = h.comment_body(ext, text, i)
    return {"external_id": ext, "content": body["content"], "author_name": body["author"]["name"],
            "author_email": body["author"]["email"], "author_ip": body["author"]["ip"], "post_id": body["post"]["id"],
            "lang": "id"}


def _rescore_cmd(*extra: str) -> list[str]:
    """The rescore command line."""
    return [*h.MODERATION, "rescore", "--site", "bench", "--status", "approved", *extra]


def _timed_rescore(env: dict[str, str], *extra: str) -> tuple[float, dict[str, Any]]:
    """Run one rescore; (wall seconds, its report)."""
    started = time.perf_counter()
    out = subprocess.run(_rescore_cmd(*extra), cwd=h.ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"rescore failed:\n{out.stderr[-3000:]}")
    return seconds, json.loads(out.stdout)


class Looping:
    """A rescore dry run restarted whenever it finishes, until stopped."""

    def __init__(self, env: dict[str, str]):
        self.env, self.stop, self.runs = env, threading.Event(), 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.proc = subprocess.Popen(_rescore_cmd(), cwd=h.ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            self.proc.wait()
            self.runs += 1

    def __enter__(self) -> Looping:
        self.thread.start()
        time.sleep(1.5)  # past its start-up (imports, model load): the window measures the scoring itself
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.proc is not None and self.proc.poll() is None:
            h.stop_process(self.proc, grace=5)  # type: ignore[arg-type]
        self.thread.join(timeout=30)


def _intake_window(svc: h.Service, tag: str, n: int, concurrency: int) -> float:
    """Comments/s over one window of n signed POSTs (all must answer 202); waits for the workers to drain after."""
    assert svc.site is not None
    reqs, _ = h.presign_comments(svc.host, svc.port, svc.site.slug, svc.site.secret, tag, n, seed=sum(map(ord, tag)))
    started = time.perf_counter()
    results = asyncio.run(h.send_all(svc.host, svc.port, reqs, concurrency))
    seconds = time.perf_counter() - started
    bad = [s for s, _, _ in results if s != 202]
    if bad:
        raise RuntimeError(f"{len(bad)} intake answers were not 202 (first: {bad[0]})")
    h.wait_drained(svc)
    return n / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2, help="timed dry runs of the rescore (median)")
    parser.add_argument("--rounds", type=int, default=3, help="intake windows per condition (median)")
    parser.add_argument("--requests", type=int, default=3000, help="signed POSTs per intake window")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    h.install_cleanup()
    h.preamble(f"RESCORE: {args.comments} comments re-scored, and intake with and without a concurrent rescore")
    model_dir, model_line = _model_dir()
    h.say(f"model: {model_line}")
    svc = h.Service("rescore", model_dir, workers=2).start()
    try:
        env = h.base_env(svc.data_dir, model_dir)
        h.say(f"backlog: {args.comments} approved comments stored in {_seed_backlog(svc, args.comments):.1f} s")

        h.say("\nrescore (dry run, then --apply), its own process at its default --nice 10:")
        dry = []
        for run in range(args.runs):
            seconds, report = _timed_rescore(env)
            dry.append(seconds)
            rate = report["scanned"] / seconds
            h.say(f"  dry run {run + 1}: {seconds:6.1f} s  ({report['scanned']} scanned, {rate:7.1f}/s; "
                  f"would change {report['changes']})")
        applied_s, applied = _timed_rescore(env, "--apply")
        h.say(f"  --apply   : {applied_s:6.1f} s  ({applied['changed']} changed, "
              f"{applied['callbacks']} callbacks owed)")

        h.say(f"\nintake: {args.requests} signed POSTs per window, {args.concurrency} connections, "
              "alternating without / with a rescore dry run looping beside it:")
        _intake_window(svc, "warm", min(1000, args.requests), args.concurrency)
        alone, beside, loops = [], [], 0
        for rnd in range(args.rounds):
            alone.append(_intake_window(svc, f"alone-{rnd}", args.requests, args.concurrency))
            with Looping(env) as looping:
                beside.append(_intake_window(svc, f"beside-{rnd}", args.requests, args.concurrency))
            loops += looping.runs
            h.say(f"  round {rnd + 1}: alone {alone[-1]:7.1f} comments/s   with rescore {beside[-1]:7.1f} comments/s")

        median_dry, base, loaded = h.median(dry), h.median(alone), h.median(beside)
        slowdown = 1 - loaded / base
        per_20k = median_dry * 20_000 / max(1, args.comments)
        h.header("RESULT (medians)")
        h.say(f"rescore dry run     {median_dry:7.1f} s for {args.comments} comments  (20,000 in {per_20k:.1f} s; "
              f"goal <= {GOAL_SECONDS:.0f} s: {'met' if per_20k <= GOAL_SECONDS else 'NOT met'})")
        h.say(f"rescore --apply     {applied_s:7.1f} s ({applied['changed']} changes written)")
        h.say(f"intake alone        {base:7.1f} comments/s  (baseline, same run)")
        h.say(f"intake + rescore    {loaded:7.1f} comments/s  ({slowdown:+.1%} slower; goal <= {GOAL_SLOWDOWN:.0%}: "
              f"{'met' if slowdown <= GOAL_SLOWDOWN else 'NOT met'}; {loops} rescore runs finished during the windows)")
    finally:
        svc.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
