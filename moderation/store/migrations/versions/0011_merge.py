"""Merge the four branches that grew from 0006: locale (0007), revisions (0008), alerts (0009), shadow and trust (0010).

Revision ID: 0011_merge
Revises: 0007_locale, 0008_revisions, 0009_alerts, 0010_shadow_trust
"""

from __future__ import annotations

revision = "0011_merge"
down_revision = ("0007_locale", "0008_revisions", "0009_alerts", "0010_shadow_trust")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: every branch already applied."""


def downgrade() -> None:
    """Nothing to undo."""
