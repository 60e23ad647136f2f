"""The Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from moderation import api, console, edge, health
from moderation.alerts.page import bp as alert_links
from moderation.api import akismet
from moderation.api.errors import ApiError
from moderation.keys import secret_key
from moderation.logs import configure_logging
from moderation.services import Services
from moderation.settings import Settings, load_settings

log = logging.getLogger(__name__)


def _secret_key(settings: Settings) -> str:
    """The configured session key, or one generated once and kept (mode 600) under the data directory."""
    return secret_key(settings)


def _json_http_errors(exc: HTTPException) -> Response | HTTPException:
    """Under /api, Werkzeug's own errors (404, 405, 413 ...) answer in the contract's JSON shape."""
    if not request.path.startswith("/api/"):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    return ApiError(exc.code or 500, code, exc.description or exc.name or "error").response()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings (defaults → config file → env → ``test_config``), then blueprints."""
    settings = load_settings(overrides=test_config)
    configure_logging(settings["log_level"])
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        MAX_CONTENT_LENGTH=settings["intake.max_body_bytes"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    # Each part registers itself (flaskr's init_app): services first, as every other part reads them.
    Services(settings).init_app(app)
    edge.init_app(app, settings)
    health.init_app(app)
    api.init_app(app)
    akismet.init_app(app)
    console.init_app(app)
    app.register_blueprint(alert_links)
    app.register_error_handler(HTTPException, _json_http_errors)
    return app
