"""Migration operations for the replica tables, called from the revisions of each service that keeps a copy.

Frozen once released: a later change gets a `_v2` operation and a new revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from grms_kit.tables import UtcDateTime

__all__ = ["create_reference_tables_v1", "drop_reference_tables_v1"]


def create_reference_tables_v1() -> None:
    """Create ref_government and ref_agency as defined in revision 1."""
    op.create_table(
        "ref_government",
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("synced_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_ref_government"),
    )
    op.create_table(
        "ref_agency",
        sa.Column("government_code", sa.String(20), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("synced_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("government_code", "code", name="pk_ref_agency"),
    )


def drop_reference_tables_v1() -> None:
    """Undo create_reference_tables_v1."""
    op.drop_table("ref_agency")
    op.drop_table("ref_government")
