"""sub-activities with indicators, locations and monthly plans (F1); procurement packages (RUP)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import grms_kit.tables
import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sub_activity',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('government_code', sa.String(length=20), nullable=False),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('budget_rupiah', sa.BigInteger(), nullable=False),
    sa.Column('packaged_rupiah', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('funding_sources', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', grms_kit.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', grms_kit.tables.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('packaged_rupiah <= budget_rupiah', name=op.f('ck_sub_activity_within_budget')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sub_activity')),
    sa.UniqueConstraint('government_code', 'fiscal_year', 'agency_code', 'code', name=op.f('uq_sub_activity_government_code'))
    )
    op.create_table('indicator',
    sa.Column('sub_activity_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=50), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('formula', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['sub_activity_id'], ['sub_activity.id'], name=op.f('fk_indicator_sub_activity_id_sub_activity')),
    sa.PrimaryKeyConstraint('sub_activity_id', 'position', name=op.f('pk_indicator'))
    )
    op.create_table('monthly_plan',
    sa.Column('sub_activity_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('physical_basis_points', sa.Integer(), nullable=False),
    sa.Column('disbursement_rupiah', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['sub_activity_id'], ['sub_activity.id'], name=op.f('fk_monthly_plan_sub_activity_id_sub_activity')),
    sa.PrimaryKeyConstraint('sub_activity_id', 'month', name=op.f('pk_monthly_plan'))
    )
    op.create_table('procurement_package',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sub_activity_id', sa.String(length=36), nullable=False),
    sa.Column('government_code', sa.String(length=20), nullable=False),
    sa.Column('agency_code', sa.String(length=40), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('sub_activity_code', sa.String(length=40), nullable=False),
    sa.Column('account_code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('procurement_type', sa.String(length=30), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=30), nullable=True),
    sa.Column('value_rupiah', sa.BigInteger(), nullable=False),
    sa.Column('domestic_product', sa.Boolean(), nullable=False),
    sa.Column('small_business', sa.Boolean(), nullable=False),
    sa.Column('selection_start_month', sa.Integer(), nullable=True),
    sa.Column('selection_end_month', sa.Integer(), nullable=True),
    sa.Column('contract_start_month', sa.Integer(), nullable=False),
    sa.Column('contract_end_month', sa.Integer(), nullable=False),
    sa.Column('use_start_month', sa.Integer(), nullable=False),
    sa.Column('use_end_month', sa.Integer(), nullable=False),
    sa.Column('created_at', grms_kit.tables.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sub_activity_id'], ['sub_activity.id'], name=op.f('fk_procurement_package_sub_activity_id_sub_activity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procurement_package'))
    )
    with op.batch_alter_table('procurement_package', schema=None) as batch_op:
        batch_op.create_index('ix_procurement_package_scope', ['government_code', 'fiscal_year', 'agency_code', 'sub_activity_code', 'account_code', 'id'], unique=False)

    op.create_table('sub_activity_location',
    sa.Column('sub_activity_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('government_code', sa.String(length=20), nullable=False),
    sa.Column('village_code', sa.String(length=20), nullable=False),
    sa.Column('latitude', sa.String(length=20), nullable=True),
    sa.Column('longitude', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['sub_activity_id'], ['sub_activity.id'], name=op.f('fk_sub_activity_location_sub_activity_id_sub_activity')),
    sa.PrimaryKeyConstraint('sub_activity_id', 'position', name=op.f('pk_sub_activity_location'))
    )


def downgrade() -> None:
    op.drop_table('sub_activity_location')
    with op.batch_alter_table('procurement_package', schema=None) as batch_op:
        batch_op.drop_index('ix_procurement_package_scope')

    op.drop_table('procurement_package')
    op.drop_table('monthly_plan')
    op.drop_table('indicator')
    op.drop_table('sub_activity')
