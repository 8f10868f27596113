"""initial: governments, agencies, messaging tables

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from grms_kit.migrations import create_messaging_tables_v1, drop_messaging_tables_v1
from grms_kit.tables import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables_v1()
    op.create_table(
        "government",
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("parent_code", sa.String(20), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_code"], ["government.code"], name="fk_government_parent_code_government"),
        sa.PrimaryKeyConstraint("code", name="pk_government"),
    )
    op.create_table(
        "agency",
        sa.Column("government_code", sa.String(20), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short_name", sa.String(200), nullable=False),
        sa.Column("head", sa.JSON(), nullable=True),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["government_code"], ["government.code"], name="fk_agency_government_code_government"),
        sa.PrimaryKeyConstraint("government_code", "code", name="pk_agency"),
    )


def downgrade() -> None:
    op.drop_table("agency")
    op.drop_table("government")
    drop_messaging_tables_v1()
