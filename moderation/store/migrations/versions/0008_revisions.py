"""revisions: the site's revision number of each comment (edits are scored again); comments by (site, id) for exports

Revision ID: 0008_revisions
Revises: 0006_security
Create Date: 2026-12-07 20:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_revisions'
down_revision = '0006_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_comments_site_id', ['site_id', 'id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_site_id')
        batch_op.drop_column('revision')
