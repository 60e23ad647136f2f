"""SQLAlchemy 2 tables: sites, comments, decision events, list entries, callback deliveries and attempts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

MAX_ID = 2**31 - 1
"""The largest id of an INTEGER primary key (32-bit on PostgreSQL); a larger number names no row."""


def is_row_id(value: object) -> bool:
    """Whether ``value`` can be an INTEGER primary key (a whole number 1..MAX_ID; bools are not ids)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; naive values are taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC) if dialect.name != "sqlite" else value
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Hand back aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base; Alembic compares its metadata with the migrations."""


class Site(Base):
    """A news site that posts comments and receives callbacks."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    api_key: Mapped[str] = mapped_column(String(64), unique=True)
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    approve_below: Mapped[float | None] = mapped_column(Float)
    spam_above: Mapped[float | None] = mapped_column(Float)
    abusive_above: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # IANA zone the console shows this site's times in (None: the console.time_zone setting).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # "enforce": the site applies our decisions; "shadow": a trial, the site keeps its own filter and reports
    # its verdicts back (site_verdicts), so ours can be compared with theirs.
    mode: Mapped[str] = mapped_column(String(16), server_default="enforce", default="enforce")
    # The site's own alert recipients, who get a digest of this site's held queue only (None: none; the service's
    # global alerts.* recipients see every site). The webhook URL is a secret: shown masked, never logged.
    alert_emails: Mapped[list[str] | None] = mapped_column(JSON)
    alert_webhook_url: Mapped[str | None] = mapped_column(String(2048))


class Comment(Base):
    """One reader comment as the site sent it, with its current decision."""

    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id", name="uq_comments_site_external"),
        # The sweeper's query: queued comments ordered by arrival.
        Index("ix_comments_status_received", "status", "received_at"),
        Index("ix_comments_site_status", "site_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    external_id: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str | None] = mapped_column(String(255))
    author_email: Mapped[str | None] = mapped_column(String(320))
    author_url: Mapped[str | None] = mapped_column(String(2048))
    author_ip: Mapped[str | None] = mapped_column(String(64))
    # The site vouches for the author (a logged-in user): only then may allow rules read typed fields.
    author_verified: Mapped[bool | None] = mapped_column(Boolean)
    # The site's own user id for the author (a logged-in user), when it sends one: trust is earned under it.
    author_user_id: Mapped[str | None] = mapped_column(String(255))
    user_agent: Mapped[str | None] = mapped_column(String(1024))
    post_id: Mapped[str | None] = mapped_column(String(255))
    post_url: Mapped[str | None] = mapped_column(String(2048))
    post_title: Mapped[str | None] = mapped_column(String(1024))
    parent_id: Mapped[str | None] = mapped_column(String(255))
    lang: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    spam_score: Mapped[float | None] = mapped_column(Float)
    abusive_score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Privacy: when the raw IP/e-mail were replaced by keyed hashes, and when the author's data was erased.
    pseudonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The site's revision of the text (0: as first sent); a higher one is an edit, scored again.
    revision: Mapped[int] = mapped_column(Integer, server_default="0", default=0)


class DecisionEvent(Base):
    """Append-only audit trail: who moved which comment from what to what, when and why."""

    __tablename__ = "decision_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    actor: Mapped[str] = mapped_column(String(128))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ListEntry(Base):
    """A per-site (or global, site_id NULL) allow/deny entry for a word, domain, e-mail or IP."""

    __tablename__ = "list_entries"
    __table_args__ = (UniqueConstraint("site_id", "action", "kind", "value", name="uq_list_entries"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    action: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallbackDelivery(Base):
    """One event owed to a site's callback URL (the outbox row); never deleted."""

    __tablename__ = "callback_deliveries"
    __table_args__ = (Index("ix_callback_deliveries_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"))
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the next retry is due; the sweeper leaves a delivery alone until then.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CallbackAttempt(Base):
    """Each HTTP attempt to deliver a callback, successful or not."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("callback_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float)


class TrainingLabel(Base):
    """A human label for a text: from a moderator's decision, an Akismet-style report, or an import.

    ``model train --include-decisions`` reads these; a later label for the same
    comment overrides an earlier one. Author fields are not copied here: training
    reads them from the comment's row, so retention and erasure apply to them.
    """

    __tablename__ = "training_labels"
    __table_args__ = (Index("ix_training_labels_site_created", "site_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    comment_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    head: Mapped[str] = mapped_column(String(16))  # "spam" or "abusive"
    label: Mapped[str] = mapped_column(String(16))  # spam/ham for the spam head, abusive/clean for the abusive head
    source: Mapped[str] = mapped_column(String(32))  # moderator, akismet, import
    actor: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The retention job's query: comments past the retention age whose personal data is still raw.
Index("ix_comments_pseudonymized_received", Comment.pseudonymized_at, Comment.received_at)


class PrivacyErasure(Base):
    """Proof that one person's data was erased on request, without keeping their address (only its keyed hash)."""

    __tablename__ = "privacy_erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    comments: Mapped[int] = mapped_column(Integer)
    labels: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    """A moderator or admin of the console (made with `moderation users add`)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))  # werkzeug scrypt: method$salt$hash
    role: Mapped[str] = mapped_column(String(16))  # "moderator" or "admin"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped by logout, a password or role change and disabling: every session made before stops working.
    session_version: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Site ids a moderator may act on; None: every site (admins always see all).
    site_scope: Mapped[list[int] | None] = mapped_column(JSON)
    # Console language picked by the person ("id" or "en"); None: from the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(8))


class Flag(Base):
    """A reader's report of a published comment; one per (comment, reporter)."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("comment_id", "reporter", name="uq_flags_comment_reporter"),
        # The reported queue groups open flags by comment.
        Index("ix_flags_open_comment", "resolved_at", "comment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    reason: Mapped[str] = mapped_column(String(16))
    reporter: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(128))


class ReviewAction(Base):
    """One console action (possibly on many comments), remembered so its moderator can undo it."""

    __tablename__ = "review_actions"
    __table_args__ = (Index("ix_review_actions_actor", "actor", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[list[list[Any]]] = mapped_column(JSON)  # [comment id, from, to, reasons before]
    label_ids: Mapped[list[int]] = mapped_column(JSON)
    flag_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Console queue indexes: keyset pagination walks (status, id) — ids are time-ordered, so this is
# arrival order — or (status, spam_score, id); author history and exact searches look up e-mail/IP.
Index("ix_comments_status_id", Comment.status, Comment.id)
Index("ix_comments_status_score", Comment.status, Comment.spam_score, Comment.id)
Index("ix_comments_site_status_id", Comment.site_id, Comment.status, Comment.id)
Index("ix_comments_author_email", Comment.author_email)
Index("ix_comments_author_ip", Comment.author_ip)
Index("ix_comments_post", Comment.post_id)
# Exports walk one site's comments in id (arrival) order.
Index("ix_comments_site_id", Comment.site_id, Comment.id)


class AlertLinkUse(Base):
    """A one-tap alert link that was used (its nonce), so each link applies its action once."""

    __tablename__ = "alert_link_uses"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
Index("ix_comments_site_author_user", Comment.site_id, Comment.author_user_id)


class SiteVerdict(Base):
    """A shadow-mode site's own final verdict on a comment (its moderators' or its filter's), the latest one.

    Kept apart from our decisions on purpose: it never moves a comment's status, never makes an audit event
    and is not a training label (a later trainer may read it as one, under its own source).
    """

    __tablename__ = "site_verdicts"

    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))  # approved, held, spam or rejected
    source: Mapped[str | None] = mapped_column(String(64))  # who decided on the site: moderator, akismet, ...
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TrustEvent(Base):
    """A moderator revoked (or gave back) an author's earned trust on one site: the latest event holds."""

    __tablename__ = "trust_events"
    __table_args__ = (Index("ix_trust_events_site_author", "site_id", "author_key", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    author_key: Mapped[str] = mapped_column(String(330))  # "user:ID" or "email:ADDRESS"
    action: Mapped[str] = mapped_column(String(16))  # revoke or restore
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
