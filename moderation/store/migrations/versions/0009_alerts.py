"""alerts: the used one-tap alert links (each link applies its action once)

Revision ID: 0009_alerts
Revises: 0006_security
Create Date: 2026-12-07 20:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_alerts'
down_revision = '0006_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'alert_link_uses',
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('comment_id', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id']),
        sa.PrimaryKeyConstraint('nonce'),
    )
    with op.batch_alter_table('alert_link_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_link_uses_comment_id'), ['comment_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('alert_link_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_link_uses_comment_id'))
    op.drop_table('alert_link_uses')
