"""site_alerts: a site's own alert recipients (e-mail addresses and a chat webhook URL)

Revision ID: 0012_site_alerts
Revises: 0011_merge
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_site_alerts'
down_revision = '0011_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_emails', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('alert_webhook_url', sa.String(length=2048), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('alert_webhook_url')
        batch_op.drop_column('alert_emails')
