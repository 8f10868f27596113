"""Complaints's tables: complaints and their history, identities apart, SLA deadlines, the reference copy, messaging."""

from __future__ import annotations

from grms_kit.tables import UtcDateTime, add_messaging_tables, new_metadata
from grms_reference.tables import add_reference_tables
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from grms_complaints.domain.board import MEASURES, OPEN_MEASURES, OPEN_STATUSES

__all__ = [
    "complainant",
    "complaint",
    "complaint_assignment",
    "complaint_attachment",
    "complaint_board_day",
    "complaint_board_open",
    "complaint_category",
    "complaint_message",
    "complaint_notification",
    "identity_access_log",
    "messaging",
    "metadata",
    "reference",
    "sla_deadline",
]

metadata = new_metadata()
messaging = add_messaging_tables(metadata)
reference = add_reference_tables(metadata)

complaint = Table(
    "complaint",
    metadata,
    Column("ticket_id", String(16), primary_key=True),
    Column("pin_hash", String(200), nullable=False),
    # The only link to the complainant's identity, which lives in `complainant`.
    Column("reporter_ref", String(32), nullable=False, unique=True),
    Column("government_code", String(20), nullable=False, index=True),
    Column("complaint_class", String(30), nullable=False),
    Column("category_code", String(60), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("address", String(500), nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("confidential", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("rejection_reason", String(30), nullable=True),
    Column("rejection_note", String(1000), nullable=False),
    Column("first_response_minutes", Integer, nullable=True),
    Column("resolution_minutes", Integer, nullable=True),
    Column("reopen_count", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The channel's id of the delivery; NULL for none (NULLs never collide in the unique constraint).
    Column("channel_message_id", String(200), nullable=True),
    Column("recorded_by", String(200), nullable=False, server_default=""),
    Column("submitted_by_name", String(200), nullable=True),
    Column("submitted_by_village_code", String(20), nullable=True),
    Column("submitted_by_role", String(20), nullable=True),
    # The complainant's rating (1 to 5) of the resolution; NULL until rated.
    Column("rating_score", Integer, nullable=True),
    Column("rating_comment", String(1000), nullable=True),
    Column("rated_at", UtcDateTime, nullable=True),
    # The primary this complaint was merged into as a duplicate; NULL for none.
    Column("merged_into", String(16), nullable=True, index=True),
    # The Kemendagri village code of the location ("33.01.01.2001"); NULL when unknown.
    Column("village_code", String(13), nullable=True, index=True),
    # One complaint per delivery: a webhook delivered twice finds the first complaint.
    UniqueConstraint("government_code", "channel", "channel_message_id", name="uq_complaint_delivery"),
)

complaint_assignment = Table(
    "complaint_assignment",
    metadata,
    Column("ticket_id", String(16), ForeignKey("complaint.ticket_id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("agency_code", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
)

complaint_message = Table(
    "complaint_message",
    metadata,
    Column("ticket_id", String(16), ForeignKey("complaint.ticket_id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("text", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Photos: the rows link a complaint to content stored by SHA-256 in the photo store (a
# directory), so the same photo on two complaints is stored once.
complaint_attachment = Table(
    "complaint_attachment",
    metadata,
    Column("ticket_id", String(16), ForeignKey("complaint.ticket_id"), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("media_type", String(20), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    # "complainant" or "staff"; added_by names the staff member ("" for the complainant).
    Column("source", String(20), nullable=False),
    Column("added_by", String(200), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
)
Index("ix_complaint_attachment_sha256", complaint_attachment.c.sha256)

# Categories as each government's admins edit them; the configured list is the base, these
# rows override or add to it per government (version 0 = never edited, so no row).
complaint_category = Table(
    "complaint_category",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("code", String(60), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("description", String(1000), nullable=False),
    Column("group_name", String(60), nullable=False),
    # The keywords joined by "|" (a keyword never contains one).
    Column("keywords", Text, nullable=False),
    Column("default_agency_code", String(40), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Messages to complainants, queued in the transaction of the change that causes them and
# delivered by the dispatcher; a row delivered through the "log" adapter is the local
# notification log the tracking page shows. No address here: it is read at delivery.
complaint_notification = Table(
    "complaint_notification",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(16), ForeignKey("complaint.ticket_id"), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    # When the dispatcher may (next) try it; NULL once sent or given up.
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("delivered_via", String(20), nullable=False),
    Column("last_error", String(500), nullable=False),
)
Index("ix_complaint_notification_next_attempt_at", complaint_notification.c.next_attempt_at)

# Identity apart from the complaint (RELIABILITY §B.3): no foreign key from `complaint`,
# so the table can move to a database of its own with its own role.
complainant = Table(
    "complainant",
    metadata,
    Column("reporter_ref", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("nik", String(16), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("email", String(200), nullable=False),
    Column("handle", String(130), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
)

# A channel's follow-up message (a WhatsApp photo or location) finds the sender's complaint by number.
Index("ix_complainant_phone_created_at", complainant.c.phone, complainant.c.created_at)

identity_access_log = Table(
    "identity_access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reporter_ref", String(32), nullable=False, index=True),
    Column("ticket_id", String(16), nullable=False),
    Column("government_code", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("accessed_at", UtcDateTime, nullable=False),
)

sla_deadline = Table(
    "sla_deadline",
    metadata,
    Column("ticket_id", String(16), ForeignKey("complaint.ticket_id"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("warn_at", UtcDateTime, nullable=False),
    Column("warned_at", UtcDateTime, nullable=True),
    Column("breached_at", UtcDateTime, nullable=True),
    Column("escalation_level", Integer, nullable=False),
    Column("met_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    # When the scheduler next has work for this row; NULL once met, cancelled or at the top.
    Column("next_check_at", UtcDateTime, nullable=True),
)
Index("ix_sla_deadline_next_check_at", sla_deadline.c.next_check_at)

# The governor's board (adapters/board.py): the period's complaints of a government, of an
# agency, the ones open now; deadlines by due time and first responses by the time given.
Index("ix_complaint_board_received", complaint.c.government_code, complaint.c.received_at)
Index(
    "ix_complaint_board_agency_received", complaint.c.government_code, complaint.c.agency_code, complaint.c.received_at
)
# Covering for the open counts (no table lookups for thousands of open complaints).
Index(
    "ix_complaint_board_status",
    complaint.c.government_code,
    complaint.c.status,
    complaint.c.agency_code,
    complaint.c.received_at,
    complaint.c.ticket_id,
)
Index("ix_sla_deadline_due_at", sla_deadline.c.due_at)
Index("ix_sla_deadline_kind_met_at", sla_deadline.c.kind, sla_deadline.c.met_at)
# The deadlines still running, for "is anything overdue" per open complaint: index-only.
_RUNNING = text("met_at IS NULL AND cancelled_at IS NULL")
Index(
    "ix_sla_deadline_running",
    sla_deadline.c.ticket_id,
    sla_deadline.c.due_at,
    sqlite_where=_RUNNING,
    postgresql_where=_RUNNING,
)

# The board's read model (domain/board.py): per government, agency and WIB day, the sums of
# what the complaints contribute, kept in the transaction of every change (SqlUnitOfWork.commit).
complaint_board_day = Table(
    "complaint_board_day",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("agency_code", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    # Filings write to one of BOARD_SHARDS rows of their day (PostgreSQL): concurrent intakes
    # do not queue on one row lock. Every read sums the shards.
    Column("shard", SmallInteger, primary_key=True, server_default="0"),
    *(Column(name, Integer, nullable=False, server_default="0") for name in MEASURES),
    # Clustered by agency and day on SQLite: the sums per agency read the rows in key order.
    sqlite_with_rowid=False,
)
# The intake's shard rows, which the scheduler folds into shard 0 once their day is past.
Index(
    "ix_complaint_board_day_shards",
    complaint_board_day.c.day,
    sqlite_where=text("shard <> 0"),
    postgresql_where=text("shard <> 0"),
)
# The trend per day, from the index alone.
Index(
    "ix_complaint_board_day_day",
    complaint_board_day.c.government_code,
    complaint_board_day.c.day,
    complaint_board_day.c.agency_code,
    complaint_board_day.c.received,
    complaint_board_day.c.answered,
    complaint_board_day.c.breached,
)
# The exact first-response minutes of one histogram bucket of one agency (the percentiles).
_UNMERGED = text("merged_into IS NULL")
Index(
    "ix_complaint_board_first_response",
    complaint.c.government_code,
    complaint.c.agency_code,
    complaint.c.first_response_minutes,
    complaint.c.received_at,
    sqlite_where=_UNMERGED,
    postgresql_where=_UNMERGED,
)
# The same for the totals over every agency.
Index(
    "ix_complaint_board_first_response_all",
    complaint.c.government_code,
    complaint.c.first_response_minutes,
    complaint.c.received_at,
    complaint.c.agency_code,
    sqlite_where=_UNMERGED,
    postgresql_where=_UNMERGED,
)
# The complaints open now per agency (day None in domain/board.py): open, and overdue.
complaint_board_open = Table(
    "complaint_board_open",
    metadata,
    Column("government_code", String(20), primary_key=True),
    Column("agency_code", String(40), primary_key=True),
    Column("shard", SmallInteger, primary_key=True, server_default="0"),
    *(Column(name, Integer, nullable=False, server_default="0") for name in OPEN_MEASURES),
)
# Deadlines running past due that no scan has marked breached yet: the board counts them live.
UNMARKED = (
    "kind <> 'auto_close' AND met_at IS NULL AND cancelled_at IS NULL"
    " AND (breached_at IS NULL OR breached_at <= due_at)"
)
Index(
    "ix_sla_deadline_unmarked",
    sla_deadline.c.due_at,
    sla_deadline.c.ticket_id,
    sqlite_where=text(UNMARKED),
    postgresql_where=text(UNMARKED),
)
# The open complaints of each agency by age (the oldest on the board), merged duplicates left out.
OPEN_UNMERGED = "merged_into IS NULL AND status IN ({})".format(
    ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES))
)
Index(
    "ix_complaint_board_open",
    complaint.c.government_code,
    complaint.c.agency_code,
    complaint.c.received_at,
    complaint.c.ticket_id,
    sqlite_where=text(OPEN_UNMERGED),
    postgresql_where=text(OPEN_UNMERGED),
)
