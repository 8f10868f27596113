"""initial: reference copy and messaging tables

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from grms_kit.migrations import create_messaging_tables_v1, drop_messaging_tables_v1
from grms_reference.migrations import create_reference_tables_v1, drop_reference_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables_v1()
    create_reference_tables_v1()


def downgrade() -> None:
    drop_reference_tables_v1()
    drop_messaging_tables_v1()
