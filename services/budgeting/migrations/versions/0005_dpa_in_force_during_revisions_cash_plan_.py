"""The DPA in force on its lines during revisions; cash plans proposed with a revision

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 00:55:00.000000
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grms_kit.tables

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("budget_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dpa_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("dpa_account_code", sa.String(length=30), server_default="", nullable=False))
        batch_op.add_column(sa.Column("removed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "cash_plan_proposal",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("months", sa.JSON(), nullable=False),
        sa.Column("updated_at", grms_kit.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["budget_plan.id"], name=op.f("fk_cash_plan_proposal_plan_id_budget_plan")
        ),
        sa.PrimaryKeyConstraint("plan_id", "line_number", name=op.f("pk_cash_plan_proposal")),
    )
    # An approved plan's lines are its DPA in force.
    op.execute(
        "UPDATE budget_line SET dpa_amount = amount, dpa_account_code = account_code "
        "WHERE plan_id IN (SELECT id FROM budget_plan WHERE state = 'approved')"
    )
    # A plan in an open revision: its DPA in force is the snapshot of its last approval.
    conn = op.get_bind()
    plans = conn.execute(sa.text("SELECT id FROM budget_plan WHERE state <> 'approved' AND revision > 0")).all()
    for (plan_id,) in plans:
        content = conn.execute(
            sa.text(
                "SELECT content FROM budget_plan_version WHERE plan_id = :p AND action = 'approve' "
                "ORDER BY version DESC LIMIT 1"
            ),
            {"p": plan_id},
        ).scalar()
        if content is None:
            continue
        lines = (json.loads(content) if isinstance(content, str) else content)["lines"]
        for line in lines:
            conn.execute(
                sa.text(
                    "UPDATE budget_line SET dpa_amount = :a, dpa_account_code = :c WHERE plan_id = :p AND number = :n"
                ),
                {"a": line["amount"], "c": line["account_code"], "p": plan_id, "n": line["number"]},
            )


def downgrade() -> None:
    op.drop_table("cash_plan_proposal")
    with op.batch_alter_table("budget_line", schema=None) as batch_op:
        batch_op.drop_column("removed")
        batch_op.drop_column("dpa_account_code")
        batch_op.drop_column("dpa_amount")
