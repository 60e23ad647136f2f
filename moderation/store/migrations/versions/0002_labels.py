"""training labels

Revision ID: 0002_labels
Revises: 0001
Create Date: 2026-11-27 19:07:07.289478
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_labels'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('training_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.String(length=32), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('head', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_labels_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index('ix_training_labels_site_created', ['site_id', 'created_at'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('training_labels', schema=None) as batch_op:
        batch_op.drop_index('ix_training_labels_site_created')
        batch_op.drop_index(batch_op.f('ix_training_labels_comment_id'))

    op.drop_table('training_labels')
