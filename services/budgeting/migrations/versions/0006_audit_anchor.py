"""The daily audit anchor: the combined audit head per government at the end of each WIB day

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 02:35:00.000000
"""

from collections.abc import Sequence

import grms_kit.tables
import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_anchor",
        sa.Column("government_code", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("combined_hash", sa.String(length=64), nullable=False),
        sa.Column("plan_count", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", grms_kit.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["government_code"], ["government.code"], name=op.f("fk_audit_anchor_government_code_government")
        ),
        sa.PrimaryKeyConstraint("government_code", "day", name=op.f("pk_audit_anchor")),
    )


def downgrade() -> None:
    op.drop_table("audit_anchor")
