"""Console accounts: creation with a salted scrypt hash, lookup and password checks."""

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
    fingerprint: str  # changes when the password changes, so old sessions stop working

    @property
    def is_admin(self) -> bool:
        """Admins may change sites, thresholds, secrets and lists."""
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """How this user appears in audit events and labels."""
        return f"moderator:{self.name}"


def _account(user: User) -> Account:
    """The detached view of a row."""
    return Account(user.id, user.name, user.role, user.password_hash[-16:])


def create_user(session: Session, name: str, role: str, password: str) -> Account:
    """Add a user, refusing a bad name, an unknown role, a short password or a taken name."""
    if not NAME_RE.match(name):
        raise UserError("user names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"passwords need at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=generate_password_hash(password, method=HASH_METHOD),
                created_at=datetime.now(UTC))
    session.add(user)
    session.flush()
    return _account(user)


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The account when the name and password match, else None (same cost either way)."""
    user = session.scalar(select(User).where(User.name == name)) if NAME_RE.match(name) else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = datetime.now(UTC)
    return _account(user)


def get_account(session: Session, user_id: int) -> Account | None:
    """The account with this id, if it still exists."""
    user = session.get(User, user_id) if is_row_id(user_id) else None
    return _account(user) if user else None


def list_accounts(session: Session) -> list[Account]:
    """Every account, by name."""
    return [_account(u) for u in session.scalars(select(User).order_by(User.name))]
