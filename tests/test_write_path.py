"""One write path for decisions (store.decisions.record) and one decider per process, on a real database."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from moderation.console.admin import add_entry
from moderation.decide.states import Decision, IllegalTransition, Status
from moderation.model.registry import MOVED_MODULES
from moderation.services import Services, get_services
from moderation.store.comments import insert_comments
from moderation.store.decisions import Event, record
from moderation.store.models import CallbackDelivery, Comment, DecisionEvent, TrainingLabel
from tests.support import Site

ROOT = Path(__file__).resolve().parent.parent
WRITER = ROOT / "moderation" / "store" / "decisions.py"


def _sources() -> list[Path]:
    """Every module of the service (web, workers, domain, store)."""
    return sorted([*(ROOT / "moderation").rglob("*.py"), *(ROOT / "workers").rglob("*.py")])


def _writes_decisions(tree: ast.AST) -> list[str]:
    """What in a module writes a status or an audit event: DecisionEvent built or inserted, a status assigned."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("DecisionEvent", "insert"):
            if getattr(node.func, "id", None) == "DecisionEvent" or any(
                    getattr(a, "id", None) == "DecisionEvent" for a in node.args):
                found.append(f"line {node.lineno}: DecisionEvent written")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    found.append(f"line {node.lineno}: .status assigned")
    return found


def test_only_the_store_writes_statuses_and_audit_events() -> None:
    """No module but store/decisions.py builds an audit event or assigns a comment's status."""
    offenders = {str(p.relative_to(ROOT)): hits for p in _sources() if p != WRITER
                 if (hits := _writes_decisions(ast.parse(p.read_text(encoding="utf-8"))))}
    assert offenders == {}
    assert _writes_decisions(ast.parse(WRITER.read_text(encoding="utf-8")))  # the check does see a writer


def test_event_names_are_spelled_once() -> None:
    """The callback event names live in the Event enum alone."""
    spelled = [str(p.relative_to(ROOT)) for p in _sources()
               if '"comment.decided"' in p.read_text(encoding="utf-8")
               or '"comment.moderated"' in p.read_text(encoding="utf-8")]
    assert spelled == ["moderation/store/decisions.py"]
    assert {e.value for e in Event} == {"comment.decided", "comment.moderated"}


def _queued(services: Services, site: Site, text: str = "Semoga jembatan cepat selesai") -> str:
    """A new queued comment; returns its id."""
    with services.db.session() as session:
        return str(insert_comments(session, site.id, [{"external_id": text[:20], "content": text}])[0]["id"])


def _events(services: Services, comment_id: str) -> list[tuple[str, str, str]]:
    """A comment's audit trail as (actor, from, to)."""
    with services.db.session() as session:
        rows = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == comment_id)
                               .order_by(DecisionEvent.id))
        return [(e.actor, e.from_status, e.to_status) for e in rows]


def test_record_writes_status_event_labels_and_callback_together(services: Services, site: Site) -> None:
    """One call: the status moves, the audit event, the labels and the callback owed are all written."""
    cid = _queued(services, site)
    with services.db.session() as session:
        record(session, [Decision(cid, site.id, Status.HELD, "model", [{"code": "policy.uncertain"}])],
               Status.QUEUED, event=Event.DECIDED)
    teaches = (("spam", "ham"), ("abusive", "clean"))
    with services.db.session() as session:
        out = record(session, [Decision(cid, site.id, Status.APPROVED, "moderator:ana", labels=teaches)],
                     Status.HELD, event=Event.MODERATED)
    assert [d.comment_id for d in out.applied] == [cid] and len(out.label_ids) == 2 and len(out.delivery_ids) == 1
    assert _events(services, cid) == [("model", "queued", "held"), ("moderator:ana", "held", "approved")]
    with services.db.session() as session:
        labels = {(lbl.head, lbl.label, lbl.text) for lbl in session.scalars(select(TrainingLabel))}
        payloads = [json.loads(d.payload)
                    for d in session.scalars(select(CallbackDelivery).order_by(CallbackDelivery.id))]
    assert labels == {("spam", "ham", "Semoga jembatan cepat selesai"),
                      ("abusive", "clean", "Semoga jembatan cepat selesai")}
    assert [(p["event"], p["comment"]["status"], p["comment"]["decided_by"]) for p in payloads] == [
        ("comment.decided", "held", "model"), ("comment.moderated", "approved", "moderator:ana")]


def test_record_is_a_compare_and_set_on_the_status_the_caller_saw(services: Services, site: Site) -> None:
    """Two writers who both saw 'queued': the first wins, the second applies nothing and writes nothing."""
    cid = _queued(services, site)
    first = Decision(cid, site.id, Status.SPAM, "rule", [{"code": "rule.deny_word"}])
    second = Decision(cid, site.id, Status.APPROVED, "model")
    with services.db.session() as session:
        assert record(session, [first], Status.QUEUED, event=Event.DECIDED).applied == [first]
    with services.db.session() as session:
        late = record(session, [second], Status.QUEUED, event=Event.DECIDED)
    assert late.applied == [] and late.delivery_ids == []
    assert _events(services, cid) == [("rule", "queued", "spam")]


def test_a_confirmation_is_named_by_the_state_machine_and_moves_nothing(services: Services, site: Site) -> None:
    """approved -> approved (a moderator keeping a reported comment) writes its event and keeps the decision;
    held -> held is not a confirmation and is refused before anything is written."""
    cid = _queued(services, site)
    with services.db.session() as session:
        record(session, [Decision(cid, site.id, Status.APPROVED, "model")], Status.QUEUED, event=None)
    with services.db.session() as session:
        out = record(session, [Decision(cid, site.id, Status.APPROVED, "moderator:ana", [{"code": "moderator.keep"}],
                                        labels=(("spam", "ham"),))], Status.APPROVED, event=None)
    assert len(out.applied) == 1 and len(out.label_ids) == 1
    with services.db.session() as session:
        comment = session.get(Comment, cid)
        assert comment is not None and comment.status == "approved" and comment.decided_by == "model"
    assert _events(services, cid)[-1] == ("moderator:ana", "approved", "approved")
    other = _queued(services, site, "Komentar kedua yang ditahan")
    with services.db.session() as session:
        record(session, [Decision(other, site.id, Status.HELD, "model")], Status.QUEUED, event=None)
    with pytest.raises(IllegalTransition), services.db.session() as session:
        record(session, [Decision(other, site.id, Status.HELD, "moderator:ana")], Status.HELD, event=None)
    assert _events(services, other) == [("model", "queued", "held")]


def test_akismet_checks_use_the_process_decider_and_see_list_changes_at_once(
        client: Any, app: Any, site: Site, services: Services) -> None:
    """comment-check is decided by the app's one Decider (the workers' object), which reads the lists every
    batch: a deny word added a moment ago already marks the next check spam (the old key cache kept lists 5 s)."""
    form = {"api_key": site.api_key, "blog": "https://news.example.id", "user_ip": "203.0.113.7",
            "comment_content": "Terima kasih infonya min, sangat bermanfaat bagi warga"}
    assert client.post("/1.1/comment-check", data=form).get_data(as_text=True) == "false"
    decider = get_services(app).decider
    assert decider.scorers.get() is decider.scorers.get()  # loaded once, by the one decider
    with services.db.session() as session:
        add_entry(session, site.id, "deny", "word", "bermanfaat")
    assert client.post("/1.1/comment-check", data=form).get_data(as_text=True) == "true"
    with services.db.session() as session:
        newest = session.scalars(select(Comment).order_by(Comment.received_at.desc())).first()
    assert newest is not None and newest.decided_by == "rule"


@pytest.mark.parametrize("old", sorted(MOVED_MODULES))
def test_every_moved_module_path_resolves_where_it_now_lives(old: str) -> None:
    """Each path a pickle may name from before the move maps to a module that exists (and the old module,
    bar the package that took its name, is really gone: the mapping is what keeps old models loading)."""
    assert importlib.import_module(MOVED_MODULES[old])
    if old != "moderation.model":
        assert importlib.util.find_spec(old) is None


