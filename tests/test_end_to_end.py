"""The walk of one comment: signed POST → stored → RQ worker scores → decision → signed callback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from moderation.delivery import signing
from moderation.services import Services
from moderation.store.models import CallbackAttempt, DecisionEvent
from tests.support import Receiver, Site, signed_request

HAM = "Mantap beritanya, semoga Sulsel tetap aman dan pembangunan jalan cepat selesai"
SPAM = "𝐒𝐋𝐎𝐓 𝐆𝐀𝐂𝐎𝐑 maxwin hari ini di AERO88, daftar sekarang wa 0812-3456-7890 bonus new member 100%"


def verify_callback(request: dict[str, Any], site: Site, receiver: Receiver) -> None:
    """Check a received callback's signature the way a site would."""
    headers = request["headers"]
    path = urlsplit(receiver.url + request["path"]).path
    verdict = signing.verify([site.secret], headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER],
                             "POST", path, request["body"], max_age=300)
    assert verdict.ok, verdict.reason
    assert headers[signing.SITE_HEADER] == site.slug


def test_signed_post_to_signed_callback(client: Any, site: Site, receiver: Receiver, run_worker: Callable[[], bool],
                                        services: Services) -> None:
    """Ham is approved, judol spam is marked spam, each site gets one signed comment.decided callback per comment."""
    ham = signed_request(client, site, "POST", "/api/v1/comments", {"id": "h1", "content": HAM}).get_json()
    spam = signed_request(client, site, "POST", "/api/v1/comments", {"id": "s1", "content": SPAM}).get_json()
    assert run_worker()
    got = {b["comment"]["external_id"]: b for b in receiver.bodies()}
    assert set(got) == {"h1", "s1"} and len(receiver.requests) == 2
    for request in receiver.requests:
        verify_callback(request, site, receiver)
    assert got["h1"]["event"] == "comment.decided" and got["h1"]["comment"]["status"] == "approved"
    assert got["s1"]["comment"]["status"] == "spam"
    for comment in (ham, spam):
        view = signed_request(client, site, "GET", f"/api/v1/comments/{comment['id']}").get_json()
        assert view["status"] == got[comment["external_id"]]["comment"]["status"]
        assert 0.0 <= view["scores"]["spam"] <= 1.0 and 0.0 <= view["scores"]["abusive"] <= 1.0
        assert view["model_version"] and view["decided_by"] == "model" and view["decided_at"]
        assert view["reasons"] and all("code" in r for r in view["reasons"])
    with services.db.session() as session:
        events = session.scalars(select(DecisionEvent)).all()
        assert sorted(e.to_status for e in events) == ["approved", "spam"]
        assert all(e.from_status == "queued" and e.actor == "model" for e in events)
        assert len(session.scalars(select(CallbackAttempt)).all()) == 2


def test_spam_reasons_name_what_pushed_the_score(client: Any, site: Site, run_worker: Callable[[], bool]) -> None:
    """A spam decision carries the policy reason and model features a moderator can read."""
    posted = signed_request(client, site, "POST", "/api/v1/comments", {"id": "s", "content": SPAM}).get_json()
    run_worker()
    view = signed_request(client, site, "GET", f"/api/v1/comments/{posted['id']}").get_json()
    codes = [r["code"] for r in view["reasons"]]
    assert codes[0] == "policy.spam_above" and "model.spam" in codes


def test_deny_list_rule_decides_before_the_model(client: Any, site: Site, run_worker: Callable[[], bool],
                                                 services: Services) -> None:
    """A per-site deny entry in the database marks spam with a rule reason, even written in math letters."""
    from datetime import UTC, datetime

    from moderation.store.models import ListEntry

    with services.db.session() as session:
        session.add(ListEntry(site_id=site.id, action="deny", kind="word", value="beli followers",
                              created_at=datetime.now(UTC)))
    posted = signed_request(client, site, "POST", "/api/v1/comments",
                            {"id": "r", "content": "Mau 𝐁𝐄𝐋𝐈 𝐅𝐎𝐋𝐋𝐎𝐖𝐄𝐑𝐒 murah? Beritanya bagus"}).get_json()
    run_worker()
    view = signed_request(client, site, "GET", f"/api/v1/comments/{posted['id']}").get_json()
    assert view["status"] == "spam" and view["decided_by"] == "rule"
    assert view["reasons"][0]["code"] == "rule.deny.word"


def test_sites_are_isolated(client: Any, make_site: Callable[..., Site], site: Site) -> None:
    """Site B can neither read site A's comment by service id nor by external id (404)."""
    other = make_site("other-news")
    posted = signed_request(client, site, "POST", "/api/v1/comments", {"id": "x1", "content": HAM}).get_json()
    assert signed_request(client, other, "GET", f"/api/v1/comments/{posted['id']}").status_code == 404
    assert signed_request(client, other, "GET", "/api/v1/comments?external_id=x1").status_code == 404
    mine = signed_request(client, site, "GET", "/api/v1/comments?external_id=x1")
    assert mine.status_code == 200 and mine.get_json()["id"] == posted["id"]
    # The same external id from another site is a different comment, not a repeat.
    theirs = signed_request(client, other, "POST", "/api/v1/comments", {"id": "x1", "content": HAM})
    assert theirs.status_code == 202 and theirs.get_json()["id"] != posted["id"]


def test_get_needs_a_signature(client: Any, site: Site) -> None:
    """Reading a comment unsigned is 401."""
    assert client.get("/api/v1/comments/whatever").status_code == 401


def test_callback_payload_is_json_with_event_id(client: Any, site: Site, receiver: Receiver,
                                                run_worker: Callable[[], bool]) -> None:
    """Callbacks are JSON and carry the delivery id so a site can drop duplicates."""
    signed_request(client, site, "POST", "/api/v1/comments", {"id": "e", "content": HAM})
    run_worker()
    request = receiver.requests[0]
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Moderation-Event-Id"].isdigit()
    assert json.loads(request["body"])["comment"]["external_id"] == "e"
