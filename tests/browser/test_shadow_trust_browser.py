"""Shadow report and author standing in a real headless Chromium: figures, inert hostile examples, revoking trust."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from moderation.decide.states import Status
from moderation.services import Services
from moderation.store.models import Comment, TrustEvent
from moderation.store.shadow import record_verdict
from moderation.store.sites import set_mode
from tests.browser.support import PASSWORD, add_user, held_comment
from tests.support import Site

HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> BELI OBAT'


def _log_in(page: Any, live_url: str, name: str) -> None:
    """Log in through the form."""
    page.goto(live_url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_url + "/")


def test_shadow_report_page(page: Any, live_url: str, services: Services, site: Site) -> None:
    """The report's figures and examples render; a hostile example is shown as text and runs nothing."""
    with services.db.session() as session:
        set_mode(session, site.slug, "shadow")
    theirs = {held_comment(services, site.id, HOSTILE, spam=0.98, status=Status.SPAM): "approved",
              held_comment(services, site.id, "Berita bagus", spam=0.1, status=Status.APPROVED): "approved",
              held_comment(services, site.id, "Mungkin iklan", spam=0.6): "approved",
              held_comment(services, site.id, "Tanpa verdict", spam=0.1, status=Status.APPROVED): None}
    with services.db.session() as session:
        for comment_id, verdict in theirs.items():
            if verdict:
                record_verdict(session, session.get(Comment, comment_id), verdict, "moderator")
    add_user(services, "ani")
    _log_in(page, live_url, "ani")
    page.click("text=Shadow")
    page.wait_for_selector("#shadow-figures")
    assert page.inner_text("#compared") == "3" and page.inner_text("#agreement") == "33.3 %"
    assert page.inner_text("#count-caught_they_published") == "1"
    assert page.inner_text("#count-held_they_published") == "1"
    assert page.inner_text("#without-verdict") == "1"
    cell = page.locator("#examples-caught_they_published .example-text")
    assert cell.inner_text() == HOSTILE
    assert page.locator("#examples-caught_they_published img").count() == 0
    assert page.evaluate("window.pwned === undefined")


def test_standing_is_shown_and_revoked_from_the_queue(page: Any, live_url: str, services: Services,
                                                      site: Site) -> None:
    """The author history shows the author's standing; 'Revoke trust' records an audited revoke."""
    for i in range(3):
        held_comment(services, site.id, f"Komentar lama {i}", spam=0.1, status=Status.APPROVED,
                     author_email="rina@example.id")
    current = held_comment(services, site.id, "Komentar baru yang ragu", author_email="rina@example.id")
    add_user(services, "ani")
    _log_in(page, live_url, "ani")
    page.keyboard.press("j")  # focus the first (only) held comment: its detail loads
    standing = page.locator(f"#c-{current} .standing-line")
    standing.wait_for()
    assert "3 approved, 0 spam" in standing.inner_text()
    page.click(f"#c-{current} .standing-action")
    page.wait_for_function("id => document.querySelector('#c-' + id + ' .standing-line')"
                           ".textContent.includes('trust revoked')", arg=current)
    with services.db.session() as session:
        event = session.scalar(select(TrustEvent))
        assert (event.author_key, event.action, event.actor) == ("email:rina@example.id", "revoke", "moderator:ani")
    assert page.inner_text(f"#c-{current} .standing-action") == "Restore trust"
