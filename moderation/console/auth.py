"""Console login: session cookie, role checks, CSRF on our blueprints only, rate-limited attempts.

CSRF: flask-wtf's CSRFProtect is installed with checking off by default
(``WTF_CSRF_CHECK_DEFAULT = False``) and switched on in a ``before_request``
of the console and review-API blueprints. The site API (HMAC-signed) and the
Akismet-compatible API (api_key) are called by servers, not browsers, so they
stay exempt without each having to be listed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, g, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFProtect

from moderation.services import get_services
from moderation.store.users import Account, end_sessions, get_account

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    """Session cookie flags and CSRF for the console (called by the app factory)."""
    settings = get_services(app).settings
    app.config.update(
        SESSION_COOKIE_NAME="moderation_console",
        SESSION_COOKIE_SECURE=settings["console.secure_cookies"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings["console.session_hours"]),
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=settings["console.session_hours"] * 3600,
        WTF_CSRF_SSL_STRICT=settings["console.secure_cookies"],
    )
    csrf.init_app(app)


def protect() -> None:
    """before_request of our blueprints: every state-changing request needs the session's CSRF token."""
    if request.method in UNSAFE:
        csrf.protect()


def protect_api() -> Any:
    """before_request of the review API: no session is a 401 first; a logged-in caller then needs the CSRF token.

    A CSRF token only means something within a session, so without one the honest answer is "log in"
    (401), not "bad token" (400); nothing unauthenticated reaches a handler either way.
    """
    if request.method in UNSAFE:
        if current_account() is None:
            return _refuse(True, 401, _l("log in first"))
        csrf.protect()
    return None


def current_account() -> Account | None:
    """The logged-in account, checked against the database once per request (deleted users are out)."""
    if "account" not in g:
        account = None
        uid = session.get("uid")
        if isinstance(uid, int):
            with get_services().db.session() as db:
                account = get_account(db, uid)
            if account is not None and session.get("fp") != account.fingerprint:
                account = None  # logged out elsewhere, or a new password or role since this session logged in
            if account is not None and not _within_lifetime():
                account = None
        g.account = account
    return g.account  # type: ignore[no-any-return]


def _within_lifetime() -> bool:
    """Whether the session is younger than console.session_max_hours (the idle limit is the cookie's own)."""
    started = session.get("iat")
    limit = get_services().settings["console.session_max_hours"] * 3600
    return isinstance(started, int | float) and 0 <= time.time() - started <= limit


def log_in(account: Account) -> None:
    """Start a fresh session for the account (nothing from before the login survives)."""
    session.clear()
    session.permanent = True
    session["uid"] = account.id
    session["fp"] = account.fingerprint
    session["iat"] = int(time.time())
    g.account = account


def log_out() -> None:
    """End the session on the server too: the account's session version moves on, so a copy of this cookie
    (or any other session of the account) no longer logs anyone in."""
    account = current_account()
    if account is not None:
        with get_services().db.session() as db:
            end_sessions(db, account.id)
    session.clear()
    g.account = None


def safe_next(target: str | None) -> str:
    """A post-login redirect inside this site only (no open redirect to another host)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return url_for("console.queue")


def _refuse(api: bool, status: int, message: Any) -> Any:
    """401/403 as JSON for the API, a redirect to the login page (or a 403 page) for pages."""
    if api:
        code = "unauthorized" if status == 401 else "forbidden"
        resp = jsonify({"error": {"code": code, "message": str(message)}})
        resp.status_code = status
        return resp
    if status == 401:
        return redirect(url_for("console.login", next=request.full_path if request.query_string else request.path))
    return str(message), 403


def require(admin: bool = False, api: bool = False) -> Callable[[F], F]:
    """Decorator: a logged-in account (and an admin when ``admin``) or a refusal."""
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account = current_account()
            if account is None:
                return _refuse(api, 401, _l("log in first"))
            if admin and not account.is_admin:
                return _refuse(api, 403, _l("admins only"))
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate
