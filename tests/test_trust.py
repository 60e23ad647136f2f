"""Earned trust: an author's standing per site moves uncertain decisions in the decision walk; moderators revoke it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from moderation.decide.states import Decision, Status
from moderation.decide.trust import Standing, TrustPolicy, author_key
from moderation.services import Services
from moderation.store.decisions import record
from moderation.store.models import Comment, ListEntry, Site, TrustEvent
from tests.browser.support import add_user, login, page_token
from tests.support import Site as SiteCreds
from tests.support import signed_request


@pytest.fixture
def config(config: dict[str, Any]) -> dict[str, Any]:
    """Trust on: two approved comments without spam make an author trusted; newcomers' first comments are held."""
    return {**config, "trust.min_approved": "2", "trust.window_days": "30"}


def _uncertain(decision_status: Status = Status.HELD) -> Decision:
    """A model decision as status_for makes it for an uncertain score."""
    return Decision("c1", 1, decision_status, "model",
                    [{"code": "policy.uncertain" if decision_status == Status.HELD else "policy.approve_below"}],
                    spam=0.6)


def test_policy_moves_only_what_it_should() -> None:
    """Trusted: uncertain → approved; spam, abusive holds and rule decisions stay; hold_first holds newcomers."""
    policy = TrustPolicy(min_approved=2, hold_first=True)
    trusted, newcomer = Standing(approved=2, decided=2), Standing()
    moved = policy.apply(_uncertain(), trusted)
    assert moved.status == Status.APPROVED and moved.reasons[0]["code"] == "trust.trusted"
    assert policy.apply(_uncertain(), Standing(approved=2, spam=1, decided=3)).status == Status.HELD
    assert policy.apply(_uncertain(), Standing(approved=1, decided=1)).status == Status.HELD
    assert policy.apply(_uncertain(), Standing(approved=5, decided=5, revoked=True)).status == Status.HELD
    spam = Decision("c1", 1, Status.SPAM, "model", [{"code": "policy.spam_above"}], spam=0.95)
    assert policy.apply(spam, trusted).status == Status.SPAM
    abusive = Decision("c1", 1, Status.HELD, "model", [{"code": "policy.abusive_above"}], spam=0.1)
    assert policy.apply(abusive, trusted).status == Status.HELD
    rule = Decision("c1", 1, Status.HELD, "rule", [{"code": "policy.uncertain"}])
    assert policy.apply(rule, trusted) is rule
    first = policy.apply(_uncertain(Status.APPROVED), newcomer)
    assert first.status == Status.HELD and first.reasons[0]["code"] == "trust.newcomer"
    assert policy.apply(_uncertain(Status.APPROVED), Standing(decided=1)).status == Status.APPROVED
    assert TrustPolicy(0, False).apply(_uncertain(), trusted).status == Status.HELD  # trust off
    assert TrustPolicy(2, False).apply(_uncertain(Status.APPROVED), newcomer).status == Status.APPROVED


def test_author_key_prefers_the_sites_user_id() -> None:
    """The site's user id when sent, else the e-mail (lower-cased), else nobody."""
    assert author_key("42", "Ani@Example.id") == "user:42"
    assert author_key(None, " Ani@Example.id ") == "email:ani@example.id"
    assert author_key("  ", None) is None and author_key(None, None) is None


def _every_score_uncertain(services: Services, site_id: int) -> None:
    """Thresholds under which every model score is uncertain (held), so only trust can approve."""
    with services.db.session() as session:
        session.execute(update(Site).where(Site.id == site_id).values(approve_below=0.0, spam_above=1.0))


def _send(client: FlaskClient, site: SiteCreds, ext: str, author: dict[str, Any],
          content: str = "Semoga jalan di kampung kami cepat diperbaiki") -> str:
    """Post one comment through intake; returns its service id."""
    answer = signed_request(client, site, "POST", "/api/v1/comments", {"id": ext, "content": content,
                                                                        "author": author})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    return str(answer.get_json()["id"])


def _approve(services: Services, comment_id: str, site_id: int) -> None:
    """A moderator approves a held comment (through the one write path)."""
    with services.db.session() as session:
        decision = Decision(comment_id, site_id, Status.APPROVED, "moderator:ani", [{"code": "moderator.approve"}])
        assert record(session, [decision], Status.HELD, event=None).applied


def _decided(services: Services, comment_id: str) -> Comment:
    """A comment as it now stands."""
    with services.db.session() as session:
        row = session.get(Comment, comment_id)
        session.expunge(row)
        return row


def test_trust_is_earned_revoked_and_never_beats_a_deny_rule(client: FlaskClient, site: SiteCreds,
                                                              services: Services, run_worker: Callable[[], bool]
                                                              ) -> None:
    """Two approved comments earn trust (by user id); a deny rule still wins; a revoke takes trust away."""
    _every_score_uncertain(services, site.id)
    author = {"name": "Ani", "email": "ani@example.id", "user_id": 42}
    first = [_send(client, site, f"a{i}", author) for i in range(2)]
    run_worker()
    assert [_decided(services, c).status for c in first] == ["held", "held"]
    for c in first:
        _approve(services, c, site.id)
    trusted = _send(client, site, "a3", author)
    stranger = _send(client, site, "s1", {"email": "ani@example.id"})  # same e-mail, no user id: another key
    run_worker()
    row = _decided(services, trusted)
    assert row.status == "approved" and row.reasons[0]["code"] == "trust.trusted"
    assert row.author_user_id == "42"
    assert _decided(services, stranger).status == "held"

    with services.db.session() as session:
        session.add(ListEntry(site_id=site.id, action="deny", kind="word", value="judi",
                              created_at=row.received_at))
    denied = _send(client, site, "a4", author, content="Ayo main judi online di sini")
    run_worker()
    assert _decided(services, denied).status == "spam"

    add_user(services, "ani")
    login(client, "ani")
    headers = {"X-CSRFToken": page_token(client)}
    detail = client.get(f"/api/v1/review/comments/{trusted}").get_json()
    assert detail["standing"] | {"events": []} == {
        "author": "user:42", "approved": 3, "spam": 1, "decided": 4, "revoked": False, "trusted": False,
        "min_approved": 2, "window_days": 30, "events": []}  # the denied comment is spam: trust is lost
    revoked = client.post("/api/v1/review/trust", json={"comment_id": trusted, "action": "revoke",
                                                        "note": "spams links"}, headers=headers)
    assert revoked.status_code == 200, revoked.get_data(as_text=True)
    assert revoked.get_json()["standing"]["revoked"] is True
    with services.db.session() as session:
        event = session.scalar(select(TrustEvent))
        assert (event.site_id, event.author_key, event.action, event.actor, event.note) == (
            site.id, "user:42", "revoke", "moderator:ani", "spams links")


def test_revoke_and_restore_move_the_next_decision(client: FlaskClient, site: SiteCreds, services: Services,
                                                   run_worker: Callable[[], bool]) -> None:
    """A revoked author's next uncertain comment is held; restored, it is approved again (keyed by e-mail)."""
    _every_score_uncertain(services, site.id)
    author = {"email": "budi@example.id"}
    for c in [_send(client, site, f"b{i}", {"email": "Budi@Example.id"}) for i in range(2)]:
        run_worker()
        _approve(services, c, site.id)
    add_user(services, "ani")
    login(client, "ani")
    headers = {"X-CSRFToken": page_token(client)}
    anchor = _send(client, site, "b2", author)
    run_worker()
    assert _decided(services, anchor).status == "approved"  # e-mails compare case-insensitively
    assert client.post("/api/v1/review/trust", json={"comment_id": anchor, "action": "revoke"},
                       headers=headers).status_code == 200
    held = _send(client, site, "b3", author)
    run_worker()
    assert _decided(services, held).status == "held"
    assert client.post("/api/v1/review/trust", json={"comment_id": anchor, "action": "restore"},
                       headers=headers).status_code == 200
    again = _send(client, site, "b4", author)
    run_worker()
    assert _decided(services, again).status == "approved"


def test_revoking_is_checked(client: FlaskClient, site: SiteCreds, services: Services,
                             make_site: Callable[..., SiteCreds], run_worker: Callable[[], bool]) -> None:
    """No CSRF token, bad bodies, anonymous authors and another scope's comments change nothing."""
    named = _send(client, site, "n1", {"email": "c@example.id"})
    anonymous = _send(client, site, "n2", {"name": "tanpa nama"})
    run_worker()
    from moderation.store.users import create_user, set_scope

    other = make_site("elsewhere")
    with services.db.session() as session:
        create_user(session, "scoped", "moderator", "correct horse battery")
        set_scope(session, "scoped", [other.id])
    add_user(services, "ani")
    login(client, "ani")
    headers = {"X-CSRFToken": page_token(client)}
    assert client.post("/api/v1/review/trust", json={"comment_id": named, "action": "revoke"}).status_code == 400
    for body, code in (({"comment_id": named, "action": "ban"}, 400), ({"comment_id": 5, "action": "revoke"}, 400),
                       ({"comment_id": named, "action": "revoke", "note": 7}, 422),
                       ({"comment_id": "nope", "action": "revoke"}, 404),
                       ({"comment_id": anonymous, "action": "revoke"}, 400)):
        assert client.post("/api/v1/review/trust", json=body, headers=headers).status_code == code, body
    assert client.get(f"/api/v1/review/comments/{anonymous}").get_json()["standing"] is None
    client.post("/logout", data={"csrf_token": headers["X-CSRFToken"]})
    login(client, "scoped")
    scoped = {"X-CSRFToken": page_token(client)}
    assert client.post("/api/v1/review/trust", json={"comment_id": named, "action": "revoke"},
                       headers=scoped).status_code == 404
    with services.db.session() as session:
        assert session.scalar(select(TrustEvent)) is None


class TestHoldFirst:
    """trust.hold_first on."""

    @pytest.fixture
    def config(self, config: dict[str, Any]) -> dict[str, Any]:
        """The module's trust settings, with newcomers' first comments held."""
        return {**config, "trust.hold_first": "true"}

    def test_a_newcomers_first_comment_is_held(self, client: FlaskClient, site: SiteCreds, services: Services,
                                               run_worker: Callable[[], bool]) -> None:
        """A first comment the model would approve is held; once one is decided, the next is not."""
        with services.db.session() as session:  # every score approved by the model
            session.execute(update(Site).where(Site.id == site.id).values(approve_below=1.0, spam_above=1.0))
        author = {"email": "dewi@example.id", "name": "Dewi"}
        first = _send(client, site, "d1", author)
        run_worker()
        row = _decided(services, first)
        assert row.status == "held" and row.reasons[0]["code"] == "trust.newcomer"
        _approve(services, first, site.id)
        second = _send(client, site, "d2", author)
        anonymous = _send(client, site, "d3", {"name": "anon"})
        run_worker()
        assert _decided(services, second).status == "approved"
        assert _decided(services, anonymous).status == "approved"  # no key, no standing: not a newcomer either


def test_erasure_forgets_standing(services: Services, site: SiteCreds, settings: Any) -> None:
    """`privacy purge --email` erases the author's user id and the trust events kept under their address."""
    from moderation.privacy import purge_email
    from moderation.store.trust import change_trust
    from tests.browser.support import held_comment

    comment_id = held_comment(services, site.id, "Komentar", author_email="Eka@Example.id", author_user_id="7")
    with services.db.session() as session:
        change_trust(session, site.id, "email:eka@example.id", "revoke", "moderator:ani")
        change_trust(session, site.id, "email:other@example.id", "revoke", "moderator:ani")
    purge_email(services.db, settings, "Eka@Example.id")
    with services.db.session() as session:
        assert session.get(Comment, comment_id).author_user_id is None
        assert [e.author_key for e in session.scalars(select(TrustEvent))] == ["email:other@example.id"]
