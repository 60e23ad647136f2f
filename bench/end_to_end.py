"""End to end: N comments posted as fast as possible -> time until every one is decided -> decided/s.

For each `serve --workers W` (default 1, 2, 3) and each way of posting:
  single  N signed single-comment POSTs through wrk (pre-signed, unique ids) at --connections;
  batch   N/500 signed POST /api/v1/comments/batch of 500 each, --batch-concurrency in flight;
the clock starts when posting starts and stops at the last decided_at in the database (polled until no
comment is queued). Each run is then verified: every comment answered 202 is in the database (0 lost), is
decided, has exactly one decision_event (0 decided twice), and its comment.decided callback reached the
local callback receiver exactly once with a valid signature. Figures are medians over --runs runs.

    /work/main/.venv/bin/python bench/end_to_end.py [--n 10000] [--runs 3] [--workers 1,2,3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

import _harness as h

GOAL = 2000.0


def post_single(svc: h.Service, reqs: list[bytes], args: argparse.Namespace) -> tuple[int, dict[str, int]]:
    workdir = svc.data_dir
    r = h.run_wrk(svc.url, reqs, workdir, duration=600, connections=args.connections, threads=2,
                  stop_when_done=True, env_owner=str(svc.data_dir))
    return r.ok_202, r.codes


def post_batches(svc: h.Service, reqs: list[bytes], args: argparse.Namespace) -> tuple[int, dict[str, int]]:
    results = asyncio.run(h.send_all(svc.host, svc.port, reqs, args.batch_concurrency))
    codes: Counter[str] = Counter()
    for status, _s, body in results:
        if status in (200, 202, 207):
            for item in json.loads(body)["results"]:
                codes[str(item["code"])] += 1
        else:
            codes[f"request-{status}"] += 1
    return codes.get("202", 0), dict(codes)


def one_run(svc: h.Service, rc: h.Receiver, mode: str, prefix: str, args: argparse.Namespace) -> dict[str, Any]:
    assert svc.site is not None
    n = args.n
    if mode == "single":
        reqs, ids = h.presign_comments(svc.host, svc.port, svc.site.slug, svc.site.secret, prefix, n)
    else:
        reqs, ids = h.presign_batches(svc.host, svc.port, svc.site.slug, svc.site.secret, prefix, n)
    rc.reset()
    cpu0 = rc.cpu_seconds()
    con = svc.db()
    t0 = time.time()
    accepted, codes = (post_single if mode == "single" else post_batches)(svc, reqs, args)
    t_posted = time.time()
    deadline = t_posted + args.timeout
    while time.time() < deadline:
        if h.queued_count(con) == 0:
            break
        time.sleep(0.05)
    rows = h.run_rows(con, svc.site.id, prefix)
    decided = [r for r in rows if r[2] != "queued"]
    t_decided = max((h.parse_db_time(r[4]) or 0.0) for r in decided) if decided else float("nan")
    # callbacks: wait until every decided comment's callback arrived (or time out)
    cb_deadline = time.time() + args.callback_timeout
    while time.time() < cb_deadline and rc.stats()["records"] < len(decided):
        time.sleep(0.1)
    time.sleep(0.3)  # let a duplicate, if any, arrive too
    dump = rc.dump()
    receiver_cpu = rc.cpu_seconds() - cpu0
    per_ext = Counter(rec[1] for rec in dump["records"] if str(rec[1]).startswith(prefix + "-"))
    t_callbacks = max((rec[0] for rec in dump["records"]), default=float("nan"))
    events = h.event_counts(con, svc.site.id, prefix)
    statuses = Counter(r[2] for r in rows)
    con.close()
    ids_set = set(ids)
    in_db = {r[1] for r in rows}
    return {
        "mode": mode, "n": n, "accepted": accepted, "codes": codes,
        "post_s": t_posted - t0, "decide_s": t_decided - t0, "callbacks_s": t_callbacks - t0,
        "decided_per_s": len(decided) / (t_decided - t0) if decided else 0.0,
        "lost": len(ids_set - in_db), "undecided": n - len(decided),
        "events_exactly_one": sum(1 for e in events.values() if e == 1),
        "events_zero": sum(1 for e in events.values() if e == 0),
        "events_twice_or_more": sum(1 for e in events.values() if e > 1),
        "callbacks_once": sum(1 for x in ids if per_ext.get(x) == 1),
        "callbacks_missing": sum(1 for x in ids if x not in per_ext),
        "callbacks_dup": sum(1 for x in ids if per_ext.get(x, 0) > 1),
        "callbacks_bad": dump["bad"], "statuses": dict(statuses), "receiver_cpu": receiver_cpu,
    }


def show(label: str, r: dict[str, Any]) -> None:
    ok = (r["lost"] == 0 and r["undecided"] == 0 and r["events_exactly_one"] == r["n"]
          and r["callbacks_once"] == r["n"] and r["callbacks_bad"] == 0)
    h.say(f"  {label}: posted in {r['post_s']:6.2f} s ({r['n'] / r['post_s']:7.0f}/s), all decided after "
          f"{r['decide_s']:6.2f} s -> {r['decided_per_s']:7.0f} decided/s; callbacks all in after "
          f"{r['callbacks_s']:6.2f} s (receiver used {r['receiver_cpu']:.1f} CPU s)")
    h.say(f"      202s {r['accepted']}/{r['n']} (codes {r['codes']}); lost {r['lost']}, undecided {r['undecided']}; "
          f"decision_events exactly one {r['events_exactly_one']}, none {r['events_zero']}, "
          f"two+ {r['events_twice_or_more']}; callbacks once {r['callbacks_once']}, missing "
          f"{r['callbacks_missing']}, duplicated {r['callbacks_dup']}, bad {r['callbacks_bad']} -> "
          f"{'VERIFIED' if ok else 'CHECK FAILED'}; statuses {r['statuses']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--modes", default="single,batch")
    parser.add_argument("--connections", type=int, default=128, help="wrk connections for single POSTs")
    parser.add_argument("--batch-concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=180.0, help="max seconds to wait for decisions")
    parser.add_argument("--callback-timeout", type=float, default=60.0)
    args = parser.parse_args()
    h.install_cleanup()
    h.wrk_path()
    modes = args.modes.split(",")
    h.preamble(f"END TO END: {args.n} comments -> all decided, serve --workers {args.workers}, modes {modes}, "
               f"{args.runs} runs each")
    model_dir, train_s = h.ensure_bench_model("e2e")
    rc = h.Receiver().start()
    table: list[tuple[int, str, dict[str, float], bool]] = []
    for w in [int(x) for x in args.workers.split(",")]:
        h.say(f"\nserve --workers {w}:")
        svc = h.Service(f"e2e-w{w}", model_dir, workers=w, callback_url=rc.url).start()
        assert svc.site is not None
        rc.configure(svc.site.slug, svc.site.secret)
        warm = args.n // 10
        saved, args.n = args.n, warm
        one_run(svc, rc, "single", f"w{w}-warm", args)
        args.n = saved
        for mode in modes:
            runs = []
            for run in range(args.runs):
                r = one_run(svc, rc, mode, f"w{w}-{mode}-r{run}", args)
                show(f"{mode:<6} run {run + 1}", r)
                runs.append(r)
            verified = all(r["lost"] == 0 and r["undecided"] == 0 and r["events_exactly_one"] == r["n"]
                           and r["callbacks_once"] == r["n"] and r["callbacks_bad"] == 0 for r in runs)
            table.append((w, mode, {k: h.median([r[k] for r in runs]) for k in
                                    ("decided_per_s", "post_s", "decide_s", "callbacks_s")}, verified))
        svc.stop()
    rc.stop()
    h.header(f"END-TO-END RESULT (medians of {args.runs} runs, {args.n} comments each)")
    if train_s is not None:
        h.say(f"model training: {train_s:.1f} s")
    h.say(f"{'workers':>8} {'mode':<7}{'posted/s':>10}{'decided/s':>11}{'all decided s':>15}{'callbacks s':>13}"
          f"  checks")
    for w, mode, m, ok in table:
        h.say(f"{w:>8} {mode:<7}{args.n / m['post_s']:>10.0f}{m['decided_per_s']:>11.0f}{m['decide_s']:>15.2f}"
              f"{m['callbacks_s']:>13.2f}  {'0 lost, 0 twice, callbacks once: VERIFIED' if ok else 'CHECK FAILED'}")
    best = max(table, key=lambda x: x[2]["decided_per_s"])
    h.say(f"goal >= {GOAL:.0f} decided/s: best {best[2]['decided_per_s']:.0f}/s (workers {best[0]}, {best[1]}) -> "
          f"{'MET' if best[2]['decided_per_s'] >= GOAL else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
