"""Profile `moderation serve` under one of the benchmarks' loads with py-spy; print where time goes.

Loads:
  intake   signed single POSTs through wrk at --connections for --duration s (what bench/intake.py does)
  batch    --n comments through /batch of 500, profiled until all are decided and called back
  single   --n comments through single POSTs (wrk), profiled until all are decided and called back
  paced    open-loop --rate comments/s for --duration s (what bench/latency.py does)

py-spy samples every process of the service (--subprocesses on the supervisor); the samples are grouped
by process kind (web = gunicorn, worker = RQ worker) and the top functions by inclusive and self share
are printed, plus the share of samples in moderation/, workers/, sqlalchemy, sqlite, redis, rq, sklearn,
flask/werkzeug and gunicorn code. With --idle, waiting threads are sampled too (lock waits, fsync, I/O).

Needs py-spy in the venv:  /work/main/.venv/bin/pip install py-spy
    /work/main/.venv/bin/python bench/profile_service.py intake|batch|single|paced [--workers 2] [--idle]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import _harness as h

GROUPS = [("moderation/", "moderation/"), ("workers/", "workers/"), ("sqlalchemy", "sqlalchemy/"),
          ("sqlite3 (C: execute/commit/fsync)", "sqlite3"), ("redis client", "redis/"), ("rq", "rq/"),
          ("sklearn/scipy/numpy", ("sklearn/", "scipy/", "numpy/")), ("flask/werkzeug", ("flask/", "werkzeug/")),
          ("gunicorn", "gunicorn/"), ("pydantic", "pydantic"), ("requests/urllib3 (callbacks)",
                                                                 ("requests/", "urllib3/", "http/client"))]


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(h.VENV_BIN)) or shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is missing: /work/main/.venv/bin/pip install py-spy")
    return found


def analyse(path: str, top: int) -> None:
    by_kind: dict[str, list[tuple[list[str], int]]] = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        procs = [i for i, f in enumerate(frames) if f.startswith("process ")]  # supervisor;child;grandchild
        cmd = frames[procs[-1]] if procs else ""
        kind = ("web" if " web" in cmd else "worker" if " worker" in cmd else "cron" if " cron" in cmd
                else "supervisor" if " serve" in cmd else "other")
        by_kind.setdefault(kind, []).append((frames[procs[-1] + 1 if procs else 0:], int(count)))
    for kind in ("web", "worker"):
        samples = by_kind.get(kind, [])
        total = sum(c for _, c in samples)
        if not total:
            continue
        incl: Counter[str] = Counter()
        self_: Counter[str] = Counter()
        groups: Counter[str] = Counter()
        for frames, c in samples:
            names = {re.sub(r":\d+\)$", ")", f) for f in frames}
            for n in names:
                incl[n] += c
            self_[frames[-1] if frames else "?"] += c
            joined = ";".join(frames)
            for label, needle in GROUPS:
                needles = needle if isinstance(needle, tuple) else (needle,)
                if any(x in joined for x in needles):
                    groups[label] += c
        h.say(f"\n--- {kind} processes: {total} samples")
        h.say("  share of samples with a frame in:")
        for label, _ in GROUPS:
            if groups[label]:
                h.say(f"    {100 * groups[label] / total:5.1f}%  {label}")
        h.say("  top inclusive (moderation/workers code and notable libraries):")
        shown = 0
        for name, c in incl.most_common():
            if any(s in name for s in ("threading.py", "runpy", "click/", "concurrent/futures", "<module>",
                                       "gthread.py", "arbiter.py", "base.py (gunicorn")):
                continue
            h.say(f"    {100 * c / total:5.1f}%  {name[:150]}")
            shown += 1
            if shown >= top:
                break
        h.say("  top self:")
        for name, c in self_.most_common(top // 2):
            h.say(f"    {100 * c / total:5.1f}%  {name[:150]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("load", choices=["intake", "batch", "single", "paced"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--idle", action="store_true", help="sample waiting threads too")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    h.install_cleanup()
    spy = py_spy()
    h.preamble(f"PROFILE: load {args.load}, serve --workers {args.workers}{' (idle included)' if args.idle else ''}")
    model_dir, _ = h.ensure_bench_model("profile")
    rc = h.Receiver().start()
    svc = h.Service("profile", model_dir, workers=args.workers, callback_url=rc.url).start()
    assert svc.site is not None and svc.proc is not None
    rc.configure(svc.site.slug, svc.site.secret)
    warm, _ = h.presign_comments(svc.host, svc.port, svc.site.slug, svc.site.secret, "warm", 1000)
    h.run_wrk(svc.url, warm, svc.data_dir, duration=60, connections=args.connections, stop_when_done=True)
    h.wait_drained(svc)
    out = str(svc.data_dir / "profile.txt")
    argv = [spy, "record", "-p", str(svc.proc.pid), "--subprocesses", "--nonblocking", "-r", "100", "-f", "raw",
            "-o", out] + (["--idle"] if args.idle else [])
    spy_log = open(svc.data_dir / "py-spy.log", "ab")  # noqa: SIM115
    spy_proc = subprocess.Popen(argv, stdout=spy_log, stderr=spy_log, preexec_fn=h._pdeathsig)
    spy_log.close()
    stop_spy = h.on_exit("py-spy", lambda: h.stop_process(spy_proc, grace=10, sig=2))
    time.sleep(1.5)
    started = time.time()
    if args.load == "intake":
        reqs, _ = h.presign_comments(svc.host, svc.port, svc.site.slug, svc.site.secret, "p",
                                     int(4000 * args.duration))
        r = h.run_wrk(svc.url, reqs, svc.data_dir, duration=args.duration, connections=args.connections)
        h.say(f"intake: {r.real_responses / r.seconds:.0f} comments/s, p50 {r.p50_ms:.0f} ms, p99 {r.p99_ms:.0f} ms "
              "(under the profiler)")
    elif args.load in ("batch", "single"):
        if args.load == "batch":
            reqs, _ = h.presign_batches(svc.host, svc.port, svc.site.slug, svc.site.secret, "p", args.n)
            asyncio.run(h.send_all(svc.host, svc.port, reqs, 8))
        else:
            reqs, _ = h.presign_comments(svc.host, svc.port, svc.site.slug, svc.site.secret, "p", args.n)
            h.run_wrk(svc.url, reqs, svc.data_dir, duration=600, connections=128, stop_when_done=True)
        posted = time.time()
        h.wait_drained(svc)
        decided = time.time()
        while rc.stats()["records"] < args.n + 1000 and time.time() - decided < 60:
            time.sleep(0.1)
        h.say(f"{args.load}: posted in {posted - started:.1f} s, decided after {decided - started:.1f} s, callbacks "
              f"after {time.time() - started:.1f} s (under the profiler)")
    else:
        from latency import paced

        reqs, _ = h.presign_comments(svc.host, svc.port, svc.site.slug, svc.site.secret, "p",
                                     int(args.rate * args.duration))
        asyncio.run(paced(svc.host, svc.port, reqs, args.rate))
        time.sleep(2)
    stop_spy()
    svc.stop()
    rc.stop()
    if len(sys.argv) > 1 and sys.argv[1] == "--analyse":
        pass
    if not Path(out).exists():
        h.say("py-spy wrote nothing:\n" + (svc.data_dir / "py-spy.log").read_text()[-2000:])
        return 1
    analyse(out, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
