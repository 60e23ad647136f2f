"""security: a verified author flag on comments; revocable sessions, disabling and a site scope on accounts

Revision ID: 0006_security
Revises: 0005_merge
Create Date: 2026-12-07 18:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_security'
down_revision = '0005_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_verified', sa.Boolean(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('site_scope', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('site_scope')
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('session_version')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('author_verified')
