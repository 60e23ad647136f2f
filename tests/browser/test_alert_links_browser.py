"""An alert as a moderator meets it on a phone: the received mail's HTML in Chromium at 360x740, its one-tap
link opened and confirmed; the comment approved and the site called back; replayed, expired and tampered
links refused with a clear page."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from moderation.alerts.check import run_alerts
from moderation.alerts.links import link_key, link_url, make_token
from moderation.services import Services
from moderation.settings import Settings
from moderation.store.models import Comment, DecisionEvent
from tests.browser.support import held_comment
from tests.smtp_server import Mailbox
from tests.support import Receiver, Site
from workers.context import WorkerContext, install

PHONE = {"width": 360, "height": 740}
HOSTILE = '<img src=x onerror="document.title=1">Promo <b>pulsa</b> murah & cepat'


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page on a 360x740 phone viewport (touch, mobile layout)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def alerting(settings: Settings, live_url: str, mailbox: Mailbox) -> Iterator[WorkerContext]:
    """A worker context that mails alerts (one held comment is enough) with links to the live app."""
    ctx = WorkerContext(settings.with_overrides({
        "alerts.smtp_url": f"smtp://127.0.0.1:{mailbox.port}", "alerts.email_to": "ani@example.id",
        "alerts.held_over": "0", "alerts.public_url": live_url}))
    install(ctx)
    yield ctx
    install(None)
    ctx.db.dispose()


def _fits(page: Any) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_mail_link_confirmed_on_a_phone(phone: Any, alerting: WorkerContext, mailbox: Mailbox, site: Site,
                                        services: Services, run_worker: Any, receiver: Receiver) -> None:
    """Open the mail, tap Approve, see the comment (inert), confirm; approved in the DB, callback sent; the
    same link again is refused, by GET and by POST."""
    cid = held_comment(services, site.id, HOSTILE, author_name="Cici")
    assert run_alerts(alerting)["email"] == "sent"
    (_, message), = mailbox.wait_for(1)
    phone.set_content(message.get_body(preferencelist=("html",)).get_content())
    _fits(phone)
    assert phone.locator("img").count() == 0  # the commenter's <img> is text in the mail
    with phone.expect_navigation():
        phone.get_by_role("link", name="Approve").click()
    assert "/alert/" in phone.url
    link = phone.url
    assert phone.locator("h1").inner_text() == "Approve?"
    assert phone.locator(".text").inner_text() == HOSTILE and phone.title() != "1"
    button = phone.get_by_role("button", name="Approve")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _fits(phone)
    with services.db.session() as session:
        assert session.get(Comment, cid).status == "held"  # opening the page changed nothing
    with phone.expect_navigation():
        button.tap()
    assert phone.locator("h1").inner_text() == "Comment approved"
    run_worker()
    with services.db.session() as session:
        assert session.get(Comment, cid).status == "approved"
        assert session.scalars(select(DecisionEvent.actor).where(DecisionEvent.comment_id == cid)
                               .order_by(DecisionEvent.id.desc())).first() == "alert-link"
    callback, = [json.loads(r["body"]) for r in receiver.requests if r["path"] == "/hook"]
    assert callback["comment"]["status"] == "approved"
    answer = phone.goto(link)
    assert answer.status == 409 and "already used" in phone.locator(".message").inner_text()
    assert phone.get_by_role("button").count() == 0
    assert phone.request.post(link).status == 409


@pytest.mark.parametrize(("kind", "status", "says"), [("expired", 410, "expired"), ("tampered", 400, "not valid")])
def test_bad_links_are_refused_on_a_phone(phone: Any, live_url: str, services: Services, site: Site,
                                          kind: str, status: int, says: str) -> None:
    """An expired or tampered link shows why it did nothing, with no button, and the comment stays held."""
    cid = held_comment(services, site.id, "Masih menunggu")
    key = link_key(services.settings)
    token = make_token(key, cid, "approve", int(time.time()) + (-5 if kind == "expired" else 600))
    if kind == "tampered":
        body, mac = token.split(".")
        token = make_token(key, cid, "spam", int(time.time()) + 600).split(".")[0] + "." + mac
    answer = phone.goto(link_url(live_url, token))
    assert answer.status == status and says in phone.locator(".message").inner_text()
    assert phone.get_by_role("button").count() == 0
    _fits(phone)
    with services.db.session() as session:
        assert session.get(Comment, cid).status == "held"
