"""Privacy: keyed hashes after retention (same input, same hash), erasure on request, no raw secrets out."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from moderation.cli import main
from moderation.privacy import Pseudonymizer, is_pseudonym, pseudonymize_expired, purge_email
from moderation.services import Services
from moderation.store.labels import LabelAuthor, add_label, latest_labels
from moderation.store.models import Comment, DecisionEvent, PrivacyErasure, TrainingLabel
from moderation.store.privacy import ERASED_CONTENT
from tests.support import Site, signed_request
from training.feedback import decision_sources


def _post(client: Any, site: Site, ext: str, email: str, ip: str, content: str = "Komentar biasa saja") -> str:
    """Send one comment; returns its service id."""
    body = {"id": ext, "content": content, "author": {"name": "Andi", "email": email, "ip": ip, "user_agent": "UA/1"}}
    return str(signed_request(client, site, "POST", "/api/v1/comments", body).get_json()["id"])


def _age(services: Services, comment_id: str, days: int) -> None:
    """Pretend a comment arrived ``days`` ago."""
    with services.db.session() as session:
        session.execute(update(Comment).where(Comment.id == comment_id)
                        .values(received_at=datetime.now(UTC) - timedelta(days=days)))


def _get(services: Services, comment_id: str) -> Comment:
    """A comment row."""
    with services.db.session() as session:
        row = session.get(Comment, comment_id)
        assert row is not None
        return row


def test_hash_is_keyed_deterministic_and_canonical() -> None:
    """Same input → same hash (case and IP notation folded); another key → another hash; hashes pass through."""
    one, two = Pseudonymizer(b"k1"), Pseudonymizer(b"k2")
    h = one.hash("email", "Andi@Example.ID")
    assert h == one.hash("email", " andi@example.id ") and h != two.hash("email", "andi@example.id")
    assert is_pseudonym(h) and len(h or "") <= 64 and "andi" not in (h or "")
    assert one.hash("ip", "2001:db8::1") == one.hash("ip", "2001:0db8:0000::0001")
    assert one.hash("ip", "203.0.113.7") != one.hash("email", "203.0.113.7")  # kinds never collide
    assert one.hash("email", h) == h and one.hash("email", None) is None


def test_retention_job_hashes_only_old_rows_and_keeps_authors_linkable(client: Any, site: Site, services: Services,
                                                                        settings: Any) -> None:
    """Past retain_days IP and e-mail become keyed hashes (user agent dropped); newer rows stay raw; reruns no-op."""
    old1 = _post(client, site, "1", "andi@example.id", "203.0.113.7")
    old2 = _post(client, site, "2", "ANDI@example.id", "203.0.113.7")
    new = _post(client, site, "3", "andi@example.id", "203.0.113.7")
    _age(services, old1, 91)
    _age(services, old2, 120)
    assert pseudonymize_expired(services.db, settings) == 2
    a, b, c = _get(services, old1), _get(services, old2), _get(services, new)
    assert is_pseudonym(a.author_email) and is_pseudonym(a.author_ip) and a.user_agent is None
    assert a.author_email == b.author_email and a.pseudonymized_at is not None  # same author, still linkable
    hasher = Pseudonymizer.from_settings(settings)
    assert a.author_email == hasher.hash("email", c.author_email) and a.author_ip == hasher.hash("ip", c.author_ip)
    assert c.author_email == "andi@example.id" and c.user_agent == "UA/1"
    assert a.content == "Komentar biasa saja"
    assert pseudonymize_expired(services.db, settings) == 0


def test_purge_erases_raw_and_hashed_comments_of_one_person(client: Any, site: Site, services: Services,
                                                            settings: Any) -> None:
    """Purge finds the person's comments in raw and hashed form, erases content and personal fields, keeps others."""
    mine_old = _post(client, site, "1", "andi@example.id", "203.0.113.7", "Nama saya Andi dari Gowa, rumah no 5")
    mine_new = _post(client, site, "2", "Andi@Example.id", "203.0.113.7", "Andi lagi")
    other = _post(client, site, "3", "budi@example.id", "203.0.113.8", "Budi di sini")
    _age(services, mine_old, 100)
    pseudonymize_expired(services.db, settings)
    with services.db.session() as session:
        add_label(session, text="Andi lagi", head="spam", label="ham", source="moderator", comment_id=mine_new)
        session.add(DecisionEvent(comment_id=mine_new, site_id=site.id, actor="model", from_status="queued",
                                  to_status="approved",
                                  reasons=[{"code": "rule.deny.word", "detail": "contains 'andi'"}],
                                  created_at=datetime.now(UTC)))
    erasure = purge_email(services.db, settings, "andi@example.id")
    assert (erasure.comments, erasure.labels) == (2, 1)
    for cid in (mine_old, mine_new):
        row = _get(services, cid)
        assert row.content == ERASED_CONTENT and row.erased_at is not None
        assert (row.author_name, row.author_email, row.author_ip, row.user_agent) == (None, None, None, None)
    assert _get(services, other).author_email == "budi@example.id" and _get(services, other).content == "Budi di sini"
    with services.db.session() as session:
        assert session.scalar(select(TrainingLabel.id)) is None
        assert [e.reasons for e in session.scalars(select(DecisionEvent))] == [[{"code": "rule.deny.word"}]]
        proof = session.scalar(select(PrivacyErasure))
        assert proof is not None and proof.comments == 2 and "andi" not in proof.email_hash


def _label(services: Services, comment_id: str) -> None:
    """A moderator's ham label on a comment (the text it holds now)."""
    with services.db.session() as session:
        text = session.scalar(select(Comment.content).where(Comment.id == comment_id)) or ""
        add_label(session, text=text, head="spam", label="ham", source="moderator", comment_id=comment_id)


def _label_authors(services: Services) -> tuple[list[LabelAuthor], list[tuple[str, str, str]]]:
    """The spam labels' author fields as stored, and as training reads them."""
    with services.db.session() as session:
        return [item.author for item in latest_labels(session, "spam")], decision_sources(session)[0].authors


def test_retention_reaches_label_authors_and_training_never_reads_a_hash(client: Any, site: Site, services: Services,
                                                                         settings: Any) -> None:
    """After retention a label's e-mail is the comment's keyed hash, never the raw address, and trains as none."""
    cid = _post(client, site, "1", "andi@example.id", "203.0.113.7")
    _label(services, cid)
    assert _label_authors(services) == ([LabelAuthor("Andi", "", "andi@example.id")], [("Andi", "", "andi@example.id")])
    _age(services, cid, 91)
    assert pseudonymize_expired(services.db, settings) == 1
    (author,), trained = _label_authors(services)
    assert author.email == _get(services, cid).author_email and is_pseudonym(author.email)
    assert trained == [("Andi", "", "")]


def test_erased_comment_labels_never_train(client: Any, site: Site, services: Services, settings: Any) -> None:
    """Erasure deletes the person's labels; a label given to the erased comment later is not training data."""
    cid = _post(client, site, "1", "andi@example.id", "203.0.113.7")
    _label(services, cid)
    assert purge_email(services.db, settings, "andi@example.id").labels == 1
    with services.db.session() as session:
        assert list(latest_labels(session, "spam")) == [] and decision_sources(session) == []
    _label(services, cid)
    with services.db.session() as session:
        assert list(latest_labels(session, "spam")) == [] and decision_sources(session) == []


def test_purge_refuses_a_non_address(services: Services, settings: Any) -> None:
    """Something that is not one e-mail address is refused and changes nothing."""
    with pytest.raises(ValueError):
        purge_email(services.db, settings, "everyone")


def test_cli_purge_and_logs_never_carry_the_address(client: Any, site: Site, services: Services, config: dict[str, Any],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """`moderation privacy purge --email` erases and prints counts; no log line holds the address."""
    _post(client, site, "1", "rahasia.andi@example.id", "203.0.113.7")
    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(main, ["privacy", "purge", "--email", "rahasia.andi@example.id"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["comments"] == 1 and out["request"].startswith("h:")
    assert "rahasia.andi" not in caplog.text
    bad = CliRunner().invoke(main, ["privacy", "purge", "--email", "nobody"])
    assert bad.exit_code != 0 and "e-mail" in bad.output


def test_settings_listing_hides_the_hash_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """`moderation settings` shows that privacy.hash_key is set, never its value."""
    monkeypatch.setenv("MODERATION_PRIVACY_HASH_KEY", "very-secret-hash-key")
    result = CliRunner().invoke(main, ["settings"])
    assert "very-secret-hash-key" not in result.output and "privacy.hash_key = [set]" in result.output


def test_retention_job_is_registered_in_cron(worker_context: Any) -> None:
    """The cron scheduler runs the retention job beside the sweeper."""
    from workers.worker import make_cron

    names = {job.name for job in make_cron(worker_context)._cron_jobs}
    assert {"sweep", "privacy_retention"} <= names
