"""Reader reports: ``POST /api/v1/comments/SERVICE_ID/flags``, signed like every site request.

The same reporter reporting the same comment twice counts once; a site can
only report its own comments (another site's id is a 404, as for reads).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from moderation.api import bp
from moderation.api.auth import signed
from moderation.api.errors import ApiError, json_body
from moderation.api.read import own_comment
from moderation.api.schemas import is_blank, nul_fields
from moderation.services import get_services
from moderation.store.review import FLAG_REASONS, add_flag

ANONYMOUS = "anonymous"
"""Reports without a reporter all count as one reporter (they cannot be told apart, so they cannot pile up)."""


def _parse(body: Any) -> tuple[str, str, str | None]:
    """(reason, reporter, note) from the JSON body, or a 400/422 naming the bad fields."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", 'send {"reason": "spam" | "abusive" | "other", ...}')
    fields: dict[str, str] = {}
    reason, reporter, note = body.get("reason"), body.get("reporter"), body.get("note")
    if reason not in FLAG_REASONS:
        fields["reason"] = f"one of {', '.join(FLAG_REASONS)}"
    if reporter is not None and (not isinstance(reporter, str | int) or isinstance(reporter, bool)
                                 or is_blank(str(reporter)) or len(str(reporter)) > 255):
        fields["reporter"] = "text of 1-255 characters"
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        fields["note"] = "text of at most 2000 characters"
    fields |= nul_fields({"reporter": reporter, "note": note})
    if fields:
        raise ApiError(422, "invalid_fields", "some fields are invalid", fields)
    return str(reason), str(reporter).strip() if reporter is not None else ANONYMOUS, note or None


@bp.post("/comments/<comment_id>/flags")
@signed
def flag_comment(comment_id: str) -> ResponseReturnValue:
    """Record a reader's report; 202 whether it is new or a repeat (the count says whether it counted)."""
    body = json_body()
    reason, reporter, note = _parse(body)
    with get_services().db.session() as session:
        counted = add_flag(session, own_comment(session, comment_id), reason, reporter, note)
    return jsonify(id=comment_id, flagged=True, counted=counted), 202
