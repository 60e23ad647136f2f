"""The site API under /api/v1: intake and reading decisions (thin handlers over the store)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from moderation.api.errors import ApiError
from moderation.store.db import NulCharacter

bp = Blueprint("site_api", __name__, url_prefix="/api/v1")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    """Every refusal in the contract's error shape."""
    return exc.response()


@bp.errorhandler(NulCharacter)
def _nul(exc: NulCharacter) -> Response:
    """Backstop: text with U+0000 that a handler did not refuse itself is still a 422, never a 500."""
    return ApiError(422, "invalid_fields", str(exc)).response()


def init_app(app: Flask) -> None:
    """Import the route modules (they attach to ``bp``) and register the blueprint."""
    from moderation.api import flags, intake, openapi, read, verdicts  # noqa: F401

    app.register_blueprint(bp)
