"""Planning's tables: sub-activities and the RUP, the copy of budgeting's reference data, messaging."""

from __future__ import annotations

from grms_kit.tables import UtcDateTime, add_messaging_tables, new_metadata
from grms_reference.tables import add_reference_tables
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

__all__ = [
    "indicator",
    "messaging",
    "metadata",
    "monthly_plan",
    "procurement_package",
    "reference",
    "sub_activity",
    "sub_activity_location",
]

metadata = new_metadata()
messaging = add_messaging_tables(metadata)
reference = add_reference_tables(metadata)

sub_activity = Table(
    "sub_activity",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("government_code", String(20), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("code", String(40), nullable=False),
    Column("name", String(300), nullable=False),
    Column("budget_rupiah", BigInteger, nullable=False),
    Column("packaged_rupiah", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("funding_sources", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("government_code", "fiscal_year", "agency_code", "code"),
    CheckConstraint("packaged_rupiah <= budget_rupiah", name="within_budget"),
)

indicator = Table(
    "indicator",
    metadata,
    Column("sub_activity_id", String(36), ForeignKey("sub_activity.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("level", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("unit", String(50), nullable=False),
    Column("target", String(40), nullable=False),
    Column("formula", String(20), nullable=False),
)

sub_activity_location = Table(
    "sub_activity_location",
    metadata,
    Column("sub_activity_id", String(36), ForeignKey("sub_activity.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("government_code", String(20), nullable=False),
    Column("village_code", String(20), nullable=False),
    # Decimal degrees as exact decimal strings ("-6.993200"); never floats.
    Column("latitude", String(20), nullable=True),
    Column("longitude", String(20), nullable=True),
)

monthly_plan = Table(
    "monthly_plan",
    metadata,
    Column("sub_activity_id", String(36), ForeignKey("sub_activity.id"), primary_key=True),
    Column("month", Integer, primary_key=True),
    # Cumulative physical progress in basis points: 10000 = 100.00 %.
    Column("physical_basis_points", Integer, nullable=False),
    Column("disbursement_rupiah", BigInteger, nullable=False),
)

procurement_package = Table(
    "procurement_package",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sub_activity_id", String(36), ForeignKey("sub_activity.id"), nullable=False),
    Column("government_code", String(20), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("sub_activity_code", String(40), nullable=False),
    Column("account_code", String(40), nullable=False),
    Column("name", String(300), nullable=False),
    Column("procurement_type", String(30), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("method", String(30), nullable=True),
    Column("value_rupiah", BigInteger, nullable=False),
    Column("domestic_product", Boolean, nullable=False),
    Column("small_business", Boolean, nullable=False),
    Column("selection_start_month", Integer, nullable=True),
    Column("selection_end_month", Integer, nullable=True),
    Column("contract_start_month", Integer, nullable=False),
    Column("contract_end_month", Integer, nullable=False),
    Column("use_start_month", Integer, nullable=False),
    Column("use_end_month", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(
        "ix_procurement_package_scope",
        "government_code",
        "fiscal_year",
        "agency_code",
        "sub_activity_code",
        "account_code",
        "id",
    ),
)
