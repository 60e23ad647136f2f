"""A shadow-mode site's own verdicts: ``POST /api/v1/comments/SERVICE_ID/verdict``, signed like every site request.

What the site's moderators or its own filter finally did with a comment. Stored apart from our decisions
(``site_verdicts``): it never moves the comment and is not a label of ours; ``moderation report shadow``
compares the two. A later report for the same comment replaces the earlier one.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from moderation.api import bp
from moderation.api.auth import signed
from moderation.api.errors import ApiError, json_body
from moderation.api.read import own_comment
from moderation.api.schemas import is_blank, nul_fields
from moderation.services import get_services
from moderation.store.shadow import VERDICTS, record_verdict

SOURCE_MAX = 64
"""Longest ``source`` (who decided on the site: moderator, akismet, ...)."""


def _parse(body: Any) -> tuple[str, str | None]:
    """(verdict, source) from the JSON body, or a 400/422 naming the bad fields."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", 'send {"verdict": "approved" | "held" | "spam" | "rejected", ...}')
    verdict, source = body.get("verdict"), body.get("source")
    fields: dict[str, str] = {}
    if verdict not in VERDICTS:
        fields["verdict"] = f"one of {', '.join(VERDICTS)}"
    if source is not None and (not isinstance(source, str) or is_blank(source) or len(source) > SOURCE_MAX):
        fields["source"] = f"text of 1-{SOURCE_MAX} characters"
    fields |= nul_fields({"source": source})
    if fields:
        raise ApiError(422, "invalid_fields", "some fields are invalid", fields)
    return str(verdict), source.strip() if isinstance(source, str) else None


@bp.post("/comments/<comment_id>/verdict")
@signed
def report_verdict(comment_id: str) -> ResponseReturnValue:
    """Record the site's own final verdict on one of its comments; 200 with it and our status beside it."""
    body = json_body()
    with get_services().db.session() as session:
        # Whose comment it is comes first: another site's id is a 404 whatever the body says.
        comment = own_comment(session, comment_id)
        verdict, source = _parse(body)
        stored = record_verdict(session, comment, verdict, source)
        ours = comment.status
    return jsonify(id=comment_id, verdict=stored.verdict, source=stored.source, status=ours, mode=g.site.mode,
                   reported_at=stored.reported_at.isoformat().replace("+00:00", "Z"))
