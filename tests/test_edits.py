"""Edits: the same id with a higher revision (or PUT) is scored again; a stale revision changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from moderation.decide.rescoring import EDIT_CODE, EDIT_HELD_CODE, after_edit
from moderation.decide.states import Decision, Status
from moderation.services import Services
from moderation.store.models import CallbackDelivery, Comment, DecisionEvent
from tests.browser.support import held_comment
from tests.support import Receiver, Site, signed_request

SPAM = "Yuk main slot gacor hari ini, daftar sekarang di situs kami"
"""A deny-listed phrase: the rule marks it spam whatever the model thinks."""

CLEAN = "Semoga pembangunan jembatan cepat selesai, terima kasih beritanya"


def _row(services: Services, comment_id: str) -> Comment:
    """The stored comment, detached."""
    with services.db.session() as session:
        row = session.get(Comment, comment_id)
        assert row is not None
        session.expunge(row)
        return row


def _events(services: Services, comment_id: str) -> list[tuple[str, str, str | None]]:
    """(from, to, note) of a comment's audit trail."""
    with services.db.session() as session:
        return [(e.from_status, e.to_status, e.note) for e in session.scalars(
            select(DecisionEvent).where(DecisionEvent.comment_id == comment_id).order_by(DecisionEvent.id))]


def test_approved_comment_edited_into_spam_is_held_again_with_a_callback(
        client: Any, site: Site, services: Services, receiver: Receiver, run_worker: Callable[[], bool]) -> None:
    """An approved comment re-sent with revision 1 and spam text: 200 held, new text stored, comment.moderated sent."""
    cid = held_comment(services, site.id, CLEAN, spam=0.1, status=Status.APPROVED, external_id="77")
    answer = signed_request(client, site, "POST", "/api/v1/comments", {"id": "77", "content": SPAM, "revision": 1})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["id"], body["status"], body["revision"]) == (cid, "held", 1)
    assert [r["code"] for r in body["reasons"]][:3] == [EDIT_HELD_CODE, EDIT_CODE, "rule.deny.word"]
    row = _row(services, cid)
    assert (row.content, row.status, row.revision, row.decided_by) == (SPAM, "held", 1, "rule")
    assert _events(services, cid)[-1] == ("approved", "held", "edit: revision 1")
    run_worker()
    sent = [b for b in receiver.bodies() if b["comment"]["id"] == cid]
    assert [(b["event"], b["comment"]["status"], b["comment"]["revision"]) for b in sent] == [
        ("comment.moderated", "held", 1)]


def test_a_repeat_or_stale_revision_changes_nothing(client: Any, site: Site, services: Services) -> None:
    """The same id without a revision, or with one not above the stored one, is a 200 repeat: no scoring, no event."""
    cid = held_comment(services, site.id, CLEAN, spam=0.1, status=Status.APPROVED, external_id="78")
    first = signed_request(client, site, "POST", "/api/v1/comments", {"id": "78", "content": CLEAN, "revision": 3})
    assert first.status_code == 200 and first.get_json()["revision"] == 3
    before = _events(services, cid)
    for body in ({"id": "78", "content": SPAM}, {"id": "78", "content": SPAM, "revision": 3},
                 {"id": "78", "content": SPAM, "revision": 2}):
        again = signed_request(client, site, "POST", "/api/v1/comments", body)
        assert again.status_code == 200 and again.get_json()["revision"] == 3
    assert _row(services, cid).content == CLEAN and _events(services, cid) == before


def test_put_edits_by_service_id(client: Any, site: Site, make_site: Callable[..., Site], services: Services) -> None:
    """PUT takes the next revision when none is sent; another site's id is a 404, a foreign id a 422; both change
    nothing."""
    cid = held_comment(services, site.id, CLEAN, spam=0.1, status=Status.APPROVED, external_id="79")
    other = make_site("other")
    assert signed_request(client, other, "PUT", f"/api/v1/comments/{cid}", {"content": SPAM}).status_code == 404
    wrong = signed_request(client, site, "PUT", f"/api/v1/comments/{cid}", {"id": "80", "content": SPAM})
    assert wrong.status_code == 422 and "id" in wrong.get_json()["error"]["fields"]
    assert signed_request(client, site, "PUT", "/api/v1/comments/nope", {"content": SPAM}).status_code == 404
    assert _row(services, cid).revision == 0
    done = signed_request(client, site, "PUT", f"/api/v1/comments/{cid}", {"content": SPAM})
    assert done.status_code == 200 and (done.get_json()["status"], done.get_json()["revision"]) == ("held", 1)
    again = signed_request(client, site, "PUT", f"/api/v1/comments/{cid}", {"id": 79, "content": CLEAN, "revision": 1})
    assert again.status_code == 200 and again.get_json()["status"] == "held"  # stale: unchanged
    assert _row(services, cid).content == SPAM


def test_a_queued_comment_edited_is_decided_once_on_the_new_text(
        client: Any, site: Site, services: Services, run_worker: Callable[[], bool]) -> None:
    """An edit before the worker got to the comment decides it (comment.decided) on the new text; the worker's
    later turn finds nothing to do."""
    new = signed_request(client, site, "POST", "/api/v1/comments", {"id": "81", "content": CLEAN})
    assert new.status_code == 202
    edit = signed_request(client, site, "POST", "/api/v1/comments", {"id": "81", "content": SPAM, "revision": 1})
    assert edit.status_code == 200 and edit.get_json()["status"] == "spam"
    run_worker()
    cid = new.get_json()["id"]
    assert _events(services, cid) == [("queued", "spam", "edit: revision 1")]
    with services.db.session() as session:
        events = list(session.scalars(select(CallbackDelivery.event).where(CallbackDelivery.comment_id == cid)))
    assert events == ["comment.decided"]


def test_batch_items_with_a_higher_revision_are_edits(client: Any, site: Site, services: Services) -> None:
    """In a batch, a known id with a higher revision is re-scored (code 200) beside new items (202)."""
    cid = held_comment(services, site.id, CLEAN, spam=0.1, status=Status.APPROVED, external_id="82")
    answer = signed_request(client, site, "POST", "/api/v1/comments/batch", {"comments": [
        {"id": "82", "content": SPAM, "revision": 2}, {"id": "83", "content": CLEAN}]})
    assert answer.status_code == 207
    first, second = answer.get_json()["results"]
    assert (first["code"], first["id"], first["status"], first["revision"]) == (200, cid, "held", 2)
    assert (second["code"], second["status"]) == (202, "queued")


def test_revision_must_be_a_whole_number_in_range(client: Any, site: Site, services: Services) -> None:
    """A negative, fractional, boolean or 32-bit-overflowing revision is a 422 and stores nothing."""
    for bad in (-1, 1.5, True, "2", 2**31):
        body = {"id": "84", "content": CLEAN, "revision": bad}
        answer = signed_request(client, site, "POST", "/api/v1/comments", body)
        assert answer.status_code == 422 and "revision" in answer.get_json()["error"]["fields"], bad
    with services.db.session() as session:
        assert session.scalar(select(Comment.id)) is None


def _fresh(status: Status) -> Decision:
    """A decider's verdict on an edited text."""
    return Decision("c1", 1, status, "model", [{"code": "policy.x"}], spam=0.5, abusive=0.0, model_version="v")


def test_after_edit_never_jumps_between_opposite_verdicts() -> None:
    """Approved -> spam and a person's spam/reject -> approved become holds; the rest take the fresh verdict."""
    cases = [
        (Status.APPROVED, "model", Status.SPAM, Status.HELD),
        (Status.APPROVED, "moderator:ani", Status.SPAM, Status.HELD),
        (Status.APPROVED, "model", Status.HELD, Status.HELD),
        (Status.APPROVED, "moderator:ani", Status.APPROVED, Status.APPROVED),
        (Status.SPAM, "moderator:ani", Status.APPROVED, Status.HELD),
        (Status.REJECTED, "moderator:ani", Status.APPROVED, Status.HELD),
        (Status.SPAM, "model", Status.APPROVED, Status.APPROVED),
        (Status.HELD, "model", Status.APPROVED, Status.APPROVED),
        (Status.QUEUED, None, Status.SPAM, Status.SPAM),
    ]
    for current, by, fresh, expected in cases:
        made = after_edit(current, by, _fresh(fresh), 2)
        assert made.status == expected, (current, by, fresh)
        codes = [r["code"] for r in made.reasons]
        assert EDIT_CODE in codes and (EDIT_HELD_CODE in codes) == (expected != fresh)
