"""complaint board day shard index

The scheduler folds the intake's shard rows of past days into shard 0 on every pass: a
partial index on the shard rows (a few days' worth) finds them without reading the year.

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-25 02:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('complaint_board_day', schema=None) as batch_op:
        batch_op.create_index(
            'ix_complaint_board_day_shards',
            ['day'],
            unique=False,
            sqlite_where=sa.text('shard <> 0'),
            postgresql_where=sa.text('shard <> 0'),
        )


def downgrade() -> None:
    with op.batch_alter_table('complaint_board_day', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_board_day_shards')
