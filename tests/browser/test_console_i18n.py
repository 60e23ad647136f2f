"""The console in real Chromium in Bahasa Indonesia and English: no English left for an Indonesian browser on any
page, the header's language switch, times in the site's zone, the compact queue's visible count, keyboard review."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from sqlalchemy import select, update

from moderation.services import Services
from moderation.store.models import Comment, DecisionEvent, User
from moderation.store.models import Site as SiteRow
from moderation.store.review import add_flag
from tests.browser.i18n_check import english_left, untranslated
from tests.browser.support import PASSWORD, add_user, held_comment
from tests.support import Site

SVG_TEXT = "() => Array.from(document.querySelectorAll('text:not([translate=\"no\"])')).map((t) => t.textContent)"
LONG = ("Pemerintah daerah seharusnya segera memperbaiki jalan yang rusak di depan pasar, karena setiap hujan "
        "turun genangan air membuat pengendara motor terjatuh dan pedagang kehilangan pembeli. ") * 3


@pytest.fixture
def contexts(browser: Any) -> Iterator[Any]:
    """Opens browser contexts with a language and a 1280x800 screen; closes them after the test."""
    opened: list[Any] = []

    def open_context(locale: str = "id-ID", height: int = 800) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": height}, locale=locale)
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_context
    for context in opened:
        context.close()


def _log_in(page: Any, live_url: str, name: str = "ani") -> None:
    """Log in through the form."""
    page.goto(live_url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_url + "/")


def _detail_loaded(page: Any) -> None:
    """Wait until the focused comment's panel has its history and audit trail."""
    page.wait_for_selector("article.comment.current .detail:not([hidden])")


def _all_indonesian(page: Any, where: str) -> None:
    """Fail naming what is still English on the current page."""
    left = english_left(page)
    assert left == [], f"{where}: {left}"


def _seed(services: Services, site: Site) -> dict[str, str]:
    """A held queue with every kind of reason, a reported comment, spam and a rejected one; returns some ids."""
    with services.db.session() as session:
        session.execute(update(SiteRow).where(SiteRow.id == site.id).values(time_zone="Asia/Makassar"))
    ids = {
        "uncertain": held_comment(services, site.id, "Mantap min, beritanya lengkap", spam=0.62, author_name="Rahmat",
                                  author_email="rahmat@example.id", author_ip="203.0.113.9", post_title="Banjir",
                                  reasons=[{"code": "policy.uncertain", "detail": "spam 0.620 between 0.500 and 0.900"},
                                           {"code": "model.spam", "detail": "'gacor' +1.10", "feature": "gacor",
                                            "weight": 1.1}]),
        "word": held_comment(services, site.id, "Daftar slot sekarang di www.judi.example/daftar", spam=0.7,
                             reasons=[{"code": "rule.deny.word", "detail": "contains 'slot'"}]),
        "flood": held_comment(services, site.id, "Ikuti promo ini sekarang juga ya teman teman", spam=0.8,
                              reasons=[{"code": "flood.near_duplicate", "count": 7, "detail": "7 near-identical"}]),
        "abusive": held_comment(services, site.id, "Dasar pejabat bodoh tidak becus", spam=0.2, abusive=0.91,
                                reasons=[{"code": "policy.abusive_above", "detail": "abusive 0.910 > 0.800"},
                                         {"code": "model.abusive", "detail": "'bodoh' +2.10", "feature": "bodoh",
                                          "weight": 2.1}]),
        "reported": held_comment(services, site.id, "Komentar yang dilaporkan pembaca", status=_approved(),
                                 reasons=[{"code": "policy.approve_below", "detail": "spam 0.100 < 0.500"}]),
        "spam": held_comment(services, site.id, "Slot gacor maxwin", status=_status("spam"),
                             reasons=[{"code": "policy.spam_above", "detail": "spam 0.970 > 0.900"}]),
        "rejected": held_comment(services, site.id, "Ditolak karena kasar",
                                 reasons=[{"code": "moderator.reject.abusive", "detail": "kasar sekali"}]),
        "akismet": held_comment(services, site.id, "Dari plugin lama", reasons=[
            {"code": "akismet.submit_spam", "detail": "reported"}, {"code": "rule.allow.email", "detail": "x"}]),
    }
    with services.db.session() as session:
        session.execute(update(Comment).where(Comment.id == ids["rejected"]).values(status="rejected"))
        comment = session.get(Comment, ids["reported"])
        for reporter in ("pembaca-1", "pembaca-2"):
            add_flag(session, comment, "abusive", reporter, "kata kasar")
    return ids


def _status(name: str) -> Any:
    """A Status by name."""
    from moderation.decide.states import Status

    return Status(name)


def _approved() -> Any:
    """Status.APPROVED."""
    return _status("approved")


def test_indonesian_browser_sees_no_english_anywhere(contexts: Any, live_url: str, services: Services,
                                                     site: Site) -> None:
    """Every page, dialog, flash, status message, detail panel, chart and error of an Indonesian browser is made of
    the catalogue's Indonesian; the same check on an English browser does find English (it is not vacuous)."""
    add_user(services, "ani", "admin")
    _seed(services, site)
    page = contexts("id-ID")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_url + "/login")
    assert page.locator("html").get_attribute("lang") == "id"
    _all_indonesian(page, "login")
    page.fill("input[name=name]", "ani")
    page.fill("input[name=password]", "salah sekali kata sandinya")
    page.keyboard.press("Enter")
    page.wait_for_selector("#login-error")
    _all_indonesian(page, "failed login")
    _log_in(page, live_url)
    _detail_loaded(page)
    _all_indonesian(page, "held queue with the focused comment's panel")
    for _ in range(4):  # every comment's panel: each kind of reason and its sentence
        page.keyboard.press("j")
        _detail_loaded(page)
        _all_indonesian(page, f"held queue, comment {page.evaluate('document.activeElement.dataset.id')}")
    page.keyboard.press("?")
    _all_indonesian(page, "key help")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    _all_indonesian(page, "reject dialog")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_function("() => document.getElementById('status').textContent.length > 0")
    _all_indonesian(page, "after approving")
    page.keyboard.press("u")
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Dibatalkan')")
    _all_indonesian(page, "after undoing")
    page.keyboard.press("x")
    page.check("#select-all-matching")
    _all_indonesian(page, "selection")
    for queue in ("reported", "spam", "approved", "rejected"):
        page.goto(f"{live_url}/?queue={queue}")
        _detail_loaded(page)
        _all_indonesian(page, f"{queue} queue")
    for path in ("/?queue=rejected&q=tidak-ada-di-mana-mana", "/?site=tidak-ada", "/teach", "/stats?days=7",
                 "/admin", "/export"):
        page.goto(live_url + path)
        _all_indonesian(page, path)
    for chart in ("comments", "rates", "moderators", "models"):
        page.goto(f"{live_url}/stats/{chart}.svg?days=7")
        texts = page.evaluate(SVG_TEXT)
        assert texts and untranslated(texts) == [], (chart, untranslated(texts))
    page.goto(live_url + "/admin")
    page.fill("input[name=value]", "judi")
    page.click("form.filters button[type=submit]")
    _all_indonesian(page, "admin flash after adding")
    page.fill(f"#site-{site.slug} ~ table input[name=time_zone], input[form=site-{site.slug}][name=time_zone]",
              "Bulan/Tidak_Ada")
    page.click(f"button[form=site-{site.slug}]")
    page.wait_for_selector(".flash.error")
    _all_indonesian(page, "admin flash after a refused time zone")
    page.fill(f"input[form=alerts-{site.slug}][name=alert_emails]", "redaksi@example.id")
    page.fill(f"input[form=alerts-{site.slug}][name=alert_webhook_url]", "https://hooks.example.id/T0/rahasia")
    page.click(f"button[form=alerts-{site.slug}]")
    page.wait_for_selector(".flash.message")
    _all_indonesian(page, "admin with a site's alert recipients saved (its webhook masked)")
    page.fill(f"input[form=alerts-{site.slug}][name=alert_emails]", "bukan-alamat")
    page.click(f"button[form=alerts-{site.slug}]")
    page.wait_for_selector(".flash.error")
    _all_indonesian(page, "admin flash after a refused alert address")
    page.click("form.confirm button[type=submit]")
    page.wait_for_selector("pre.secret")
    _all_indonesian(page, "new secret")

    english = contexts("en-US")
    _log_in(english, live_url)
    left = " ".join(english_left(english))
    assert "Approve (a)" in left and "Help the model" in left  # the check sees English when it is there


def test_language_switch_in_the_header_is_remembered(contexts: Any, live_url: str, services: Services,
                                                     site: Site) -> None:
    """Accept-Language decides until the person clicks a language; the choice is kept on the account."""
    add_user(services, "ani")
    held_comment(services, site.id, "Komentar satu")
    page = contexts("id-ID")
    _log_in(page, live_url)
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("header.top nav").inner_text().split()[:2] == ["Moderasi", "Antrean"]
    page.click("#language-switcher button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.url == live_url + "/"
    assert "Queues" in page.locator("header.top nav").inner_text()
    assert page.locator("button[data-act=approve]").inner_text() == "Approve (a)"
    with services.db.session() as session:
        assert session.scalar(select(User.language).where(User.name == "ani")) == "en"
    again = contexts("id-ID")  # another Indonesian browser: the account's choice wins
    _log_in(again, live_url)
    assert again.locator("html").get_attribute("lang") == "en"
    again.click("#language-switcher button[value=id]")
    again.wait_for_selector("html[lang=id]")
    assert again.locator("button[data-act=approve]").inner_text() == "Setujui (a)"


def test_times_are_shown_in_the_sites_zone(contexts: Any, live_url: str, services: Services, site: Site) -> None:
    """A comment of an Asia/Jayapura site received 5 minutes ago: '5 menit yang lalu', and on hover its exact
    local time in WIT (UTC+9), in the row, the panel and the audit trail; English says '5 minutes ago'."""
    add_user(services, "ani")
    with services.db.session() as session:
        session.execute(update(SiteRow).where(SiteRow.id == site.id).values(time_zone="Asia/Jayapura"))
    cid = held_comment(services, site.id, "Komentar dari Papua")
    moment = (datetime.now(UTC) - timedelta(minutes=5, seconds=10)).replace(microsecond=0)
    with services.db.session() as session:
        session.execute(update(Comment).where(Comment.id == cid).values(received_at=moment, decided_at=moment))
        session.execute(update(DecisionEvent).where(DecisionEvent.comment_id == cid).values(created_at=moment))
    zone = ZoneInfo("Asia/Jayapura")
    exact = f"{format_datetime(moment, 'medium', tzinfo=zone, locale='id')} WIT"
    assert exact.split()[:3] == [str(moment.astimezone(zone).day), *exact.split()[1:3]]
    page = contexts("id-ID")
    _log_in(page, live_url)
    _detail_loaded(page)
    received = page.locator(f"#c-{cid} .summary .received time")
    assert received.inner_text() == "5 menit yang lalu"
    assert received.get_attribute("title") == exact
    assert received.get_attribute("datetime") == moment.isoformat().replace("+00:00", "Z")
    assert exact in page.locator(f"#c-{cid} .more .meta").inner_text()
    trail = page.locator(f"#c-{cid} .detail ol.events time").first
    assert trail.inner_text() == "5 menit yang lalu" and trail.get_attribute("title") == exact
    english = contexts("en-US")
    _log_in(english, live_url)
    title = english.locator(f"#c-{cid} .summary .received time").get_attribute("title")
    assert english.locator(f"#c-{cid} .summary .received time").inner_text() == "5 minutes ago"
    assert title == (f"{format_datetime(moment, 'medium', tzinfo=zone, locale='en')} "
                     f"{format_datetime(moment, 'z', tzinfo=zone, locale='en')}")


@pytest.mark.parametrize("locale", ["id-ID", "en-US"])
def test_compact_queue_shows_at_least_eight_held_comments_at_1280x800(contexts: Any, live_url: str,
                                                                      services: Services, site: Site,
                                                                      locale: str) -> None:
    """With the first comment focused and its panel open, at least 8 held comments (long ones among them) are
    wholly on a 1280x800 screen without scrolling; only the focused one's details are shown."""
    add_user(services, "ani")
    for i in range(20):
        held_comment(services, site.id, LONG if i % 3 == 0 else f"Komentar pendek nomor {i}",
                     author_name=f"Pembaca {i}",
                     reasons=[{"code": "policy.uncertain", "detail": "spam 0.600 between 0.500 and 0.900"},
                              {"code": "model.spam", "detail": "'promo' +0.90", "feature": "promo", "weight": 0.9}])
    page = contexts(locale)
    _log_in(page, live_url)
    _detail_loaded(page)
    visible = page.evaluate("""() => Array.from(document.querySelectorAll('article.comment')).filter((row) => {
        const box = row.getBoundingClientRect(); return box.top >= 0 && box.bottom <= window.innerHeight; }).length""")
    print(f"{locale}: {visible} held comments fully visible at 1280x800")
    assert visible >= 8
    assert page.evaluate("window.scrollY") == 0
    shown = page.evaluate("Array.from(document.querySelectorAll('.more')).filter((m) => m.checkVisibility()).length")
    assert shown == 1 and page.locator("article.comment.current .more").is_visible()


def test_keyboard_review_in_indonesian(contexts: Any, live_url: str, services: Services, site: Site) -> None:
    """j/k/a/s/r/u/? with no mouse in Indonesian: outcomes and the status line speak Indonesian, the panel follows
    the focus, and the decisions land in the database."""
    add_user(services, "ani")
    ids = [held_comment(services, site.id, f"Komentar nomor {i}", author_name="Andi") for i in range(4)]
    page = contexts("id-ID")
    _log_in(page, live_url)
    _detail_loaded(page)
    assert "Riwayat penulis" in page.locator(f"#c-{ids[0]} .detail").inner_text()
    page.keyboard.press("?")
    assert page.locator("#help-dialog").is_visible()
    assert "komentar berikutnya / sebelumnya" in page.locator("#help-dialog").inner_text()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    _outcome(page, ids[0], "disetujui")
    assert page.locator("#status").inner_text() == "disetujui: 1. Tekan u untuk membatalkan."
    assert not page.locator(f"#c-{ids[0]} .more").is_visible() and page.locator(f"#c-{ids[1]} .more").is_visible()
    page.keyboard.press("u")
    _outcome(page, ids[0], "dibatalkan")
    assert _statuses(services, ids[:1]) == ["held"]
    page.keyboard.press("a")
    _outcome(page, ids[0], "disetujui")
    page.keyboard.press("s")
    _outcome(page, ids[1], "spam")
    page.keyboard.press("r")
    page.keyboard.type("kasar")
    page.keyboard.press("Enter")
    _outcome(page, ids[2], "ditolak")
    page.keyboard.press("k")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.dataset.id") == ids[3]
    assert _statuses(services, ids) == ["approved", "spam", "rejected", "held"]


def _outcome(page: Any, comment_id: str, text: str) -> None:
    """Wait until a comment's row shows an action's outcome."""
    page.wait_for_function("([id, t]) => document.querySelector('#c-' + id + ' .outcome').textContent.includes(t)",
                           arg=[comment_id, text])


def _statuses(services: Services, ids: list[str]) -> list[str]:
    """Current statuses of the given comments, in order."""
    with services.db.session() as session:
        found = {c.id: c.status for c in session.scalars(select(Comment).where(Comment.id.in_(ids)))}
    return [found[i] for i in ids]
