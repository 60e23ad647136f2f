"""moderators' console: users, reader flags, undoable review actions, queue indexes

Revision ID: 0003_console
Revises: 0002_labels
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_console'
down_revision = '0002_labels'
branch_labels = None
depends_on = None

COMMENT_INDEXES = (
    ('ix_comments_status_id', ['status', 'id']),
    ('ix_comments_status_score', ['status', 'spam_score', 'id']),
    ('ix_comments_site_status_id', ['site_id', 'status', 'id']),
    ('ix_comments_author_email', ['author_email']),
    ('ix_comments_author_ip', ['author_ip']),
    ('ix_comments_post', ['post_id']),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.String(length=32), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('reporter', sa.String(length=255), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('comment_id', 'reporter', name='uq_flags_comment_reporter')
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.create_index('ix_flags_open_comment', ['resolved_at', 'comment_id'], unique=False)

    op.create_table('review_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('label_ids', sa.JSON(), nullable=False),
    sa.Column('flag_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_actions', schema=None) as batch_op:
        batch_op.create_index('ix_review_actions_actor', ['actor', 'id'], unique=False)

    # Plain CREATE INDEX (no batch): SQLite can add an index without copying the comments table.
    for name, columns in COMMENT_INDEXES:
        op.create_index(name, 'comments', columns, unique=False)


def downgrade() -> None:
    """Revert this revision."""
    for name, _ in reversed(COMMENT_INDEXES):
        op.drop_index(name, table_name='comments')
    with op.batch_alter_table('review_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_review_actions_actor')
    op.drop_table('review_actions')
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index('ix_flags_open_comment')
    op.drop_table('flags')
    op.drop_table('users')
