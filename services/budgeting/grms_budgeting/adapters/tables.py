"""Budgeting's tables: governments, agencies, codes, prices, ceilings, budget plans, and the kit's messaging tables."""

from __future__ import annotations

from grms_kit.tables import UtcDateTime, add_messaging_tables, new_metadata
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

__all__ = [
    "account_code",
    "agency",
    "audit_anchor",
    "audit_entry",
    "budget_line",
    "budget_plan",
    "budget_plan_version",
    "cash_plan",
    "cash_plan_proposal",
    "ceiling",
    "document_counter",
    "government",
    "messaging",
    "metadata",
    "nomenclature_code",
    "payment_request",
    "spending_allotment",
    "standard_price",
    "standard_price_account",
    "sub_activity_output",
]

metadata = new_metadata()

messaging = add_messaging_tables(metadata)

government = Table(
    "government",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("parent_code", String(20), ForeignKey("government.code"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

agency = Table(
    "agency",
    metadata,
    Column("government_code", String(20), ForeignKey("government.code"), primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("short_name", String(200), nullable=False, default=""),
    Column("head", JSON, nullable=True),
    Column("contacts", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

nomenclature_code = Table(
    "nomenclature_code",
    metadata,
    Column("fiscal_year", Integer, primary_key=True),
    Column("code", String(30), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("level", String(20), nullable=False),
    Column("parent_code", String(30), nullable=False),
    Column("for_province", Boolean, nullable=False),
    Column("for_regency_city", Boolean, nullable=False),
)

account_code = Table(
    "account_code",
    metadata,
    Column("fiscal_year", Integer, primary_key=True),
    Column("code", String(30), primary_key=True),
    Column("display_code", String(30), nullable=False),
    Column("name", String(500), nullable=False),
    Column("level", Integer, nullable=False),
    Column("parent_code", String(30), nullable=False),
)

standard_price = Table(
    "standard_price",
    metadata,
    Column("government_code", String(20), ForeignKey("government.code"), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("code", String(60), primary_key=True),
    Column("price_group", String(10), nullable=False),
    Column("name", String(500), nullable=False),
    Column("specification", String(1000), nullable=False),
    Column("unit", String(50), nullable=False),
    Column("price", BigInteger, nullable=False),
    # Lower-cased code, name and specification: what text search matches on, on every database.
    Column("search_text", Text, nullable=False),
)

# Which accounts an item may be budgeted on (SIPD data_ssh_rek_belanja).
standard_price_account = Table(
    "standard_price_account",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("code", String(60), primary_key=True),
    Column("account_code", String(30), primary_key=True),
    ForeignKeyConstraint(
        ["government_code", "fiscal_year", "code"],
        ["standard_price.government_code", "standard_price.fiscal_year", "standard_price.code"],
        name="fk_standard_price_account_item_standard_price",
    ),
    Index("ix_standard_price_account_account", "government_code", "fiscal_year", "account_code"),
)

ceiling = Table(
    "ceiling",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("agency_code", String(40), primary_key=True),
    # "" for the ceiling of the whole agency.
    Column("sub_activity_code", String(30), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("locked", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(
        ["government_code", "agency_code"],
        ["agency.government_code", "agency.code"],
        name="fk_ceiling_agency_agency",
    ),
)

budget_plan = Table(
    "budget_plan",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("government_code", String(20), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("sub_activity_code", String(30), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("next_line_number", Integer, nullable=False),
    # Kept with the plan so an agency's total is one SUM, not a scan of lines.
    Column("total", BigInteger, nullable=False),
    Column("review_note", Text, nullable=False),
    Column("line_notes", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("line_count", Integer, nullable=False, server_default="0"),
    # Revisions of the DPA (pergeseran / perubahan): how many, the kind of the last, and the
    # total of the DPA in force (0 before the first approval).
    Column("revision", Integer, nullable=False, server_default="0"),
    Column("revision_kind", String(20), nullable=True),
    Column("approved_total", BigInteger, nullable=False, server_default="0"),
    ForeignKeyConstraint(
        ["government_code", "agency_code"],
        ["agency.government_code", "agency.code"],
        name="fk_budget_plan_agency_agency",
    ),
    UniqueConstraint("government_code", "agency_code", "sub_activity_code", "fiscal_year", name="uq_budget_plan_scope"),
    Index("ix_budget_plan_agency_year", "government_code", "fiscal_year", "agency_code"),
    Index("ix_budget_plan_listing", "government_code", "agency_code", "sub_activity_code", "id"),
)

budget_line = Table(
    "budget_line",
    metadata,
    Column("plan_id", String(36), ForeignKey("budget_plan.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("account_code", String(30), nullable=False),
    Column("standard_item_code", String(60), nullable=False),
    Column("specification", String(1000), nullable=False),
    Column("volume", String(200), nullable=False),
    Column("factors", JSON, nullable=False),
    Column("unit", String(50), nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("funding_source", String(100), nullable=False),
    Column("tags", JSON, nullable=False),
    # e-penatausahaan on the DPA: reserved by filed SPPs (incl. disbursed ones) and paid by SP2Ds.
    # Changed only by conditional UPDATEs (`committed + x <= amount`), never read-modify-write.
    Column("committed", BigInteger, nullable=False, server_default="0"),
    Column("disbursed", BigInteger, nullable=False, server_default="0"),
    # The line as the DPA in force has it (set at each approval): what SPPs, SPDs and SP2Ds
    # spend against while a revision of the plan is prepared. 0 / "": not in the DPA in force.
    Column("dpa_amount", BigInteger, nullable=False, server_default="0"),
    Column("dpa_account_code", String(30), nullable=False, server_default=""),
    # Removed in the open revision but still in the DPA in force: kept until the revision is approved.
    Column("removed", Boolean, nullable=False, server_default=false()),
)

# Immutable snapshots of whole plans, one per stage change: never updated, never deleted.
budget_plan_version = Table(
    "budget_plan_version",
    metadata,
    Column("plan_id", String(36), ForeignKey("budget_plan.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("state", String(20), nullable=False),
    Column("action", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("content", JSON, nullable=False),
)

# The per-plan hash chain (RELIABILITY §B.4): append-only.
audit_entry = Table(
    "audit_entry",
    metadata,
    Column("plan_id", String(36), ForeignKey("budget_plan.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("actor", String(200), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("action", String(20), nullable=False),
    Column("old", JSON, nullable=True),
    Column("new", JSON, nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("request_id", String(100), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# The combined audit head at the end of each WIB day (RELIABILITY §B.4): append-only, one per
# government and day (the primary key makes a second writer's insert a no-op).
audit_anchor = Table(
    "audit_anchor",
    metadata,
    Column("government_code", String(20), ForeignKey("government.code"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("combined_hash", String(64), nullable=False),
    Column("plan_count", Integer, nullable=False),
    Column("entry_count", BigInteger, nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
)

# Planning's sub-activities as its SubActivityPlanned events describe them: what the
# "every sub-activity has an output indicator" rule reads at submission.
sub_activity_output = Table(
    "sub_activity_output",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("agency_code", String(40), primary_key=True),
    Column("sub_activity_code", String(30), primary_key=True),
    Column("planning_id", String(36), nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# ---- e-penatausahaan ---------------------------------------------------------------------------

# Monthly cash plan (anggaran kas) of a DPA line, or of the whole plan (line_number 0).
cash_plan = Table(
    "cash_plan",
    metadata,
    Column("plan_id", String(36), ForeignKey("budget_plan.id"), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("months", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The cash plan proposed with an open revision of the DPA; it replaces cash_plan rows when the revision is approved.
cash_plan_proposal = Table(
    "cash_plan_proposal",
    metadata,
    Column("plan_id", String(36), ForeignKey("budget_plan.id"), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("months", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# SPD: BUD makes part of a DPA spendable up to a month.
spending_allotment = Table(
    "spending_allotment",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(120), nullable=False),
    Column("government_code", String(20), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("plan_id", String(36), ForeignKey("budget_plan.id"), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("from_month", Integer, nullable=False),
    Column("to_month", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("committed", BigInteger, nullable=False),
    Column("disbursed", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("government_code", "number", name="uq_spending_allotment_number"),
    Index("ix_spending_allotment_plan", "plan_id"),
)

# SPP → SPM → SP2D of one DPA line and one SPD.
payment_request = Table(
    "payment_request",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(120), nullable=False),
    Column("government_code", String(20), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("plan_id", String(36), ForeignKey("budget_plan.id"), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("line_number", Integer, nullable=False),
    Column("allotment_id", String(36), ForeignKey("spending_allotment.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("description", String(1000), nullable=False),
    Column("beneficiary", JSON, nullable=True),
    Column("contract_reference", String(200), nullable=False),
    # Set by e-delivery's RequestContractPayment; NULL otherwise (NULLs never collide).
    Column("external_request_id", String(100), nullable=True),
    Column("state", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spm_number", String(120), nullable=False),
    Column("sp2d_number", String(120), nullable=False),
    Column("rejection_reason", String(1000), nullable=False),
    Column("history", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("government_code", "number", name="uq_payment_request_number"),
    UniqueConstraint("government_code", "external_request_id", name="uq_payment_request_external"),
    Index("ix_payment_request_queue", "government_code", "state", "id"),
)

# The last number given per government, fiscal year and document type (SPD, SPP, SPM, SP2D).
document_counter = Table(
    "document_counter",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("doc", String(10), primary_key=True),
    Column("last", Integer, nullable=False),
)
