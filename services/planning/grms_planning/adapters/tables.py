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
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

__all__ = [
    "approved_budget",
    "complaint_cluster",
    "indicator",
    "messaging",
    "metadata",
    "monthly_plan",
    "planning_stage",
    "procurement_package",
    "proposal",
    "proposal_history",
    "reference",
    "stage_book",
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
    # No check of packaged_rupiah against budget_rupiah: once budgeting approved an amount
    # (approved_budget) that amount is the ceiling, and the aggregate enforces it.
    CheckConstraint("packaged_rupiah >= 0", name="packaged_not_negative"),
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

# The amount TAPD approved per sub-activity (budgeting's BudgetPlanApproved), newest plan
# version kept; it may arrive before the sub-activity is created in planning.
approved_budget = Table(
    "approved_budget",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("agency_code", String(40), primary_key=True),
    Column("sub_activity_code", String(40), primary_key=True),
    Column("amount_rupiah", BigInteger, nullable=False),
    Column("plan_id", String(64), nullable=False),
    Column("plan_version", BigInteger, nullable=False),
    Column("approved_at", UtcDateTime, nullable=False),
)

proposal = Table(
    "proposal",
    metadata,
    Column("public_id", String(20), primary_key=True),
    Column("government_code", String(20), nullable=False),
    Column("village_code", String(20), nullable=False),
    Column("category", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", String(5000), nullable=False),
    # Personal data: never on a public read, never in an event.
    Column("proposer_name", String(100), nullable=False),
    Column("proposer_contact", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("sub_activity_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_proposal_staff_list", "government_code", "status", "created_at", "public_id"),
)

proposal_history = Table(
    "proposal_history",
    metadata,
    Column("public_id", String(20), ForeignKey("proposal.public_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("status", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("note", String(1000), nullable=False),
    Column("sub_activity_id", String(36), nullable=False),
)

# One row per agency-year: its version moves with every edit of the agency-year, so a stage
# closed on a stale view is refused (see StageBook).
stage_book = Table(
    "stage_book",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("agency_code", String(40), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    # The number of the open stage; 0 while the plan is locked (after the final or a perubahan).
    Column("open_stage", Integer, nullable=False),
)

# The stages of an agency-year. A closed stage's snapshot columns are written once, when it
# closes, and never updated or deleted after.
planning_stage = Table(
    "planning_stage",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("agency_code", String(40), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("closed_by", String(200), nullable=False),
    Column("sub_activity_count", Integer, nullable=True),
    Column("package_count", Integer, nullable=True),
    Column("total_budget", BigInteger, nullable=True),
    Column("total_packaged", BigInteger, nullable=True),
    Column("content", JSON, nullable=True),
    ForeignKeyConstraint(
        ["government_code", "agency_code", "fiscal_year"],
        ["stage_book.government_code", "stage_book.agency_code", "stage_book.fiscal_year"],
    ),
)

# Complaints counted from complaints' ComplaintReceived events: counts and times only, never a
# ticket, a text or a person. proposal_public_id is "" until a planner proposes the cluster.
complaint_cluster = Table(
    "complaint_cluster",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("village_code", String(20), primary_key=True),
    Column("category_code", String(60), primary_key=True),
    Column("complaint_count", Integer, nullable=False),
    Column("first_received_at", UtcDateTime, nullable=False),
    Column("last_received_at", UtcDateTime, nullable=False),
    Column("proposal_public_id", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_complaint_cluster_count", "government_code", "year", "complaint_count"),
)
