"""Edits: a comment sent again with a higher ``revision`` (or ``PUT /api/v1/comments/ID``) is scored again.

The new text is decided in the web process by the same decider the workers use (as the Akismet API does),
then stored with its decision in one transaction: the answer (200) already carries the new status, and the
site gets a ``comment.moderated`` callback when the status moved. A stale or repeated revision changes
nothing (200 with the comment as it stands). If the text cannot be scored now the answer is 503 and nothing
changed, so the site sends the edit again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from moderation.api.errors import ApiError
from moderation.api.schemas import REVISION_MAX
from moderation.decide.decider import Candidate, site_thresholds
from moderation.decide.rescoring import after_edit
from moderation.decide.rules import CommentInput
from moderation.decide.states import Decision, Status
from moderation.delivery.queueing import hand_over
from moderation.services import Services
from moderation.store.comments import get_for_site, public_view
from moderation.store.decisions import Event, record
from moderation.store.edits import EDITABLE, locked, replace_text
from moderation.store.models import Site

log = logging.getLogger(__name__)

ATTEMPTS = 3
"""Tries when another edit of the same comment lands between scoring and storing."""


def _score(services: Services, site_id: int, comment_id: str, item: dict[str, Any],
           thresholds: dict[str, float | None]) -> Decision:
    """The decider's verdict on the edited text (503 when no model can score it now)."""
    fields = SimpleNamespace(**{k: item.get(k) for k in EDITABLE})
    try:
        return services.decider.decide([Candidate(comment_id, site_id, CommentInput.of(fields), thresholds)])[0]
    except Exception:  # noqa: BLE001 - whatever keeps the model from scoring, the edit must not half-happen
        log.exception("an edit could not be scored")
        raise ApiError(503, "unavailable", "the edit could not be scored now; send it again later",
                       headers={"Retry-After": "30"}) from None


def apply_edit(services: Services, site_id: int, comment_id: str, item: dict[str, Any]) -> dict[str, Any] | None:
    """Score and store an edit of the site's comment; the comment's view afterwards, None if it does not exist.

    ``item["revision"]`` None means the next revision; one not above the stored revision changes nothing.
    """
    for _ in range(ATTEMPTS):
        with services.db.read() as session:
            found = get_for_site(session, site_id, comment_id)
            if found is None:
                return None
            seen, view = found.revision or 0, public_view(found)
            site = session.get(Site, site_id)
            assert site is not None
            thresholds = site_thresholds(site)
        revision = item["revision"] if item.get("revision") is not None else seen + 1
        if revision <= seen or revision > REVISION_MAX:
            return view
        fresh = _score(services, site_id, comment_id, item, thresholds)
        done = _store(services, site_id, comment_id, seen, revision, item, fresh)
        if done is not None:
            return done
    raise ApiError(409, "conflict", "the comment is being edited by another request; send the edit again")


def _store(services: Services, site_id: int, comment_id: str, seen: int, revision: int, item: dict[str, Any],
           fresh: Decision) -> dict[str, Any] | None:
    """New text, revision and decision in one transaction; None when another edit got there first."""
    with services.db.session() as session:
        pair = locked(session, site_id, comment_id)
        if pair is None or (pair[0].revision or 0) != seen:
            return None
        comment = pair[0]
        current = Status(comment.status)
        decision = after_edit(current, comment.decided_by, fresh, revision)
        decision = replace(decision, note=f"edit: revision {revision}")
        if not replace_text(session, comment_id, seen, revision, item):
            return None
        queued = current == Status.QUEUED
        recorded = record(session, [decision], current, event=Event.DECIDED if queued else Event.MODERATED,
                          refresh=not queued)
        assert recorded.applied  # the row is locked at the status just read: the compare-and-set cannot lose
        stored = get_for_site(session, site_id, comment_id)
        assert stored is not None
        session.refresh(stored)
        view = public_view(stored)
    hand_over(services.redis, services.names, recorded.delivery_ids)
    return view
