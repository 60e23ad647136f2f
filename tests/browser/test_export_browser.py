"""The console's Export page in a real headless Chromium: the nav link, a scoped moderator's sites, a CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moderation.services import Services
from moderation.store.users import set_scope
from tests.browser.support import PASSWORD, add_user, held_comment
from tests.support import Site

FORMULA = '=HYPERLINK("http://evil.example/x","klik")'


def test_moderator_downloads_their_sites_csv(page: Any, live_url: str, services: Services, site: Site,
                                             make_site: Callable[..., Site], tmp_path: Path) -> None:
    """Export in the nav, only the scoped site listed, and its CSV downloads with formula-safe cells."""
    other = make_site("other")
    held_comment(services, site.id, FORMULA, external_id="wp-9")
    held_comment(services, other.id, "komentar situs lain")
    add_user(services, "ani")
    with services.db.session() as session:
        set_scope(session, "ani", [site.id])
    page.goto(live_url + "/login")
    page.fill("input[name=name]", "ani")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_url + "/")
    page.click("header nav >> text=Export")
    page.wait_for_url(live_url + "/export")
    links = page.locator("a.download").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert links == ["/export/news.jsonl", "/export/news.csv"]
    with page.expect_download() as info:
        page.click("a.download >> text=csv")
    download = info.value
    assert download.suggested_filename.startswith("news-comments-") and download.suggested_filename.endswith(".csv")
    saved = tmp_path / "news.csv"
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [(r["external_id"], r["content"]) for r in rows] == [("wp-9", "'" + FORMULA)]
