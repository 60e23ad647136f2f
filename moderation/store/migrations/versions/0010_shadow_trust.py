"""shadow_trust: a site's mode (enforce/shadow) and its reported verdicts; authors' user ids and trust events

Revision ID: 0010_shadow_trust
Revises: 0006_security
Create Date: 2026-12-07 20:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_shadow_trust'
down_revision = '0006_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=16), server_default='enforce', nullable=False))
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_user_id', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_comments_site_author_user', ['site_id', 'author_user_id'], unique=False)
    op.create_table('site_verdicts',
    sa.Column('comment_id', sa.String(length=32), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('comment_id')
    )
    with op.batch_alter_table('site_verdicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_verdicts_site_id'), ['site_id'], unique=False)
    op.create_table('trust_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('author_key', sa.String(length=330), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('trust_events', schema=None) as batch_op:
        batch_op.create_index('ix_trust_events_site_author', ['site_id', 'author_key', 'id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('trust_events', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_events_site_author')
    op.drop_table('trust_events')
    with op.batch_alter_table('site_verdicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_verdicts_site_id'))
    op.drop_table('site_verdicts')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_site_author_user')
        batch_op.drop_column('author_user_id')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('mode')
