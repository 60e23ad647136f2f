"""The site API under /api/v1: intake and reading decisions (thin handlers over the store)."""

from __future__ import annotations

from flask import Blueprint, Response

from moderation.api.errors import ApiError

bp = Blueprint("site_api", __name__, url_prefix="/api/v1")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    """Every refusal in the contract's error shape."""
    return exc.response()


def register() -> Blueprint:
    """Import the route modules (they attach to ``bp``) and return the blueprint."""
    from moderation.api import flags, intake, openapi, read  # noqa: F401

    return bp
