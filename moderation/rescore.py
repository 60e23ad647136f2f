"""Scoring a site's backlog again with the active model: what would change, and with ``apply`` the changes made.

Batches go through the process's decider (rules, the site's model, thresholds) with ``live=False``, so old
comments feed neither the flood counts nor the held-share cap. Only comments the service decided itself are
scored; a person's decision (a moderator, the site through Akismet) is left as it is. Each applied batch is
one short transaction through ``store.decisions.record`` (audit event, ``comment.moderated`` callback owed),
re-checked against the rows first, so an edit or a moderator's action that landed meanwhile wins.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moderation.decide.decider import Candidate, site_thresholds
from moderation.decide.rescoring import rescored
from moderation.decide.rules import CommentInput
from moderation.decide.states import Decision, Status
from moderation.delivery.queueing import hand_over
from moderation.services import Services
from moderation.store.backlog import count_person_decided, machine_page, unchanged
from moderation.store.decisions import Event, record
from moderation.store.models import Comment
from moderation.store.sites import site_by_slug

BATCH = 500
"""Comments per read and per decider call."""

EXAMPLES = 5
"""Examples kept per change (from -> to)."""

RESCORABLE = (Status.APPROVED.value, Status.HELD.value, Status.SPAM.value)
"""Statuses the service itself decides (rejected is only ever a person's)."""


@dataclass
class Report:
    """What a re-score found (and, applied, changed)."""

    site: str
    model_version: str | None
    statuses: list[str]
    since: str | None
    applied: bool
    scanned: int = 0
    person_decided: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changed: int = 0
    callbacks: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data."""
        return {"site": self.site, "model_version": self.model_version, "statuses": self.statuses,
                "since": self.since, "applied": self.applied, "scanned": self.scanned,
                "person_decided_left_alone": self.person_decided, "would_change": sum(self.changes.values()),
                "changes": dict(sorted(self.changes.items())), "changed": self.changed, "callbacks": self.callbacks,
                "seconds": round(self.seconds, 2), "examples": self.examples}


def _example(comment: Comment, change: Decision) -> dict[str, Any]:
    """One change as the report shows it (text cut short; JSON output escapes it)."""
    return {"id": comment.id, "external_id": comment.external_id, "spam_before": comment.spam_score,
            "spam_after": None if change.spam is None else round(change.spam, 4),
            "reasons": [r.get("code") for r in change.reasons[1:4]], "text": comment.content[:160]}


def _apply(services: Services, changes: Sequence[tuple[Comment, Decision]], report: Report) -> None:
    """Record one batch's changes (those whose rows still stand as scored) and hand their callbacks over."""
    owed: list[int] = []
    with services.db.session() as session:
        standing = unchanged(session, [(c.id, c.status, c.revision or 0) for c, _ in changes])
        by_status: dict[str, list[Decision]] = {}
        for comment, decision in changes:
            if comment.id in standing:
                by_status.setdefault(comment.status, []).append(decision)
        for status, decisions in by_status.items():
            done = record(session, decisions, Status(status), event=Event.MODERATED)
            report.changed += len(done.applied)
            owed += done.delivery_ids
    report.callbacks += len(owed)
    hand_over(services.redis, services.names, owed)


def rescore(services: Services, slug: str, statuses: Collection[str] = RESCORABLE, since: datetime | None = None,
            apply: bool = False, batch: int = BATCH) -> Report:
    """Score the site's backlog again; report what would change, and change it only with ``apply``."""
    started = time.perf_counter()
    with services.db.read() as session:
        site = site_by_slug(session, slug)
        if site is None:
            raise LookupError(f"no site {slug!r}")
        site_id, thresholds = site.id, site_thresholds(site)
        person = count_person_decided(session, site_id, statuses, since)
    report = Report(slug, services.decider.scorers.get(site_id).version, sorted(statuses),
                    since.isoformat() if since else None, apply, person_decided=person)
    after = ""
    while True:
        with services.db.read() as session:
            page = machine_page(session, site_id, statuses, since, after, batch)
        if not page:
            break
        after = page[-1].id
        fresh = services.decider.decide([Candidate(c.id, site_id, CommentInput.of(c), thresholds) for c in page],
                                        live=False)
        changes = []
        for comment, decision in zip(page, fresh, strict=True):
            change = rescored(Status(comment.status), decision, report.model_version)
            if change is not None:
                key = f"{comment.status}->{change.status}"
                report.changes[key] += 1
                if len(report.examples.setdefault(key, [])) < EXAMPLES:
                    report.examples[key].append(_example(comment, change))
                changes.append((comment, change))
        report.scanned += len(page)
        if apply and changes:
            _apply(services, changes, report)
    report.seconds = time.perf_counter() - started
    return report
