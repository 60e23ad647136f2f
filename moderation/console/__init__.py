"""The moderators' console: server-rendered pages at / (login at /login) and the review API they call.

Every asset is served by the app itself; pages carry a strict Content-Security-Policy
(scripts and styles only from our own /console/static, no inline script), so even a
comment that slipped past escaping could not run anything.
"""

from __future__ import annotations

from flask import Flask, Response, request

from moderation.console import auth, i18n

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
"""Only our own scripts, styles, images and API; no inline script, no plugins, no framing."""


def _headers(response: Response) -> Response:
    """Security headers on console pages and review-API answers."""
    if request.blueprint in ("console", "review_api"):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "console.static":
            response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register the console pages, the review API, CSRF and the security headers."""
    from moderation.console import (
        export,  # noqa: F401 - its routes attach to the console blueprint
        trust_shadow,  # noqa: F401 - attaches the standing and shadow-report routes
    )
    from moderation.console.api import bp as review_bp
    from moderation.console.views import bp as console_bp

    auth.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(console_bp)
    app.register_blueprint(review_bp)
    app.after_request(_headers)
