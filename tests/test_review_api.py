"""The review API: queues, filters, keyset pages, actions with audit/label/callback, undo, authors, admin."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from moderation.decide.states import Status
from moderation.delivery import signing
from moderation.services import Services
from moderation.store.labels import site_labels
from moderation.store.models import Comment, DecisionEvent, ListEntry, TrainingLabel
from moderation.store.review import encode_cursor
from tests.browser.support import add_user, held_comment, login, page_token
from tests.support import Receiver, Site, signed_request


@pytest.fixture
def moderator(client: FlaskClient, services: Services) -> dict[str, str]:
    """A logged-in moderator and the CSRF header the console's JavaScript sends."""
    add_user(services, "ani")
    login(client, "ani")
    return {"X-CSRFToken": page_token(client)}


def _status(services: Services, comment_id: str) -> str:
    """A comment's current status."""
    with services.db.session() as session:
        return str(session.get(Comment, comment_id).status)


def _labels(services: Services, comment_id: str) -> set[tuple[str, str]]:
    """(head, label) pairs recorded for a comment."""
    with services.db.session() as session:
        rows = session.scalars(select(TrainingLabel).where(TrainingLabel.comment_id == comment_id))
        return {(r.head, r.label) for r in rows}


def test_queue_pages_cover_every_comment_once(client: FlaskClient, moderator: dict[str, str], services: Services,
                                              site: Site) -> None:
    """Keyset pages by age and by score (ties included, rule-decided comments without scores last) never repeat."""
    ids = [held_comment(services, site.id, f"komentar nomor {i}", spam=0.5 + (i % 3) / 10) for i in range(23)]
    rule_spam = [held_comment(services, site.id, f"slot gacor {i}", spam=None, status=Status.SPAM,  # type: ignore[arg-type]
                              reasons=[{"code": "rule.deny.word", "detail": "x"}]) for i in range(3)]
    for sort, queue, expected in (("oldest", "held", ids), ("score", "held", None), ("score_asc", "spam", None)):
        seen, cursor = [], None
        while True:
            url = f"/api/v1/review/queue?queue={queue}&sort={sort}&limit=5" + (f"&cursor={cursor}" if cursor else "")
            body = client.get(url).get_json()
            seen += [i["id"] for i in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        if expected is not None:
            assert seen == expected
        elif queue == "held":
            assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
            scores = [round(0.5 + (ids.index(i) % 3) / 10, 3) for i in seen]
            assert scores == sorted(scores, reverse=True)
        else:
            assert sorted(seen) == sorted(rule_spam)
    assert client.get("/api/v1/review/queue?queue=held").get_json()["total"] == 23


def test_filters_and_search(client: FlaskClient, moderator: dict[str, str], services: Services,
                            make_site: Callable[..., Site]) -> None:
    """Site, language, post, reason and search (text, name, e-mail, IP) each narrow the queue."""
    news, sport = make_site("news"), make_site("sport")
    a = held_comment(services, news.id, "Harga cabai naik 50%_ lagi", lang="id", post_id="p1", author_name="Andi",
                     author_email="andi@example.id", author_ip="203.0.113.7")
    b = held_comment(services, sport.id, "Great match yesterday", lang="en", post_id="p2", author_name="Budi",
                     reasons=[{"code": "policy.abusive_above", "detail": "abusive 0.9"}])

    def ids(query: str) -> list[str]:
        return [i["id"] for i in client.get("/api/v1/review/queue?" + query).get_json()["items"]]

    assert ids("site=sport") == [b] and ids("lang=id") == [a] and ids("post=p1") == [a]
    assert ids("reason=policy.abusive") == [b] and ids("reason=policy.uncertain") == [a]
    assert ids("q=CABAI") == [a] and ids("q=budi") == [b] and ids("q=andi@example.id") == [a]
    assert ids("q=203.0.113.7") == [a] and ids("q=50%25_") == [a] and ids("q=%25") == [a]
    assert ids("q=nothing-like-this") == []
    for bad in ("site=nope", "queue=all", "sort=random", "cursor=garbage", "reason=x%20y"):
        resp = client.get("/api/v1/review/queue?" + bad)
        assert resp.status_code == 400 and resp.get_json()["error"]["message"]


def test_approve_is_audited_labelled_and_called_back(client: FlaskClient, moderator: dict[str, str], services: Services,
                                                     site: Site, receiver: Receiver,
                                                     run_worker: Callable[[], bool]) -> None:
    """One approve: status, audit event (who, from → to, note), ham/clean labels, a signed callback."""
    cid = held_comment(services, site.id, "Semoga cepat pulih")
    resp = client.post("/api/v1/review/actions", headers=moderator,
                       json={"action": "approve", "ids": [cid], "expected": "held", "note": "fine"})
    assert resp.status_code == 200 and resp.get_json()["applied"] == [cid]
    assert _status(services, cid) == "approved"
    with services.db.session() as session:
        event = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == cid)
                                .order_by(DecisionEvent.id.desc())).first()
        assert (event.actor, event.from_status, event.to_status, event.note) == ("moderator:ani", "held", "approved",
                                                                                  "fine")
    assert _labels(services, cid) == {("spam", "ham"), ("abusive", "clean")}
    run_worker()
    body = receiver.bodies()[-1]
    assert body["event"] == "comment.moderated" and body["comment"]["status"] == "approved"
    assert body["comment"]["decided_by"] == "moderator:ani"
    request = receiver.requests[-1]
    assert signing.verify([site.secret], request["headers"]["X-Moderation-Timestamp"],
                          request["headers"]["X-Moderation-Signature"], "POST", "/hook", request["body"], 300).ok


def test_stale_view_never_overwrites_another_moderators_decision(client: FlaskClient, moderator: dict[str, str],
                                                                services: Services, site: Site) -> None:
    """Acting on a comment that moved since the page was loaded skips it and changes nothing."""
    cid = held_comment(services, site.id, "Tulisan bagus")
    client.post("/api/v1/review/actions", headers=moderator,
                json={"action": "approve", "ids": [cid], "expected": "held"})
    resp = client.post("/api/v1/review/actions", headers=moderator,
                       json={"action": "spam", "ids": [cid], "expected": "held"})
    assert resp.get_json()["applied"] == [] and cid in resp.get_json()["skipped"]
    assert _status(services, cid) == "approved"


def test_reject_kinds_teach_different_heads(client: FlaskClient, moderator: dict[str, str], services: Services,
                                            site: Site) -> None:
    """Reject-as-abusive labels the abusive head; reject-other says 'not spam'."""
    rude, off_topic = held_comment(services, site.id, "dasar bodoh"), held_comment(services, site.id, "jual motor")
    client.post("/api/v1/review/actions", headers=moderator,
                json={"action": "reject", "reject_as": "abusive", "ids": [rude], "expected": "held"})
    client.post("/api/v1/review/actions", headers=moderator,
                json={"action": "reject", "reject_as": "other", "ids": [off_topic], "expected": "held"})
    assert _status(services, rude) == _status(services, off_topic) == "rejected"
    assert _labels(services, rude) == {("abusive", "abusive")} and _labels(services, off_topic) == {("spam", "ham")}


def test_bad_actions_change_nothing(client: FlaskClient, moderator: dict[str, str], services: Services,
                                   site: Site) -> None:
    """Unknown actions, bad ids, a missing expected status or a bad reject kind are 400s."""
    cid = held_comment(services, site.id, "Halo")
    for body in ({"action": "delete", "ids": [cid], "expected": "held"}, {"action": "spam", "ids": cid},
                 {"action": "spam", "ids": [cid]}, {"action": "reject", "reject_as": "ugly", "ids": [cid],
                                                    "expected": "held"},
                 {"action": "spam", "filter": {"queue": "nope"}}, {"action": "spam", "ids": [cid], "expected": "held",
                                                                   "note": "x" * 2001}):
        resp = client.post("/api/v1/review/actions", headers=moderator, json=body)
        assert resp.status_code == 400, body
    assert client.post("/api/v1/review/actions", headers=moderator, data="[]",
                       content_type="application/json").status_code == 400
    assert _status(services, cid) == "held" and _labels(services, cid) == set()


def test_select_all_matching_the_filter(client: FlaskClient, moderator: dict[str, str], services: Services,
                                        make_site: Callable[..., Site]) -> None:
    """A filter instead of ids acts on every matching comment, and only those."""
    news, sport = make_site("news"), make_site("sport")
    mine = [held_comment(services, news.id, f"Berita {i}") for i in range(7)]
    other = held_comment(services, sport.id, "Berita lain")
    resp = client.post("/api/v1/review/actions", headers=moderator,
                       json={"action": "approve", "filter": {"queue": "held", "site": "news"}})
    assert sorted(resp.get_json()["applied"]) == sorted(mine)
    assert {_status(services, c) for c in mine} == {"approved"} and _status(services, other) == "held"


def test_undo_reverses_the_last_action(client: FlaskClient, moderator: dict[str, str], services: Services, site: Site,
                                       receiver: Receiver, run_worker: Callable[[], bool]) -> None:
    """Undo puts the comments back, withdraws the labels, is audited and tells the site again."""
    cids = [held_comment(services, site.id, f"Komentar {i}") for i in range(3)]
    client.post("/api/v1/review/actions", headers=moderator,
                json={"action": "approve", "ids": cids, "expected": "held"})
    resp = client.post("/api/v1/review/undo", headers=moderator, json={})
    assert resp.status_code == 200 and sorted(resp.get_json()["applied"]) == sorted(cids)
    assert {_status(services, c) for c in cids} == {"held"}
    assert all(_labels(services, c) == set() for c in cids)
    with services.db.session() as session:
        last = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == cids[0])
                               .order_by(DecisionEvent.id.desc())).first()
        assert (last.from_status, last.to_status, last.actor) == ("approved", "held", "moderator:ani")
    run_worker()
    statuses = [b["comment"]["status"] for b in receiver.bodies() if b["comment"]["id"] == cids[0]]
    assert statuses == ["approved", "held"]
    again = client.post("/api/v1/review/undo", headers=moderator, json={})
    assert again.status_code == 409 and "nothing to undo" in again.get_json()["error"]["message"]


@pytest.mark.parametrize(("action", "status", "labels"), [
    ("spam", "spam", {("spam", "spam")}), ("reject", "rejected", {("abusive", "abusive")})])
def test_undo_of_spam_or_reject_puts_the_comment_back_in_the_held_queue(
        client: FlaskClient, moderator: dict[str, str], services: Services, site: Site, receiver: Receiver,
        run_worker: Callable[[], bool], action: str, status: str, labels: set[tuple[str, str]]) -> None:
    """spam → held and rejected → held: the undo is audited, withdraws the label and tells the site again."""
    cid = held_comment(services, site.id, "Promo murah")
    client.post("/api/v1/review/actions", headers=moderator,
                json={"action": action, "reject_as": "abusive", "ids": [cid], "expected": "held"})
    assert _status(services, cid) == status and _labels(services, cid) == labels
    resp = client.post("/api/v1/review/undo", headers=moderator, json={})
    assert resp.status_code == 200 and resp.get_json()["applied"] == [cid]
    assert _status(services, cid) == "held" and _labels(services, cid) == set()
    held = client.get("/api/v1/review/queue?queue=held").get_json()["items"]
    assert [i["id"] for i in held] == [cid]
    with services.db.session() as session:
        last = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == cid)
                               .order_by(DecisionEvent.id.desc())).first()
        assert (last.from_status, last.to_status, last.actor) == (status, "held", "moderator:ani")
        assert last.reasons[0]["code"] == "moderator.undo"
    run_worker()
    sent = [(b["event"], b["comment"]["status"]) for b in receiver.bodies() if b["comment"]["id"] == cid]
    assert sent == [("comment.moderated", status), ("comment.moderated", "held")]


def test_confirming_a_spam_the_model_marked_is_a_label_and_no_callback(
        client: FlaskClient, moderator: dict[str, str], services: Services, site: Site, receiver: Receiver,
        run_worker: Callable[[], bool]) -> None:
    """'spam' on a comment the model marked spam keeps it spam, audits the confirmation, records a moderator's spam
    label for the site's next model and tells the site nothing (nothing moved); undo withdraws the label."""
    cid = held_comment(services, site.id, "AERO88 gacor maxwin", spam=0.97, status=Status.SPAM)
    resp = client.post("/api/v1/review/actions", headers=moderator,
                       json={"action": "spam", "ids": [cid], "expected": "spam"})
    assert resp.status_code == 200 and resp.get_json()["applied"] == [cid]
    assert _status(services, cid) == "spam" and _labels(services, cid) == {("spam", "spam")}
    with services.db.session() as session:
        last = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == cid)
                               .order_by(DecisionEvent.id.desc())).first()
        assert (last.from_status, last.to_status, last.actor) == ("spam", "spam", "moderator:ani")
        assert [(lab.comment_id, lab.spam, lab.source) for lab in site_labels(session, site.id)] == [
            (cid, 1, "moderator")]
        assert session.get(Comment, cid).decided_by == "model"  # the comment's own decision stays the model's
    run_worker()
    assert [b for b in receiver.bodies() if b["comment"]["id"] == cid] == []
    assert client.post("/api/v1/review/undo", headers=moderator, json={}).get_json()["applied"] == [cid]
    assert _status(services, cid) == "spam" and _labels(services, cid) == set()
    rejected = held_comment(services, site.id, "kasar sekali")
    client.post("/api/v1/review/actions", headers=moderator, json={"action": "reject", "ids": [rejected],
                                                                   "expected": "held"})
    again = client.post("/api/v1/review/actions", headers=moderator,
                        json={"action": "reject", "ids": [rejected], "expected": "rejected"}).get_json()
    assert again["applied"] == [] and "cannot reject" in again["skipped"][rejected]


def test_one_moderator_cannot_undo_anothers_action(client: FlaskClient, app: Any, moderator: dict[str, str],
                                                   services: Services, site: Site) -> None:
    """Undo is per moderator: someone else's action id is refused."""
    cid = held_comment(services, site.id, "Mantap")
    action_id = client.post("/api/v1/review/actions", headers=moderator,
                            json={"action": "approve", "ids": [cid], "expected": "held"}).get_json()["action_id"]
    add_user(services, "budi")
    other = app.test_client()
    login(other, "budi")
    resp = other.post("/api/v1/review/undo", headers={"X-CSRFToken": page_token(other)}, json={"action_id": action_id})
    assert resp.status_code == 409 and _status(services, cid) == "approved"


def test_comment_detail_shows_history_and_identical_comments(client: FlaskClient, moderator: dict[str, str],
                                                             services: Services,
                                                             make_site: Callable[..., Site]) -> None:
    """Author history by e-mail or IP within the site, the audit trail, and identical recent comments."""
    news, sport = make_site("news"), make_site("sport")
    earlier = held_comment(services, news.id, "Pertama", author_email="x@example.id", status=Status.APPROVED)
    held_comment(services, news.id, "Dari IP yang sama", author_ip="198.51.100.4", status=Status.SPAM)
    held_comment(services, sport.id, "Situs lain", author_email="x@example.id")
    for _ in range(2):
        held_comment(services, news.id, "  CEK WA 0812 sekarang ")
    cid = held_comment(services, news.id, "cek wa 0812 sekarang", author_email="x@example.id",
                       author_ip="198.51.100.4")
    detail = client.get(f"/api/v1/review/comments/{cid}").get_json()
    assert {h["content"] for h in detail["history"]} == {"Pertama", "Dari IP yang sama"}
    assert detail["history_counts"] == {"approved": 1, "spam": 1} and earlier in {h["id"] for h in detail["history"]}
    assert detail["similar"] == 2
    assert [(e["from"], e["to"], e["actor"]) for e in detail["events"]] == [("queued", "held", "model")]
    assert client.get("/api/v1/review/comments/nope").status_code == 404


def test_ban_an_author_lists_them_and_clears_their_queue(client: FlaskClient, moderator: dict[str, str],
                                                         services: Services, site: Site,
                                                         run_worker: Callable[[], bool]) -> None:
    """Ban by e-mail: a deny entry for the site, their held comments to spam, their next comment spam by rule."""
    theirs = held_comment(services, site.id, "Gabung grup", author_email="Spammer@Example.id".lower())
    resp = client.post("/api/v1/review/authors", headers=moderator,
                       json={"site": "news", "verdict": "ban", "kind": "email", "value": "Spammer@Example.id",
                             "apply_to_queue": True})
    assert resp.status_code == 200 and resp.get_json()["outcome"]["applied"] == [theirs]
    assert _status(services, theirs) == "spam"
    new = signed_request(client, site, "POST", "/api/v1/comments",
                         {"id": "n1", "content": "Halo semua", "author": {"email": "spammer@example.id"}})
    run_worker()
    read = signed_request(client, site, "GET", f"/api/v1/comments/{new.get_json()['id']}").get_json()
    assert read["status"] == "spam" and read["reasons"][0]["code"] == "rule.deny.email"
    for body in ({"site": "news", "verdict": "ban", "kind": "email", "value": "not-an-email"},
                 {"site": "nope", "verdict": "ban", "kind": "ip", "value": "203.0.113.9"},
                 {"site": "news", "verdict": "smite", "kind": "ip", "value": "203.0.113.9"}):
        assert client.post("/api/v1/review/authors", headers=moderator, json=body).status_code == 400, body
    with services.db.session() as session:
        assert session.scalars(select(ListEntry.value)).all() == ["spammer@example.id"]


def test_admin_site_settings_and_secret_rotation(client: FlaskClient, services: Services, site: Site) -> None:
    """Admins change thresholds (validated all-or-nothing) and rotate secrets; both secrets verify in the grace."""
    add_user(services, "root", "admin")
    login(client, "root")
    headers = {"X-CSRFToken": page_token(client)}
    resp = client.patch("/api/v1/review/sites/news", headers=headers, json={"approve_below": 0.3, "spam_above": 0.95})
    assert resp.status_code == 200 and resp.get_json()["approve_below"] == 0.3
    for bad in ({"approve_below": 0.99}, {"spam_above": "high"}, {"callback_url": "javascript:alert(1)"},
                {"secret": "x"}):
        assert client.patch("/api/v1/review/sites/news", headers=headers, json=bad).status_code == 400, bad
    assert client.get("/api/v1/review/sites").get_json()["sites"][0]["approve_below"] == 0.3
    rotated = client.post("/api/v1/review/sites/news/rotate-secret", headers=headers).get_json()
    assert rotated["secret"] != site.secret and rotated["previous_valid_until"]
    old_ok = signed_request(client, site, "GET", "/api/v1/comments?external_id=none")
    new_site = Site(site.id, site.slug, rotated["secret"], site.api_key)
    new_ok = signed_request(client, new_site, "GET", "/api/v1/comments?external_id=none")
    assert old_ok.status_code == new_ok.status_code == 404  # both signatures accepted; the comment just is not there
    listed = json.dumps(client.get("/api/v1/review/sites").get_json())
    assert rotated["secret"] not in listed and site.secret not in listed


def test_admin_lists_validate_values(client: FlaskClient, services: Services, site: Site) -> None:
    """Entries are validated per kind, duplicates are not added twice, deletes are by id."""
    add_user(services, "root", "admin")
    login(client, "root")
    headers = {"X-CSRFToken": page_token(client)}
    created = client.post("/api/v1/review/lists", headers=headers,
                          json={"site": "news", "action": "deny", "kind": "domain", "value": "https://Judi.Example/x"})
    assert created.status_code == 201 and created.get_json()["value"] == "judi.example"
    assert client.post("/api/v1/review/lists", headers=headers,
                       json={"site": "news", "action": "deny", "kind": "domain", "value": "judi.example"}
                       ).status_code == 200
    for bad in ({"action": "deny", "kind": "ip", "value": "300.1.1.1"},
                {"action": "maybe", "kind": "word", "value": "x"},
                {"action": "deny", "kind": "colour", "value": "red"},
                {"action": "deny", "kind": "word", "value": " "}):
        assert client.post("/api/v1/review/lists", headers=headers, json=bad).status_code == 400, bad
    entries = client.get("/api/v1/review/lists?site=news").get_json()["entries"]
    assert [e["value"] for e in entries] == ["judi.example"]
    assert client.delete(f"/api/v1/review/lists/{entries[0]['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/review/lists/{entries[0]['id']}", headers=headers).status_code == 404


def test_suggestions_put_the_least_certain_first(client: FlaskClient, moderator: dict[str, str], services: Services,
                                                 site: Site) -> None:
    """'Help the model' orders by |spam - 0.5| and leaves out comments a moderator already labelled."""
    far, near, nearest = (held_comment(services, site.id, t, spam=s) for t, s in
                          (("a", 0.85), ("b", 0.62), ("c", 0.52)))
    assert [i["id"] for i in client.get("/api/v1/review/suggestions").get_json()["items"]] == [nearest, near, far]
    client.post("/api/v1/review/actions", headers=moderator, json={"action": "approve", "ids": [nearest],
                                                                   "expected": "held"})
    assert [i["id"] for i in client.get("/api/v1/review/suggestions").get_json()["items"]] == [near, far]


def test_suggestions_offer_one_copy_of_a_campaign(client: FlaskClient, moderator: dict[str, str], services: Services,
                                                  site: Site) -> None:
    """Copies of one campaign (numbers and punctuation aside) are offered once; the next suggestion is another
    comment, however less uncertain it is."""
    first = held_comment(services, site.id, "AERO88 gacor, maxwin 5 juta!", spam=0.50)
    for n, score in ((7, 0.51), (9, 0.49)):
        held_comment(services, site.id, f"aero88 GACOR maxwin {n} juta", spam=score)
    other = held_comment(services, site.id, "Pinjaman cepat cair tanpa agunan, hubungi kami", spam=0.80)
    assert [i["id"] for i in client.get("/api/v1/review/suggestions").get_json()["items"]] == [first, other]


def test_suggestions_offer_the_models_own_spam_marks_to_spot_check(
        client: FlaskClient, moderator: dict[str, str], services: Services, site: Site) -> None:
    """The model's unlabelled spam marks are spot-checks, not uncertain comments: lowest spam score first, one per
    campaign, none of a campaign the uncertain list already offers, never a rule's mark; a confirmed one is done."""
    spam = Status.SPAM
    low, copy, high = (held_comment(services, site.id, t, spam=s, status=spam) for t, s in
                       (("slot gacor 1 juta", 0.91), ("slot gacor 2 juta", 0.92), ("pinjol cepat cair", 0.99)))
    rule = held_comment(services, site.id, "deny listed", spam=0.90, status=spam,
                        reasons=[{"code": "rule.deny.word", "detail": "x"}])
    unknown = held_comment(services, site.id, "decider unknown", spam=0.70, status=spam)
    with services.db.session() as session:  # a rule's mark, and a mark whose decider nobody recorded
        session.execute(update(Comment).where(Comment.id == rule).values(decided_by="rule"))
        session.execute(update(Comment).where(Comment.id == unknown).values(decided_by=None))
    uncertain = held_comment(services, site.id, "maybe spam", spam=0.55)
    body = client.get("/api/v1/review/suggestions").get_json()
    assert [i["id"] for i in body["items"]] == [uncertain, unknown, rule]
    assert [i["id"] for i in body["spot_checks"]] == [low, high]
    client.post("/api/v1/review/actions", headers=moderator, json={"action": "spam", "ids": [low], "expected": "spam"})
    assert [i["id"] for i in client.get("/api/v1/review/suggestions").get_json()["spot_checks"]] == [copy, high]
    held_comment(services, site.id, "slot GACOR 3 juta", spam=0.6)  # the campaign is among the uncertain now
    assert [i["id"] for i in client.get("/api/v1/review/suggestions").get_json()["spot_checks"]] == [high]
    assert client.get("/api/v1/review/suggestions?spot_checks=0").get_json()["spot_checks"] == []


def test_stats_figures(client: FlaskClient, moderator: dict[str, str], services: Services, site: Site) -> None:
    """Per-day counts, first-decision rates, moderator actions and the hold queue figures add up."""
    cids = [held_comment(services, site.id, f"k{i}") for i in range(3)]
    held_comment(services, site.id, "spam", status=Status.SPAM)
    client.post("/api/v1/review/actions", headers=moderator, json={"action": "approve", "ids": cids[:1],
                                                                   "expected": "held"})
    data = client.get("/api/v1/review/stats?days=7").get_json()
    assert data["held_now"] == 2 and data["oldest_held_seconds"] is not None
    assert data["comments_by_status"]["held"][-1] == 2 and data["comments_by_status"]["approved"][-1] == 1
    assert data["first_decision_rates"]["hold rate"][-1] == pytest.approx(0.75)
    assert data["first_decision_rates"]["spam rate"][-1] == pytest.approx(0.25)
    assert data["moderator_actions"] == {"ani": [0.0] * 6 + [1.0]}
    assert data["model_versions"]["test-model"][-1] == 4


def test_ban_reaches_held_comments_whatever_case_or_pseudonym(client: FlaskClient, moderator: dict[str, str],
                                                               services: Services, site: Site) -> None:
    """A ban by e-mail or IP applied to the queue finds the author's comments stored in another case, or as
    the keyed hash the privacy job leaves after privacy.retain_days."""
    from moderation.privacy import Pseudonymizer

    hasher = Pseudonymizer.from_settings(services.settings)
    mixed = held_comment(services, site.id, "Gabung grup", author_email="Spammer@Example.ID")
    hashed = held_comment(services, site.id, "Lama", author_email=hasher.hash("email", "spammer@example.id"))
    by_ip = held_comment(services, site.id, "Dari IP itu", author_ip=hasher.hash("ip", "203.0.113.44"))
    other = held_comment(services, site.id, "Orang lain", author_email="someone@example.id")
    for kind, value, expected in (("email", "spammer@example.id", {mixed, hashed}), ("ip", "203.0.113.44", {by_ip})):
        resp = client.post("/api/v1/review/authors", headers=moderator,
                           json={"site": "news", "verdict": "ban", "kind": kind, "value": value,
                                 "apply_to_queue": True})
        assert resp.status_code == 200 and set(resp.get_json()["outcome"]["applied"]) == expected
    assert _status(services, other) == "held"


def test_ban_by_name_matches_any_spelling_of_it(client: FlaskClient, moderator: dict[str, str], services: Services,
                                               site: Site, run_worker: Callable[[], bool]) -> None:
    """A name ban is a list entry matched case-insensitively after whitespace normalisation, queue included."""
    theirs = [held_comment(services, site.id, f"Promo {i}", author_name=name)
              for i, name in enumerate(("Budi Santoso", "  BUDI\tsantoso ", "budi  santoso"))]
    others = [held_comment(services, site.id, "Halo", author_name=name) for name in ("Budi Santosa", "Budi", None)]
    resp = client.post("/api/v1/review/authors", headers=moderator,
                       json={"site": "news", "verdict": "ban", "kind": "name", "value": " Budi   SANTOSO",
                             "apply_to_queue": True})
    assert resp.status_code == 200 and sorted(resp.get_json()["outcome"]["applied"]) == sorted(theirs)
    assert resp.get_json()["entry"]["kind"] == "name" and resp.get_json()["entry"]["value"] == "budi santoso"
    assert {_status(services, c) for c in theirs} == {"spam"} and {_status(services, c) for c in others} == {"held"}
    new = signed_request(client, site, "POST", "/api/v1/comments",
                         {"id": "n1", "content": "Halo semua, salam kenal", "author": {"name": "BUDI SANTOSO"}})
    run_worker()
    read = signed_request(client, site, "GET", f"/api/v1/comments/{new.get_json()['id']}").get_json()
    assert read["status"] == "spam" and read["reasons"][0]["code"] == "rule.deny.name"


def test_trust_by_name_without_touching_the_queue(client: FlaskClient, moderator: dict[str, str], services: Services,
                                                 site: Site) -> None:
    """Trusting a name adds an allow entry; without apply_to_queue their held comments stay held."""
    held = held_comment(services, site.id, "Opini saya", author_name="Siti Aminah")
    resp = client.post("/api/v1/review/authors", headers=moderator,
                       json={"site": "news", "verdict": "trust", "kind": "name", "value": "siti aminah"})
    assert resp.status_code == 200 and resp.get_json()["outcome"] is None
    assert _status(services, held) == "held"
    with services.db.session() as session:
        assert [(e.action, e.kind, e.value) for e in session.scalars(select(ListEntry))] == [
            ("allow", "name", "siti aminah")]


def test_state_changes_without_a_session_are_401_before_csrf(client: FlaskClient, services: Services,
                                                              site: Site) -> None:
    """No session: 401 'log in first' for every state-changing review request (CSRF is checked only after)."""
    cid = held_comment(services, site.id, "Halo")
    for method, path, body in (("post", "/api/v1/review/actions", {"action": "approve", "ids": [cid],
                                                                   "expected": "held"}),
                               ("post", "/api/v1/review/undo", {}), ("patch", "/api/v1/review/sites/news", {}),
                               ("delete", "/api/v1/review/lists/1", None)):
        resp = getattr(client, method)(path, json=body)
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized", path
    assert _status(services, cid) == "held"


def test_unknown_site_slug_is_404(client: FlaskClient, services: Services, site: Site) -> None:
    """PATCH or rotating the secret of a site that does not exist is a 404, not a 400."""
    add_user(services, "root", "admin")
    login(client, "root")
    headers = {"X-CSRFToken": page_token(client)}
    for slug in ("nope", "ne%00ws"):
        assert client.patch(f"/api/v1/review/sites/{slug}", headers=headers, json={}).status_code == 404
        assert client.post(f"/api/v1/review/sites/{slug}/rotate-secret", headers=headers).status_code == 404


def test_nul_in_review_input_is_refused_and_changes_nothing(client: FlaskClient, services: Services,
                                                            site: Site) -> None:
    """U+0000 in a body field is a 422 naming it, in a query a 400, in a path id a 404; on every backend."""
    add_user(services, "root", "admin")
    login(client, "root")
    headers = {"X-CSRFToken": page_token(client)}
    cid = held_comment(services, site.id, "Halo")
    for path, body, field in (
            ("/api/v1/review/actions", {"action": "approve", "ids": [cid], "expected": "held", "note": "o\u0000k"},
             "note"),
            ("/api/v1/review/actions", {"action": "approve", "ids": [cid, "x\u0000"], "expected": "held"}, "ids"),
            ("/api/v1/review/authors", {"site": "news", "verdict": "ban", "kind": "name", "value": "A\u0000"},
             "value"),
            ("/api/v1/review/lists", {"site": "news", "action": "deny", "kind": "word", "value": "ju\u0000di"},
             "value")):
        resp = client.post(path, headers=headers, json=body)
        assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], body
    patch = client.patch("/api/v1/review/sites/news", headers=headers, json={"callback_url": "http://x.id/\u0000"})
    assert patch.status_code == 422 and "callback_url" in patch.get_json()["error"]["fields"]
    for query in ("q=a%00b", "post=%00", "lang=i%00d", "cursor=" + encode_cursor(["id", None, "a\u0000"])):
        assert client.get("/api/v1/review/queue?" + query).status_code == 400, query
    assert client.get("/api/v1/review/comments/a%00b").status_code == 404
    assert _status(services, cid) == "held" and _labels(services, cid) == set()
    with services.db.session() as session:
        assert session.scalars(select(ListEntry)).all() == []


def test_cursors_that_do_not_fit_the_sort_are_400(client: FlaskClient, moderator: dict[str, str]) -> None:
    """A hand-made cursor (wrong sort, huge or non-numeric mark) is refused before it reaches SQL."""
    for sort, values in (("reports", ["id", None, "a"]), ("reports", ["reports", 2**40, "a"]),
                         ("score", ["scored", "high", "a"]), ("score", ["id", None, "a"]),
                         ("oldest", ["scored", 0.5, "a"]), ("score", ["scored", 0.5, "a" * 100])):
        queue = "reported" if sort == "reports" else "held"
        resp = client.get(f"/api/v1/review/queue?queue={queue}&sort={sort}&cursor={encode_cursor(values)}")
        assert resp.status_code == 400, (sort, values)
