"""Revisions of DPAs, plan listing, planning's sub-activities for the output-indicator rule

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:45:49.726532
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import grms_kit.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sub_activity_output",
        sa.Column("government_code", sa.String(length=20), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("sub_activity_code", sa.String(length=30), nullable=False),
        sa.Column("planning_id", sa.String(length=36), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", grms_kit.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "government_code", "fiscal_year", "agency_code", "sub_activity_code", name=op.f("pk_sub_activity_output")
        ),
    )
    with op.batch_alter_table("budget_plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("revision_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("approved_total", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_budget_plan_listing", ["government_code", "agency_code", "sub_activity_code", "id"], unique=False
        )
    # Plans stored before this revision: count their lines; an approved one is its own DPA in force.
    op.execute(
        "UPDATE budget_plan SET line_count = "
        "(SELECT COUNT(*) FROM budget_line WHERE budget_line.plan_id = budget_plan.id)"
    )
    op.execute("UPDATE budget_plan SET approved_total = total WHERE state = 'approved'")


def downgrade() -> None:
    with op.batch_alter_table("budget_plan", schema=None) as batch_op:
        batch_op.drop_index("ix_budget_plan_listing")
        batch_op.drop_column("approved_total")
        batch_op.drop_column("revision_kind")
        batch_op.drop_column("revision")
        batch_op.drop_column("line_count")

    op.drop_table("sub_activity_output")
