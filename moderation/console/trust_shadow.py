"""Console: an author's earned standing (shown in the queue's author history, revocable) and the shadow report page.

Routes attach to the console's page and review-API blueprints; ``moderation.console.init_app`` imports this module.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from moderation.api.errors import ApiError
from moderation.api.schemas import has_nul
from moderation.console import queue_view
from moderation.console.api import bp as review_bp
from moderation.console.auth import current_account, require
from moderation.console.views import bp as console_bp
from moderation.decide.trust import Standing
from moderation.services import get_services
from moderation.settings import Settings
from moderation.store.models import Comment
from moderation.store.review import get_comment
from moderation.store.shadow import BUCKETS, shadow_report
from moderation.store.trust import REVOKE, change_trust, comment_author_key, standings, trust_events

log = logging.getLogger(__name__)


def standing_view(session: Session, comment: Comment, settings: Settings) -> dict[str, Any] | None:
    """The comment's author's standing on its site as the console shows it (None: an anonymous author)."""
    key = comment_author_key(comment)
    if key is None:
        return None
    st = standings(session, [(comment.site_id, key)], settings["trust.window_days"]).get((comment.site_id, key),
                                                                                         Standing())
    return {"author": key, "approved": st.approved, "spam": st.spam, "decided": st.decided, "revoked": st.revoked,
            "trusted": st.trusted(settings["trust.min_approved"]), "min_approved": settings["trust.min_approved"],
            "window_days": settings["trust.window_days"],
            "events": [{"action": e.action, "actor": e.actor, "note": e.note,
                        "at": e.created_at.isoformat().replace("+00:00", "Z")}
                       for e in trust_events(session, comment.site_id, key)]}


@review_bp.post("/trust")
@require(api=True)
def change_author_trust() -> ResponseReturnValue:
    """Revoke (or give back) the earned trust of a comment's author on its site: {"comment_id", "action", "note"}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", 'send {"comment_id": ID, "action": "revoke" | "restore"}')
    comment_id, action, note = body.get("comment_id"), body.get("action"), body.get("note")
    if action not in ("revoke", "restore") or not isinstance(comment_id, str) or has_nul(comment_id):
        raise ApiError(400, "invalid_request", "comment_id must be a comment id and action revoke or restore")
    if note is not None and (not isinstance(note, str) or len(note) > 2000 or has_nul(note)):
        raise ApiError(422, "invalid_fields", "note must be text of at most 2000 characters", {"note": "invalid"})
    services, account = get_services(), current_account()
    assert account is not None  # require() let only a logged-in account through
    with services.db.session() as session:
        found = get_comment(session, comment_id)
        if found is None or not account.may_act_on(found[0].site_id):
            raise ApiError(404, "not_found", "no such comment")
        key = comment_author_key(found[0])
        if key is None:
            raise ApiError(400, "invalid_request", "this comment's author is anonymous: no standing to change")
        change_trust(session, found[0].site_id, key, str(action), account.actor, note or None)
        standing = standing_view(session, found[0], services.settings)
    # The audit trail is the trust_events row; the log line says who did it (never the author's address).
    log.info("author trust changed", extra={"actor": account.actor, "action": action, "site_id": found[0].site_id,
                                            "comment_id": comment_id, "revoked": action == REVOKE})
    return {"standing": standing}


def _since(value: str | None) -> datetime | None:
    """?since= as an aware datetime (ISO-8601; naive is UTC); ValueError when it is not one."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@console_bp.get("/shadow")
@require()
def shadow_page() -> ResponseReturnValue:
    """A shadow-mode site's report: where we agree with its own verdicts, and examples of where we do not."""
    account = current_account()
    with get_services().db.read() as session:
        sites = queue_view.site_ids(session, account)
        slug = request.args.get("site") or (min(sites) if sites else None)
        if slug is None or slug not in sites:
            return render_template("error.html", message=_("No such site.")), 404
        try:
            since = _since(request.args.get("since"))
        except ValueError:
            return render_template("error.html", message="since must be an ISO-8601 date or time."), 400
        report = shadow_report(session, sites[slug], slug, since, examples=10)
    return render_template("shadow.html", report=report, sites=sorted(sites), buckets=BUCKETS,
                           since=request.args.get("since") or "")
