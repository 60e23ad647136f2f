"""Reading decisions: a site sees only its own comments (another site's id is a 404)."""

from __future__ import annotations

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from moderation.api import bp
from moderation.api.auth import signed
from moderation.api.errors import ApiError
from moderation.api.schemas import NUL_MESSAGE, has_nul
from moderation.services import get_services
from moderation.store.comments import get_by_external, get_for_site, public_view
from moderation.store.models import Comment


def own_comment(session: Session, comment_id: str) -> Comment:
    """The signed site's comment with this service id; a 404 for another site's, an unknown one, or an id holding
    a NUL (no id holds one, and PostgreSQL could not even compare it)."""
    comment = None if has_nul(comment_id) else get_for_site(session, g.site.id, comment_id)
    if comment is None:
        raise ApiError(404, "not_found", "no such comment")
    return comment


@bp.get("/comments/<comment_id>")
@signed
def get_comment(comment_id: str) -> ResponseReturnValue:
    """One comment by service id."""
    with get_services().db.read() as session:
        return jsonify(public_view(own_comment(session, comment_id), g.site.mode))


@bp.get("/comments")
@signed
def find_comment() -> ResponseReturnValue:
    """One comment by the site's own id (``?external_id=``)."""
    external_id = request.args.get("external_id")
    if not external_id:
        raise ApiError(400, "missing_external_id", "pass ?external_id=")
    if has_nul(external_id):
        raise ApiError(400, "invalid_external_id", f"external_id {NUL_MESSAGE}", {"external_id": NUL_MESSAGE})
    with get_services().db.read() as session:
        comment = get_by_external(session, g.site.id, external_id)
        if comment is None:
            raise ApiError(404, "not_found", "no such comment")
        return jsonify(public_view(comment, g.site.mode))
