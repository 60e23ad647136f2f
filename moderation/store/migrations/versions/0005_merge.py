"""Merge the console (0003) and integration (0004) branches of the schema.

Revision ID: 0005_merge
Revises: 0003_console, 0004_integration
"""

from __future__ import annotations

revision = "0005_merge"
down_revision = ("0003_console", "0004_integration")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: both branches already applied."""


def downgrade() -> None:
    """Nothing to undo."""
