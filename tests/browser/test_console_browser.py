"""The console in a real headless Chromium: log in, keyboard review, bulk approve, undo, inert hostile text, CSRF."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from moderation.decide.states import Status
from moderation.services import Services
from moderation.store.models import Comment, TrainingLabel
from tests.browser.support import PASSWORD, add_user, held_comment
from tests.support import Site

HOSTILE = ('<script>alert(1)</script> <img src=x onerror="alert(2)"> <a href="javascript:alert(3)">klik</a> '
           'javascript:alert(5) =HYPERLINK("http://evil.example/x","y") @SUM(1+1) cek www.judi-online.example/daftar')


def _statuses(services: Services, ids: list[str]) -> list[str]:
    """Current statuses of the given comments, in order."""
    with services.db.session() as session:
        found = {c.id: c.status for c in session.scalars(select(Comment).where(Comment.id.in_(ids)))}
    return [found[i] for i in ids]


def _log_in(page: Any, live_url: str, name: str = "ani") -> None:
    """Log in through the form with the keyboard."""
    page.goto(live_url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_url + "/")


def _wait_outcome(page: Any, comment_id: str, text: str) -> None:
    """Wait until the console shows an action's outcome on a comment."""
    page.wait_for_function("([id, t]) => document.querySelector('#c-' + id + ' .outcome').textContent.includes(t)",
                           arg=[comment_id, text])


def test_keyboard_only_review(page: Any, live_url: str, services: Services, site: Site) -> None:
    """j/k/a/s/r/x/u/? with no mouse: approve, undo, approve, spam, reject-as-abusive with a note."""
    add_user(services, "ani")
    ids = [held_comment(services, site.id, f"Komentar nomor {i}") for i in range(4)]
    _log_in(page, live_url)
    page.keyboard.press("?")
    assert page.locator("#help-dialog").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    _wait_outcome(page, ids[0], "approved")
    page.keyboard.press("u")
    _wait_outcome(page, ids[0], "undone")
    assert _statuses(services, ids[:1]) == ["held"]
    page.keyboard.press("a")  # undo put the focus back on the first comment
    _wait_outcome(page, ids[0], "approved")
    page.keyboard.press("s")
    _wait_outcome(page, ids[1], "spam")
    page.keyboard.press("r")
    page.keyboard.type("kasar")
    page.keyboard.press("Enter")
    _wait_outcome(page, ids[2], "rejected")
    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.dataset.id") == ids[3]
    assert _statuses(services, ids) == ["approved", "spam", "rejected", "held"]
    detail = services.db.session
    with detail() as session:
        rejected = session.get(Comment, ids[2])
        assert rejected.decided_by == "moderator:ani" and rejected.reasons[0] == {
            "code": "moderator.reject.abusive", "detail": "kasar"}


def test_bulk_select_and_select_all_matching(page: Any, live_url: str, services: Services, site: Site) -> None:
    """x selects several for one action; 'select all matching the filter' approves beyond the page."""
    add_user(services, "ani")
    first = [held_comment(services, site.id, f"Pilih {i}") for i in range(3)]
    _log_in(page, live_url)
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.locator("#selection-count").inner_text() == "2 selected"
    page.keyboard.press("s")
    _wait_outcome(page, first[1], "spam")
    assert _statuses(services, first) == ["spam", "spam", "held"]
    more = [held_comment(services, site.id, f"Baru {i}") for i in range(5)]
    page.reload()
    page.check("#select-all-matching")
    page.locator("#comments").click(position={"x": 5, "y": 5})
    page.keyboard.press("a")
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('approved: 6')")
    assert _statuses(services, [first[2], *more]) == ["approved"] * 6


def test_hostile_comment_renders_as_text_and_fires_nothing(page: Any, live_url: str, services: Services,
                                                           site: Site) -> None:
    """Script tags, onerror, javascript: links and CSV formulas show as written; no dialog, console or stray request."""
    add_user(services, "ani")
    cid = held_comment(services, site.id, HOSTILE, author_name="<img src=y onerror=alert(6)>")
    dialogs, messages, requests = [], [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    _log_in(page, live_url)
    text = page.locator(f"#c-{cid} .text").inner_text()
    assert text == HOSTILE
    assert page.locator(f"#c-{cid} .author").inner_text().startswith("<img src=y onerror=alert(6)>")
    assert page.locator("#comments img, #comments script, #comments a").count() == 0
    page.keyboard.press("l")  # make links clickable, on request
    anchors = page.locator(f"#c-{cid} .links a")
    hrefs = [anchors.nth(i).get_attribute("href") for i in range(anchors.count())]
    assert hrefs == ["http://evil.example/x", "https://www.judi-online.example/daftar"]  # never javascript:
    assert {anchors.nth(i).get_attribute("rel") for i in range(anchors.count())} == {"noopener noreferrer nofollow"}
    assert page.locator(f"#c-{cid} .text").inner_text() == HOSTILE  # the text itself stays inert
    page.wait_for_timeout(300)
    assert dialogs == [] and messages == []
    assert all(url.startswith(live_url) for url in requests), requests


def test_post_without_csrf_token_is_refused(page: Any, live_url: str, services: Services, site: Site) -> None:
    """From the logged-in page, a fetch without X-CSRFToken is a 400 and the comment stays held."""
    add_user(services, "ani")
    cid = held_comment(services, site.id, "Tetap ditahan")
    _log_in(page, live_url)
    status = page.evaluate("""async (id) => (await fetch('/api/v1/review/actions', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({action: 'approve', ids: [id], expected: 'held'})})).status""", cid)
    assert status == 400
    form = page.evaluate("""async () => (await fetch('/logout', {method: 'POST'})).status""")
    assert form == 400
    assert _statuses(services, [cid]) == ["held"]
    page.reload()
    assert page.url == live_url + "/"  # still logged in: the refused logout did nothing


def test_help_the_model_page_spot_checks_the_models_spam(page: Any, live_url: str, services: Services,
                                                         site: Site) -> None:
    """'Help the model' lists the model's own spam marks under the uncertain comments; 's' on one confirms it (a spam
    label, the comment stays spam) and 'a' restores a mark the model got wrong."""
    add_user(services, "ani")
    uncertain = held_comment(services, site.id, "Mungkin iklan?", spam=0.55)
    marks = [held_comment(services, site.id, text, spam=score, status=Status.SPAM)
             for text, score in (("AERO88 gacor maxwin", 0.93), ("Terima kasih infonya pak", 0.91))]
    _log_in(page, live_url)
    page.goto(live_url + "/teach")
    assert page.locator("#spot-checks").is_visible()
    order = page.eval_on_selector_all("article.comment", "rows => rows.map((r) => r.dataset.id)")
    assert order == [uncertain, marks[1], marks[0]]  # lowest spam score first: nearest the model's line
    page.keyboard.press("j")
    page.keyboard.press("a")
    _wait_outcome(page, marks[1], "approved")
    page.keyboard.press("s")
    _wait_outcome(page, marks[0], "spam")
    assert _statuses(services, [uncertain, *marks]) == ["held", "spam", "approved"]
    with services.db.session() as session:
        labels = {(r.comment_id, r.label) for r in session.scalars(select(TrainingLabel).where(
            TrainingLabel.head == "spam"))}
    assert labels == {(marks[0], "spam"), (marks[1], "ham")}
