"""Signing, states, policy and rules: the domain pieces that know nothing of Flask, RQ or SQL."""

from __future__ import annotations

import time

import pytest

from moderation.decide.policy import Thresholds, status_for
from moderation.decide.rules import CommentInput, Lists, check, load_list_dir
from moderation.decide.states import ALLOWED, IllegalTransition, Status, check_transition
from moderation.delivery import signing


def test_signature_roundtrip_and_contract_bytes() -> None:
    """The signature is HMAC-SHA256 over TIMESTAMP.METHOD.PATH.BODY, hex, with the sha256= prefix."""
    import hashlib
    import hmac

    sig = signing.sign("s3cret", "1700000000", "post", "/api/v1/comments?x=1", b'{"a":1}')
    expected = hmac.new(b"s3cret", b'1700000000.POST./api/v1/comments?x=1.{"a":1}', hashlib.sha256).hexdigest()
    assert sig == "sha256=" + expected
    ok = signing.verify(["s3cret"], "1700000000", sig, "POST", "/api/v1/comments?x=1", b'{"a":1}', 300,
                        now=1700000100)
    assert ok.ok


def test_signature_refusals() -> None:
    """Missing headers, a non-numeric or stale timestamp and a wrong secret all fail with a reason."""
    now = time.time()
    stamp = str(int(now))
    good = signing.sign("k", stamp, "GET", "/p", b"")
    assert not signing.verify(["k"], None, good, "GET", "/p", b"", 300).ok
    assert not signing.verify(["k"], "soon", good, "GET", "/p", b"", 300).ok
    assert not signing.verify(["k"], stamp, good, "GET", "/p", b"", 300, now=now + 400).ok
    assert not signing.verify(["other"], stamp, good, "GET", "/p", b"", 300).ok
    assert not signing.verify(["k"], stamp, good, "GET", "/q", b"", 300).ok


def test_any_current_secret_verifies() -> None:
    """During a rotation's grace window both the new and the previous secret verify."""
    stamp = str(int(time.time()))
    old = signing.sign("old", stamp, "POST", "/p", b"x")
    assert signing.verify(["new", "old"], stamp, old, "POST", "/p", b"x", 300).ok


def test_state_machine() -> None:
    """Queued moves to a decision; a held comment can be rejected; nothing goes back to queued."""
    assert check_transition("queued", "spam") == (Status.QUEUED, Status.SPAM)
    assert check_transition(Status.HELD, Status.REJECTED)[1] is Status.REJECTED
    for bad in [("approved", "queued"), ("queued", "rejected"), ("spam", "queued"), ("held", "queued")]:
        with pytest.raises(IllegalTransition):
            check_transition(*bad)


def test_every_moderator_decision_can_be_undone() -> None:
    """Each move a console action makes (from held, spam, rejected or approved) has its reverse in the machine."""
    for before in (Status.HELD, Status.SPAM, Status.REJECTED, Status.APPROVED):
        for after in (Status.APPROVED, Status.SPAM, Status.REJECTED):
            if after != before and after in ALLOWED[before]:
                assert check_transition(after, before) == (after, before)


def test_policy_maps_scores_to_statuses() -> None:
    """Spam above the line is spam, below approve_below approved, between held; abusive holds."""
    t = Thresholds(0.3, 0.9, 0.7)
    assert status_for(0.95, 0.0, t)[0] is Status.SPAM
    assert status_for(0.1, 0.0, t)[0] is Status.APPROVED
    assert status_for(0.5, 0.0, t)[0] is Status.HELD
    status, reasons = status_for(0.1, 0.8, t)
    assert status is Status.HELD and reasons[0]["code"] == "policy.abusive_above"


def test_thresholds_layering_and_validation() -> None:
    """Site values win over the card, the card over settings; an inverted pair is refused."""
    t = Thresholds.layered({"spam_above": 0.8, "approve_below": None}, {"approve_below": 0.2, "spam_above": 0.95},
                           {"approve_below": 0.5, "spam_above": 0.9, "abusive_above": 0.7})
    assert (t.approve_below, t.spam_above, t.abusive_above) == (0.2, 0.8, 0.7)
    with pytest.raises(ValueError):
        Thresholds(0.9, 0.5, 0.5)


def _lists(*entries: tuple[str, str, str]) -> Lists:
    """Lists holding the given (action, kind, value) entries."""
    lists = Lists()
    for action, kind, value in entries:
        lists.add(action, kind, value)
    return lists


def test_rules_chain() -> None:
    """Deny lists catch e-mails, networks, sub-domains and phrases before any allow rule; a verified allow-listed
    author passes; else the model (#13: a typed, trusted e-mail no longer carries a denied phrase past the lists)."""
    lists = _lists(("allow", "email", "editor@news.id"), ("deny", "ip", "198.51.100.0/24"),
                   ("deny", "domain", "aero88.com"), ("deny", "word", "slot gacor"))
    editor = {"author_email": "Editor@News.id", "author_verified": True}
    assert check(CommentInput("berita bagus", **editor), lists)[1]["code"] == "rule.allow.email"  # type: ignore[arg-type]
    assert check(CommentInput("slot gacor", **editor), lists)[1]["code"] == "rule.deny.word"  # type: ignore[arg-type]
    assert check(CommentInput("berita bagus", author_email="editor@news.id"), lists) is None  # typed, not vouched
    assert check(CommentInput("halo", author_ip="198.51.100.77"), lists)[1]["code"] == "rule.deny.ip"
    hit = check(CommentInput("main di https://link.aero88.com/daftar sekarang"), lists)
    assert hit is not None and hit[0] is Status.SPAM and hit[1]["code"] == "rule.deny.domain"
    assert check(CommentInput("𝐒𝐋𝐎𝐓 𝐆𝐀𝐂𝐎𝐑 lagi"), lists)[1]["code"] == "rule.deny.word"
    assert check(CommentInput("bukan slot gacoran"), lists) is None
    assert check(CommentInput("berita bagus", author_ip="not-an-ip"), lists) is None


def test_allow_domain_is_about_the_author_not_the_text() -> None:
    """A link to a trusted domain inside the text does not approve a comment; the author's own site does, when the
    site vouches for the author (anyone can type a trusted site's URL as their website)."""
    lists = _lists(("allow", "domain", "kompas.com"))
    assert check(CommentInput("slot gacor https://kompas.com/x"), lists) is None
    assert check(CommentInput("tulisan saya", author_url="https://www.kompas.com/me", author_verified=True),
                 lists)[1]["code"] == "rule.allow.domain"
    assert check(CommentInput("tulisan saya", author_url="https://www.kompas.com/me"), lists) is None


def test_list_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """List files take one value per line, with # comments, and unknown lists are refused."""
    (tmp_path / "deny_words.txt").write_text("# judol\nMaxwin Hari Ini  # phrase\n\n")
    assert check(CommentInput("maxwin hari ini bos"), load_list_dir(tmp_path)) is not None
    with pytest.raises(ValueError):
        Lists().add("maybe", "word", "x")


def test_name_lists_ignore_case_and_spacing() -> None:
    """A banned name matches whatever its case and spacing; a near-miss or a missing name does not."""
    lists = _lists(("deny", "name", "  Budi   SANTOSO "))
    assert lists.get("deny", "name") == {"budi santoso"}
    for name in ("budi santoso", "BUDI\tSantoso", " Budi  Santoso\n"):
        hit = check(CommentInput("halo", author_name=name), lists)
        assert hit is not None and hit[0] is Status.SPAM and hit[1]["code"] == "rule.deny.name", name
    for name in ("Budi Santosa", "Budi", None, "   "):
        assert check(CommentInput("halo", author_name=name), lists) is None, name


def test_a_trusted_name_never_outranks_a_deny_entry() -> None:
    """Anyone can type a trusted name: it approves an otherwise clean comment, never one a deny list catches."""
    lists = _lists(("allow", "name", "Siti"), ("deny", "word", "slot gacor"), ("deny", "ip", "198.51.100.0/24"))
    assert check(CommentInput("tulisan bagus", author_name="SITI", author_verified=True), lists)[1]["code"] == \
        "rule.allow.name"
    assert check(CommentInput("tulisan bagus", author_name="SITI"), lists) is None  # typed by anyone
    assert check(CommentInput("slot gacor", author_name="Siti"), lists)[1]["code"] == "rule.deny.word"
    assert check(CommentInput("halo", author_name="Siti", author_ip="198.51.100.9"), lists)[1]["code"] == \
        "rule.deny.ip"


def test_name_list_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """deny_names.txt is read like the other list files."""
    (tmp_path / "deny_names.txt").write_text("# spammers\nJual  Obat  # name\n")
    assert check(CommentInput("halo", author_name="jual obat"), load_list_dir(tmp_path))[1]["code"] == "rule.deny.name"
