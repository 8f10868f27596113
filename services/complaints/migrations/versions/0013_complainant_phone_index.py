"""complainant phone index

Joins a WhatsApp or SMS follow-up message (a photo, a location) to the sender's newest
complaint: the identity table is searched by the sender's number, within a short window.

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-25 00:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('complainant', schema=None) as batch_op:
        batch_op.create_index('ix_complainant_phone_created_at', ['phone', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complainant', schema=None) as batch_op:
        batch_op.drop_index('ix_complainant_phone_created_at')
