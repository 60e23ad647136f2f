"""Console accounts: creation with a salted scrypt hash, lookup and password checks, and the changes that
end an account's sessions (logout, new password, new role, disabling, removal)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.store.models import User, is_row_id

ROLES = ("moderator", "admin")
"""Moderators review; admins also change sites, thresholds, secrets and lists."""

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""User names end up in audit actors ('moderator:NAME') and logs, so they stay plain."""

LANGUAGES = ("id", "en")
"""Console languages: Bahasa Indonesia and English."""

MIN_PASSWORD = 10
"""Shortest password accepted."""

HASH_METHOD = "scrypt:32768:8:1"
"""werkzeug's scrypt KDF (N=2^15, r=8, p=1) with a 16-byte random salt per password."""

# A hash of a random password: checking an unknown user's attempt against it costs the same time
# as a real check, so response time does not tell which user names exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + "x" * 16, method=HASH_METHOD)


class UserError(ValueError):
    """A user cannot be created as asked (bad name, role or password, or the name is taken)."""


@dataclass(frozen=True)
class Account:
    """What the console keeps of a logged-in user (detached from any session)."""

    id: int
    name: str
    role: str
    fingerprint: str  # changes with the password, the role and every logout: sessions made before stop working
    site_scope: tuple[int, ...] | None = None  # the sites a moderator acts on; None: all
    language: str | None = None  # picked in the console or by `users add --lang`; None: the browser's

    @property
    def is_admin(self) -> bool:
        """Admins may change sites, thresholds, secrets and lists."""
        return self.role == "admin"

    def may_act_on(self, site_id: int) -> bool:
        """Admins act on every site; a moderator on the sites of their scope (all when it is unset)."""
        return self.is_admin or self.site_scope is None or site_id in self.site_scope

    @property
    def actor(self) -> str:
        """How this user appears in audit events and labels."""
        return f"moderator:{self.name}"


def _account(user: User) -> Account:
    """The detached view of a row."""
    scope = tuple(int(s) for s in user.site_scope) if user.site_scope is not None else None
    return Account(user.id, user.name, user.role, f"{user.password_hash[-16:]}.{user.session_version or 0}.{user.role}",
                   scope, user.language)


def _language(language: str | None) -> str | None:
    """A console language, or UserError."""
    if language is not None and language not in LANGUAGES:
        raise UserError(f"language must be one of {', '.join(LANGUAGES)}")
    return language


def create_user(session: Session, name: str, role: str, password: str, language: str | None = None) -> Account:
    """Add a user, refusing a bad name, an unknown role or language, a short password or a taken name."""
    if not NAME_RE.match(name):
        raise UserError("user names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"passwords need at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=generate_password_hash(password, method=HASH_METHOD),
                created_at=datetime.now(UTC), language=_language(language))
    session.add(user)
    session.flush()
    return _account(user)


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The account when the name and password match, else None (same cost either way)."""
    user = session.scalar(select(User).where(User.name == name)) if NAME_RE.match(name) else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or user.disabled_at is not None:
        return None
    user.last_login_at = datetime.now(UTC)
    return _account(user)


def get_account(session: Session, user_id: int) -> Account | None:
    """The account with this id, if it still exists and is not disabled."""
    user = session.get(User, user_id) if is_row_id(user_id) else None
    return _account(user) if user is not None and user.disabled_at is None else None


def _named(session: Session, name: str) -> User:
    """The user of this name, or UserError."""
    user = session.scalar(select(User).where(User.name == name)) if NAME_RE.match(name) else None
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Every session this user has open stops working (logout ends them all, on every device)."""
    user = session.get(User, user_id) if is_row_id(user_id) else None
    if user is not None:
        user.session_version = (user.session_version or 0) + 1


def set_password(session: Session, name: str, password: str) -> Account:
    """A new password (its sessions end)."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"passwords need at least {MIN_PASSWORD} characters")
    user = _named(session, name)
    user.password_hash = generate_password_hash(password, method=HASH_METHOD)
    end_sessions(session, user.id)
    return _account(user)


def set_role(session: Session, name: str, role: str) -> Account:
    """A new role (its sessions end, so no page keeps powers it lost)."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    user = _named(session, name)
    user.role = role
    end_sessions(session, user.id)
    return _account(user)


def set_scope(session: Session, name: str, site_ids: list[int] | None) -> Account:
    """The sites a moderator acts on (None: all); their sessions end so the new scope applies at once."""
    user = _named(session, name)
    user.site_scope = sorted(set(site_ids)) if site_ids is not None else None
    end_sessions(session, user.id)
    return _account(user)


def set_language(session: Session, user_id: int, language: str | None) -> Account | None:
    """The account's console language (None: follow the browser again); its sessions stay open."""
    user = session.get(User, user_id) if is_row_id(user_id) else None
    if user is None:
        return None
    user.language = _language(language)
    return _account(user)


def set_language_named(session: Session, name: str, language: str | None) -> Account:
    """:func:`set_language` by user name (the command line's way), UserError for no such user."""
    account = set_language(session, _named(session, name).id, language)
    assert account is not None
    return account


def disable_user(session: Session, name: str) -> None:
    """The user can no longer log in, and every open session ends (their audit trail stays)."""
    user = _named(session, name)
    user.disabled_at = datetime.now(UTC)
    end_sessions(session, user.id)


def remove_user(session: Session, name: str) -> None:
    """Delete the account (their name stays in audit events as it was)."""
    session.delete(_named(session, name))


def list_accounts(session: Session) -> list[Account]:
    """Every account, by name."""
    return [_account(u) for u in session.scalars(select(User).order_by(User.name))]
