"""The Akismet-compatible API at the protocol level: answers, headers, what is stored, refusals that change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, update

from moderation.services import Services
from moderation.store.models import CallbackDelivery, Comment, DecisionEvent, Site, TrainingLabel
from tests.support import Receiver
from tests.support import Site as SiteCreds

HAM = "Terima kasih infonya min, sangat bermanfaat bagi warga di kampung kami"
JUDOL = "Situs gacor hari ini, dijamin maxwin, depo 10rb langsung jp, daftar sekarang juga bosku"


def check(client: Any, site: SiteCreds, **fields: str) -> Any:
    """POST a comment-check with the site's key and a default IP."""
    return client.post("/1.1/comment-check", data={"api_key": site.api_key, "blog": "https://news.example.id",
                                                   "user_ip": "203.0.113.7", **fields})


def count(services: Services, model: Any) -> int:
    """Rows in a table."""
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def only_comment(services: Services) -> Comment:
    """The one stored comment."""
    with services.db.session() as session:
        rows = list(session.scalars(select(Comment)))
    assert len(rows) == 1
    return rows[0]


def test_check_records_the_comment_decided_with_audit_and_guid(client: Any, site: SiteCreds,
                                                                services: Services) -> None:
    """A check answers at once, with X-akismet-guid, and the comment is stored decided with its audit event."""
    resp = check(client, site, comment_content=HAM, comment_author="Andi", comment_author_email="andi@example.id",
                 permalink="https://news.example.id/a", comment_date_gmt="2026-11-27 10:00:00")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "false"
    guid = resp.headers["X-akismet-guid"]
    assert "X-akismet-pro-tip" not in resp.headers
    row = only_comment(services)
    assert row.external_id == f"akismet:{guid}" and row.status == "approved" and row.decided_by == "model"
    assert row.author_email == "andi@example.id" and row.author_ip == "203.0.113.7" and row.spam_score is not None
    assert row.created_at is not None and row.created_at.hour == 10
    with services.db.session() as session:
        events = list(session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == row.id)))
    assert [(e.from_status, e.to_status) for e in events] == [("queued", "approved")]


def test_blatant_spam_is_true_with_discard(client: Any, site: SiteCreds, services: Services) -> None:
    """A score over the site's spam_above answers true plus X-akismet-pro-tip: discard."""
    resp = check(client, site, comment_content=JUDOL)
    assert resp.get_data(as_text=True) == "true" and resp.headers["X-akismet-pro-tip"] == "discard"
    assert resp.headers["X-akismet-guid"]
    assert only_comment(services).status == "spam"


def test_held_is_true_without_discard_and_stays_for_review(client: Any, site: SiteCreds, services: Services) -> None:
    """Between the thresholds the answer is true (keep it unpublished) and the comment waits for a moderator."""
    with services.db.session() as session:
        session.execute(update(Site).where(Site.id == site.id).values(approve_below=0.0, spam_above=0.999))
    resp = check(client, site, comment_content=HAM)
    assert resp.get_data(as_text=True) == "true" and "X-akismet-pro-tip" not in resp.headers
    assert only_comment(services).status == "held"


def test_a_recheck_answers_our_latest_word_without_a_second_copy(client: Any, site: SiteCreds,
                                                                   services: Services) -> None:
    """WordPress's "Check for Spam" rechecks a held comment: the same answer and guid, nothing stored twice; once a
    moderator approved it, the recheck says so; an edited text is checked as a new comment."""
    from tests.browser.support import add_user, login, page_token

    with services.db.session() as session:
        session.execute(update(Site).where(Site.id == site.id).values(approve_below=0.0, spam_above=0.999))
    fields = {"comment_content": HAM, "comment_author": "Andi"}
    first = check(client, site, **fields)
    again = check(client, site, recheck_reason="recheck_queue", **fields)
    assert first.get_data(as_text=True) == again.get_data(as_text=True) == "true"
    assert again.headers["X-akismet-guid"] == first.headers["X-akismet-guid"]
    held = only_comment(services)
    assert count(services, DecisionEvent) == 1
    add_user(services, "ani")
    login(client, "ani")
    moved = client.post("/api/v1/review/actions", json={"action": "approve", "ids": [held.id], "expected": "held"},
                        headers={"X-CSRFToken": page_token(client)})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert check(client, site, recheck_reason="recheck_queue", **fields).get_data(as_text=True) == "false"
    assert only_comment(services).status == "approved"
    edited = check(client, site, recheck_reason="edit", comment_content=HAM + " (diedit)", comment_author="Andi")
    assert edited.headers["X-akismet-guid"] != first.headers["X-akismet-guid"] and count(services, Comment) == 2


@pytest.mark.parametrize(("fields", "answer", "status", "code"), [
    ({"comment_author": "akismet-guaranteed-spam", "comment_content": HAM}, "true", "spam", "akismet.test_spam"),
    ({"comment_author_email": "akismet-guaranteed-spam@example.com", "comment_content": HAM}, "true", "spam",
     "akismet.test_spam"),
    ({"user_role": "administrator", "comment_content": JUDOL}, "false", "approved", "akismet.administrator"),
    ({"honeypot_field_name": "hp_url", "hp_url": "http://x.example", "comment_content": HAM}, "true", "spam",
     "akismet.honeypot"),
])
def test_documented_triggers(client: Any, site: SiteCreds, services: Services, fields: dict[str, str], answer: str,
                             status: str, code: str) -> None:
    """Akismet's test author and e-mail, the administrator role, and a filled honeypot decide without the model."""
    resp = check(client, site, **fields)
    assert resp.get_data(as_text=True) == answer
    row = only_comment(services)
    assert row.status == status and row.decided_by == "rule" and row.reasons[0]["code"] == code
    # Only real blatant spam is "discard"; the test author is plain spam as on Akismet.
    assert ("X-akismet-pro-tip" in resp.headers) == (code == "akismet.honeypot")


def test_empty_honeypot_is_scored_normally(client: Any, site: SiteCreds) -> None:
    """Naming a honeypot field that a human left empty changes nothing."""
    resp = check(client, site, comment_content=HAM, honeypot_field_name="hp_url", hp_url="")
    assert resp.get_data(as_text=True) == "false"


def test_is_test_never_trains(client: Any, site: SiteCreds, services: Services) -> None:
    """is_test=1 submissions are thanked but leave no label and no comment."""
    resp = client.post("/1.1/submit-spam", data={"api_key": site.api_key, "user_ip": "203.0.113.7",
                                                 "comment_content": HAM, "is_test": "1"})
    assert resp.get_data(as_text=True) == "Thanks for making the web a better place."
    assert count(services, TrainingLabel) == 0 and count(services, Comment) == 0


def test_submit_by_guid_labels_that_comment(client: Any, site: SiteCreds, services: Services) -> None:
    """submit-spam naming the check's guid labels exactly that comment and moves it to spam."""
    guid = check(client, site, comment_content=HAM, comment_author="Andi").headers["X-akismet-guid"]
    resp = client.post("/1.1/submit-spam", data={"api_key": site.api_key, "user_ip": "198.51.100.99",
                                                 "comment_content": "different text", "guid": guid})
    assert resp.get_data(as_text=True) == "Thanks for making the web a better place."
    row = only_comment(services)
    with services.db.session() as session:
        labels = [(lb.comment_id, lb.label, lb.text) for lb in session.scalars(select(TrainingLabel))]
    assert labels == [(row.id, "spam", HAM)] and row.status == "spam"


def test_submit_of_an_unknown_comment_stores_a_labelled_one(client: Any, site: SiteCreds, services: Services) -> None:
    """Spam the site caught on its own is kept as a new labelled comment."""
    client.post("/1.1/submit-spam", data={"api_key": site.api_key, "user_ip": "203.0.113.7", "comment_content": JUDOL})
    row = only_comment(services)
    assert row.status == "spam" and row.content == JUDOL
    assert count(services, TrainingLabel) == 1


@pytest.mark.parametrize("path", ["/1.1/comment-check", "/1.1/submit-spam", "/1.1/submit-ham", "/1.1/verify-key"])
def test_bad_key_is_invalid_with_debug_help(client: Any, site: SiteCreds, services: Services, path: str) -> None:
    """A key we never issued answers 'invalid' with X-akismet-debug-help, and nothing is stored."""
    resp = client.post(path, data={"api_key": "0" * 32, "key": "0" * 32, "user_ip": "203.0.113.7",
                                   "comment_content": JUDOL})
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "invalid"
    assert resp.headers["X-akismet-debug-help"]
    assert count(services, Comment) == 0 and count(services, TrainingLabel) == 0


def test_verify_key_accepts_key_or_api_key(client: Any, site: SiteCreds) -> None:
    """verify-key takes Akismet's historic `key` parameter and the newer `api_key`."""
    for name in ("key", "api_key"):
        resp = client.post("/1.1/verify-key", data={name: site.api_key, "blog": "https://news.example.id"})
        assert resp.get_data(as_text=True) == "valid"


def test_verify_key_answers_about_the_key_asked_not_the_configured_one(client: Any, site: SiteCreds) -> None:
    """A client sending its configured api_key beside the `key` it verifies learns about `key`."""
    both = {"api_key": site.api_key, "key": "0" * 32, "blog": "https://news.example.id"}
    assert client.post("/1.1/verify-key", data=both).get_data(as_text=True) == "invalid"
    swapped = {"api_key": "0" * 32, "key": site.api_key, "blog": "https://news.example.id"}
    assert client.post("/1.1/verify-key", data=swapped).get_data(as_text=True) == "valid"


@pytest.mark.parametrize(("fields", "message"), [
    ({"user_ip": ""}, "Missing required field: user_ip."),
    ({"comment_content": "x" * 20_001}, "comment_content is longer"),
    ({"comment_author": "a" * 256}, "comment_author is longer"),
    ({"comment_date_gmt": "yesterday"}, "comment_date_gmt is not"),
    ({"blog_charset": "no-such-charset", "comment_content": "x"}, "cannot be decoded"),
])
def test_bad_input_is_400_and_changes_nothing(client: Any, site: SiteCreds, services: Services, fields: dict[str, str],
                                              message: str) -> None:
    """Missing or oversized fields, a bad date or charset: 400 with the reason, nothing stored."""
    resp = check(client, site, **fields)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert message in resp.headers["X-akismet-debug-help"]
    assert count(services, Comment) == 0


def test_blog_charset_is_honoured(client: Any, site: SiteCreds, services: Services) -> None:
    """A body percent-encoded in ISO-8859-1 (blog_charset) is decoded as such."""
    body = urlencode({"api_key": site.api_key, "user_ip": "203.0.113.7", "blog_charset": "ISO-8859-1",
                      "comment_content": "Très bien, café"}, encoding="iso-8859-1")
    resp = client.post("/1.1/comment-check", data=body, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200
    assert only_comment(services).content == "Très bien, café"


def test_usage_limit(client: Any, site: SiteCreds) -> None:
    """/1.2/usage-limit counts this month's checks and names no monthly cap."""
    check(client, site, comment_content=HAM)
    body = client.get(f"/1.2/usage-limit?api_key={site.api_key}").get_json()
    assert body == {"limit": "none", "usage": 1, "percentage": "0.00", "throttled": False}


def test_check_sends_the_decided_callback(client: Any, site: SiteCreds, receiver: Receiver,
                                          run_worker: Callable[[], bool], services: Services) -> None:
    """A site with a callback URL gets comment.decided for a checked comment, like for an intake."""
    guid = check(client, site, comment_content=JUDOL).headers["X-akismet-guid"]
    run_worker()
    assert [b["comment"]["external_id"] for b in receiver.bodies()] == [f"akismet:{guid}"]
    assert receiver.bodies()[0]["event"] == "comment.decided"
    with services.db.session() as session:
        assert session.scalar(select(CallbackDelivery.status)) == "delivered"


def test_concurrent_checks_each_get_their_own_recorded_decision(app: Any, site: SiteCreds, services: Services) -> None:
    """Checks arriving together are scored and committed as a group; each answer matches its own stored row."""
    from concurrent.futures import ThreadPoolExecutor

    hams = ["Jalan di depan pasar sudah lama rusak, semoga segera diperbaiki", "Setuju dengan pak camat",
            "Beritanya lengkap, terima kasih", "Kapan jadwal vaksin di puskesmas kami?", "Hujan deras sejak pagi",
            "Semoga korban banjir cepat pulih", "Harga cabai naik lagi minggu ini", "Mantap, tim kita juara!"]
    texts = [t for pair in zip(hams, [JUDOL] * 8, strict=True) for t in pair]

    def one(n: int) -> tuple[str, str]:
        resp = check(app.test_client(), site, comment_content=texts[n], user_ip=f"203.0.113.{n + 1}",
                     **({"comment_author": "akismet-guaranteed-spam"} if n == 5 else {}))
        assert resp.status_code == 200
        return resp.headers["X-akismet-guid"], resp.get_data(as_text=True)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(len(texts))))
    with services.db.session() as session:
        stored = {c.external_id: c for c in session.scalars(select(Comment))}
        events = int(session.scalar(select(func.count()).select_from(DecisionEvent)) or 0)
    assert len(stored) == len(texts) == events
    for n, (guid, body) in enumerate(answers):
        row = stored[f"akismet:{guid}"]
        assert row.content == texts[n] and body == ("false" if row.status == "approved" else "true")
    assert stored[f"akismet:{answers[5][0]}"].decided_by == "rule"  # the test trigger rode in the same groups
    assert [answers[n][1] for n in range(1, 16, 2)] == ["true"] * 8  # the judol ad, each time


@pytest.mark.parametrize("field", ["comment_content", "comment_author", "comment_author_email", "user_ip",
                                   "permalink", "user_agent", "guid"])
@pytest.mark.parametrize("path", ["/1.1/comment-check", "/1.1/submit-spam"])
def test_nul_in_a_field_is_400_and_changes_nothing(client: Any, site: SiteCreds, services: Services, path: str,
                                                   field: str) -> None:
    """A NUL (U+0000) in any stored or searched field is Akismet's 400 with a debug header, on every backend."""
    fields = {"api_key": site.api_key, "user_ip": "203.0.113.7", "comment_content": HAM}
    fields[field] = fields.get(field, "x") + "\u0000y"
    resp = client.post(path, data=fields)
    assert resp.status_code == 400 and f"{field} must not contain the NUL" in resp.headers["X-akismet-debug-help"]
    assert count(services, Comment) == 0 and count(services, TrainingLabel) == 0


def test_nul_in_the_key_is_just_an_invalid_key(client: Any, site: SiteCreds) -> None:
    """A key holding U+0000 is a key we never issued: 'invalid', as for any other wrong key."""
    for path in ("/1.1/verify-key", "/1.1/comment-check"):
        resp = client.post(path, data={"api_key": site.api_key + "\u0000", "user_ip": "203.0.113.7"})
        assert resp.status_code == 200 and resp.get_data(as_text=True) == "invalid"
    assert client.get("/1.2/usage-limit?api_key=%00").get_data(as_text=True) == "invalid"
