"""`moderation rescore`: a site's backlog scored again; a report of what would change, changes only with --apply."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from moderation.cli import main
from moderation.console.actions import moderate
from moderation.console.admin import add_entry
from moderation.decide.states import Status
from moderation.rescore import rescore
from moderation.services import Services
from moderation.store.backlog import unchanged
from moderation.store.models import Comment, DecisionEvent
from moderation.store.users import get_account
from tests.browser.support import add_user, held_comment
from tests.support import Receiver, Site

SPAM = "Yuk main slot gacor hari ini, daftar sekarang di situs kami"
TRUSTED_IP = "198.51.100.9"


@pytest.fixture
def backlog(services: Services, site: Site, make_site: Callable[..., Site]) -> dict[str, str]:
    """Comments the model decided that today's rules decide otherwise, one a moderator decided, one elsewhere."""
    with services.db.session() as session:
        add_entry(session, site.id, "allow", "ip", TRUSTED_IP)
    ids = {
        "to_spam": held_comment(services, site.id, SPAM, spam=0.2, status=Status.APPROVED),
        "to_approved": held_comment(services, site.id, "Ini komentar biasa saja", spam=0.6, author_ip=TRUSTED_IP),
        "person": held_comment(services, site.id, SPAM + " lagi", spam=0.3),
        "other_site": held_comment(services, make_site("other").id, SPAM, spam=0.2, status=Status.APPROVED),
    }
    add_user(services, "ani")
    with services.db.session() as session:
        account = get_account(session, 1)
    assert account is not None and moderate(services, account, [ids["person"]], "approve", Status.HELD).applied
    return ids


def _statuses(services: Services) -> dict[str, str]:
    """Every comment's status by id."""
    with services.db.session() as session:
        return dict(session.execute(select(Comment.id, Comment.status)).all())  # type: ignore[arg-type]


def test_dry_run_reports_changes_and_changes_nothing(services: Services, site: Site, backlog: dict[str, str]) -> None:
    """Counts per from->to with examples; a person's decision and another site's comments are left alone."""
    before = _statuses(services)
    report = rescore(services, site.slug).as_dict()
    assert report["scanned"] == 2 and report["person_decided_left_alone"] == 1
    assert report["changes"] == {"approved->spam": 1, "held->approved": 1} and report["would_change"] == 2
    assert [e["id"] for e in report["examples"]["approved->spam"]] == [backlog["to_spam"]]
    assert report["examples"]["approved->spam"][0]["reasons"][0] == "rule.deny.word"
    assert report["changed"] == 0 and not report["applied"]
    assert _statuses(services) == before


def test_apply_records_audit_events_and_callbacks(services: Services, site: Site, backlog: dict[str, str],
                                                   receiver: Receiver, run_worker: Callable[[], bool]) -> None:
    """--apply moves exactly the reported comments through record(): audit event, comment.moderated callback."""
    report = rescore(services, site.slug, apply=True)
    assert (report.changed, report.callbacks) == (2, 2)
    now = _statuses(services)
    assert (now[backlog["to_spam"]], now[backlog["to_approved"]]) == ("spam", "approved")
    assert (now[backlog["person"]], now[backlog["other_site"]]) == ("approved", "approved")
    with services.db.session() as session:
        event = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == backlog["to_spam"])
                                .order_by(DecisionEvent.id.desc())).first()
        assert event is not None and (event.from_status, event.to_status, event.actor) == ("approved", "spam", "rule")
        assert event.note is not None and event.note.startswith("rescore (model ")
    run_worker()
    sent = {b["comment"]["id"]: (b["event"], b["comment"]["status"], b["comment"]["reasons"][0]["code"])
            for b in receiver.bodies() if b["comment"]["id"] != backlog["person"]}  # the moderator's own
    assert sent == {backlog["to_spam"]: ("comment.moderated", "spam", "rescore.changed"),
                    backlog["to_approved"]: ("comment.moderated", "approved", "rescore.changed")}
    assert rescore(services, site.slug).as_dict()["would_change"] == 0  # applied: nothing left to change


def test_apply_skips_a_comment_edited_meanwhile(services: Services, site: Site, backlog: dict[str, str]) -> None:
    """A row whose revision, status or decider changed since it was scored is not overwritten."""
    with services.db.session() as session:
        standing = unchanged(session, [(backlog["to_spam"], "approved", 0), (backlog["to_approved"], "held", 1),
                                       (backlog["person"], "approved", 0), (backlog["to_spam"] + "x", "held", 0)])
    assert standing == {backlog["to_spam"]}


def test_cli_status_and_since_filters(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, site: Site,
                                      backlog: dict[str, str], services: Services) -> None:
    """The command prints the report as JSON; --status and --since narrow it; an unknown site is an error."""
    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    runner = CliRunner()
    only = runner.invoke(main, ["rescore", "--site", "news", "--status", "approved", "--nice", "0"])
    assert only.exit_code == 0, only.output
    assert json.loads(only.stdout)["changes"] == {"approved->spam": 1}
    later = runner.invoke(main, ["rescore", "--site", "news", "--since", "2999-01-01", "--nice", "0"])
    assert json.loads(later.stdout)["scanned"] == 0
    applied = runner.invoke(main, ["rescore", "--site", "news", "--apply", "--nice", "0"])
    assert json.loads(applied.stdout)["changed"] == 2
    missing = runner.invoke(main, ["rescore", "--site", "nope", "--nice", "0"])
    assert missing.exit_code != 0 and "no site" in missing.output


def test_a_rescore_feeds_no_flood_counts(services: Services, site: Site, backlog: dict[str, str]) -> None:
    """Old comments scored again are not counted as arriving now (flood bands and held-share stay empty)."""
    prefix = services.settings["queue.prefix"]
    before = set(services.redis.scan_iter(f"{prefix}:*"))
    rescore(services, site.slug)
    after = {k for k in services.redis.scan_iter(f"{prefix}:*") if k not in before}
    assert not [k for k in after if b"flood" in k or b"held-share" in k]
