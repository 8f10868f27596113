"""Complaints's wire format: domain objects as grms.complaints.v1 messages, domain events as integration events.

The integration events are built here and only here, from an allowlist of fields: the
complainant's identity is not reachable from a Complaint at all, and the free text of a
confidential complaint is left out; the text of the others is redacted.
"""

from __future__ import annotations

import datetime as dt
import uuid

from google.protobuf.message import Message as ProtoMessage
from grms.common.v1 import paging_pb2, period_pb2
from grms.complaints.v1 import complaint_pb2, complaints_service_pb2, events_pb2
from grms_kit.errors import InvalidArgument
from grms_kit.wire import timestamp

from grms_complaints.domain.attachments import Attachment, AttachmentSource
from grms_complaints.domain.categories import Category, GovernmentCategory
from grms_complaints.domain.model import (
    Channel,
    Complainant,
    Complaint,
    ComplaintAssigned,
    ComplaintClass,
    ComplaintFiled,
    ComplaintRated,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResponded,
    DomainEvent,
    Location,
    MessageKind,
    Rating,
    RejectionReason,
    SlaStepReached,
    Status,
    Submitter,
    SubmitterRole,
)
from grms_complaints.domain.notifications import OutboundNotification
from grms_complaints.domain.redaction import redact
from grms_complaints.domain.sla import Deadline, DeadlineKind, minutes_between
from grms_complaints.service_layer.handlers import BoardLine, BoardView, Inbox
from grms_complaints.service_layer.ports import AgencyRow, PublicRecord

__all__ = [
    "CHANNELS",
    "CLASSES",
    "REJECTIONS",
    "STATUSES",
    "SUBMITTER_ROLES",
    "attachment_to_pb",
    "board_to_pb",
    "category_from_pb",
    "category_to_pb",
    "complainant_to_pb",
    "complaint_to_pb",
    "enum_from_pb",
    "event_id_for",
    "event_to_message",
    "inbox_to_pb",
    "location_from_pb",
    "notification_to_pb",
    "public_complaint_to_pb",
    "rating_to_pb",
    "submitter_from_pb",
]

CLASSES = {
    ComplaintClass.PENGADUAN: complaint_pb2.COMPLAINT_CLASS_PENGADUAN,
    ComplaintClass.ASPIRASI: complaint_pb2.COMPLAINT_CLASS_ASPIRASI,
    ComplaintClass.PERMINTAAN_INFORMASI: complaint_pb2.COMPLAINT_CLASS_PERMINTAAN_INFORMASI,
}
CHANNELS = {channel: complaint_pb2.ComplaintChannel.Value(f"COMPLAINT_CHANNEL_{channel.name}") for channel in Channel}
STATUSES = {status: complaint_pb2.ComplaintStatus.Value(f"COMPLAINT_STATUS_{status.name}") for status in Status}
REJECTIONS = {
    reason: complaint_pb2.RejectionReason.Value(f"REJECTION_REASON_{reason.name}") for reason in RejectionReason
}
SUBMITTER_ROLES = {role: complaint_pb2.SubmitterRole.Value(f"SUBMITTER_ROLE_{role.name}") for role in SubmitterRole}
KINDS = {kind: complaint_pb2.SlaKind.Value(f"SLA_KIND_{kind.name}") for kind in DeadlineKind}

# Event ids of facts that a redo must not repeat (SLA warnings and escalations) are derived
# from their names, so the outbox, JetStream (Nats-Msg-Id) and consumers' inboxes all drop
# a second copy.
_EVENT_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4b7a-9a57-3c1e4e0c5a11")


def event_id_for(key: str) -> str:
    """The deterministic event id of the fact named `key`."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, key))


def enum_from_pb(mapping: dict, value: int, field: str):  # type: ignore[no-untyped-def, type-arg]
    """The domain enum member for a protobuf enum `value`; InvalidArgument for UNSPECIFIED or unknown."""
    for member, number in mapping.items():
        if number == value:
            return member
    raise InvalidArgument.field(field, "must be specified")


def location_from_pb(message: complaint_pb2.Location, present: bool) -> Location | None:
    """A Location from its message; None when the request has none."""
    if not present:
        return None
    point = message.point if message.HasField("point") else None
    return Location(
        latitude=point.latitude if point else None,
        longitude=point.longitude if point else None,
        address=message.address,
        village_code=message.village_code,
    )


def submitter_from_pb(message: complaint_pb2.Submitter, present: bool) -> Submitter | None:
    """The village head filing on someone's behalf; None when the request names none."""
    if not present:
        return None
    role = enum_from_pb(SUBMITTER_ROLES, message.role, "submitted_by.role")
    return Submitter(name=message.name, village_code=message.village_code, role=role)


SOURCES = {
    source: complaint_pb2.AttachmentSource.Value(f"ATTACHMENT_SOURCE_{source.name}") for source in AttachmentSource
}


def attachment_to_pb(a: Attachment, *, public: bool = False) -> complaint_pb2.Attachment:
    """A photo's attachment row; `public` leaves out which staff member added it."""
    return complaint_pb2.Attachment(
        sha256=a.sha256,
        media_type=a.media_type,
        size_bytes=a.size_bytes,
        source=SOURCES[a.source],  # type: ignore[arg-type]
        added_by="" if public else a.added_by,
        add_time=timestamp(a.added_at),
    )


def category_to_pb(c: Category | GovernmentCategory) -> complaints_service_pb2.Category:
    """A configured category, or a government's (with its routing, state and version)."""
    base = c.category if isinstance(c, GovernmentCategory) else c
    out = complaints_service_pb2.Category(
        code=base.code,
        name=base.name,
        name_en=base.name_en,
        description=base.description,
        group=base.group,
        keywords=list(base.keywords),
    )
    if isinstance(c, GovernmentCategory):
        out.government_code = c.government_code
        out.default_agency_code = c.default_agency_code
        out.retired = not c.active
        out.version = c.version
        out.updated_by = c.updated_by
        if c.updated_at is not None:
            out.update_time.CopyFrom(timestamp(c.updated_at))
    return out


def category_from_pb(m: complaints_service_pb2.Category) -> Category:
    """The category fields of a create/update request (validated by the use case)."""
    return Category(m.code, m.name, m.name_en, m.description, m.group, tuple(m.keywords))


def notification_to_pb(n: OutboundNotification) -> complaint_pb2.ComplaintNotification:
    """A message to the complainant as the tracking view shows it."""
    return complaint_pb2.ComplaintNotification(
        kind=n.kind.value,
        text=n.text,
        create_time=timestamp(n.created_at),
        send_time=timestamp(n.sent_at),
        delivered_via=n.delivered_via,
        status=n.status.value,
    )


def rating_to_pb(r: Rating | None) -> complaint_pb2.ComplaintRating | None:
    """The complainant's rating, or None while there is none."""
    if r is None:
        return None
    return complaint_pb2.ComplaintRating(score=r.score, comment=r.comment, rate_time=timestamp(r.rated_at))


def _deadline_to_pb(d: Deadline) -> complaint_pb2.SlaDeadline:
    return complaint_pb2.SlaDeadline(
        kind=KINDS[d.kind],
        round=d.round,
        start_time=timestamp(d.started_at),
        due_time=timestamp(d.due_at),
        warn_time=timestamp(d.warn_at),
        met_time=timestamp(d.met_at),
        breach_time=timestamp(d.breached_at),
        escalation_level=d.escalation_level,  # type: ignore[arg-type]
        cancelled=d.cancelled_at is not None,
    )


def complaint_to_pb(c: Complaint) -> complaint_pb2.Complaint:
    """The staff view of a complaint (no identity: the aggregate has none)."""
    location = complaint_pb2.Location(address=c.location.address, village_code=c.location.village_code)
    if c.location.latitude is not None and c.location.longitude is not None:
        location.point.CopyFrom(complaint_pb2.GeoPoint(latitude=c.location.latitude, longitude=c.location.longitude))
    return complaint_pb2.Complaint(
        ticket_id=c.ticket_id,
        government_code=c.government_code,
        complaint_class=CLASSES[c.complaint_class],
        category_code=c.category_code,
        channel=CHANNELS[c.channel],
        title=c.title,
        description=c.description,
        location=location,
        anonymous=c.anonymous,
        confidential=c.confidential,
        status=STATUSES[c.status],
        agency_code=c.agency_code,
        assignments=[
            complaint_pb2.Assignment(
                agency_code=a.agency_code, reason=a.reason, actor=a.actor, assign_time=timestamp(a.assigned_at)
            )
            for a in c.assignments
        ],
        replies=[
            complaint_pb2.Reply(text=m.text, agency_code=m.agency_code, create_time=timestamp(m.created_at))
            for m in c.messages
            if m.kind is MessageKind.REPLY
        ],
        notes=[
            complaint_pb2.InternalNote(
                text=m.text, actor=m.actor, agency_code=m.agency_code, create_time=timestamp(m.created_at)
            )
            for m in c.messages
            if m.kind is MessageKind.NOTE
        ],
        rejection_reason=REJECTIONS[c.rejection_reason] if c.rejection_reason else 0,  # type: ignore[arg-type]
        rejection_note=c.rejection_note,
        reopen_count=c.reopen_count,
        first_response_minutes=c.first_response_minutes or 0,
        deadlines=[_deadline_to_pb(d) for d in c.deadlines],
        receive_time=timestamp(c.received_at),
        update_time=timestamp(c.updated_at),
        version=c.version,
        channel_message_id=c.channel_message_id,
        recorded_by=c.recorded_by,
        submitted_by=complaint_pb2.Submitter(
            name=c.submitted_by.name,
            village_code=c.submitted_by.village_code,
            role=SUBMITTER_ROLES[c.submitted_by.role],  # type: ignore[arg-type]
        )
        if c.submitted_by
        else None,
        attachments=[attachment_to_pb(a) for a in c.attachments],
        rating=rating_to_pb(c.rating),
        merged_into=c.merged_into,
    )


def public_complaint_to_pb(r: PublicRecord) -> complaints_service_pb2.PublicComplaint:
    """The public view of a complaint, already redacted by the use case."""
    out = complaints_service_pb2.PublicComplaint(
        ticket_id=r.ticket_id,
        government_code=r.government_code,
        complaint_class=CLASSES[r.complaint_class],
        category_code=r.category_code,
        status=STATUSES[r.status],
        title=r.title,
        description=r.description,
        agency_code=r.agency_code,
        anonymous=r.anonymous,
        receive_time=timestamp(r.received_at),
        update_time=timestamp(r.updated_at),
        resolve_due_time=timestamp(r.resolve_due_at),
        replies=[
            complaint_pb2.Reply(text=m.text, agency_code=m.agency_code, create_time=timestamp(m.created_at))
            for m in r.replies
        ],
        merged_into=r.merged_into,
        first_photo_sha256=r.first_photo_sha256,
    )
    if r.location is not None:
        out.location.address = r.location.address
        out.location.village_code = r.location.village_code
        if r.location.latitude is not None and r.location.longitude is not None:
            out.location.point.CopyFrom(
                complaint_pb2.GeoPoint(latitude=r.location.latitude, longitude=r.location.longitude)
            )
    return out


def complainant_to_pb(c: Complainant) -> complaint_pb2.Complainant:
    """The identity, for GetComplainantIdentity only."""
    return complaint_pb2.Complainant(name=c.name, nik=c.nik, phone=c.phone, email=c.email, handle=c.handle)


def _public_text(c: Complaint, text: str) -> str:
    return "" if c.confidential else redact(text)


def event_to_message(event: DomainEvent) -> tuple[ProtoMessage, str, str | None]:
    """The integration event for a domain event, its tenant, and its id when it must be deterministic."""
    c = event.complaint
    if isinstance(event, ComplaintFiled):
        message: ProtoMessage = events_pb2.ComplaintReceived(
            ticket_id=c.ticket_id,
            government_code=c.government_code,
            complaint_class=CLASSES[c.complaint_class],
            category_code=c.category_code,
            channel=CHANNELS[c.channel],
            anonymous=c.anonymous,
            confidential=c.confidential,
            receive_time=timestamp(c.received_at),
            title=_public_text(c, c.title),
            # Where, never who: planners map complaints per village; a confidential one stays inside.
            village_code="" if c.confidential else c.location.village_code,
            latitude=0.0 if c.confidential else c.location.latitude or 0.0,
            longitude=0.0 if c.confidential else c.location.longitude or 0.0,
        )
    elif isinstance(event, ComplaintAssigned):
        message = events_pb2.ComplaintAssigned(
            ticket_id=c.ticket_id,
            government_code=c.government_code,
            agency_code=event.agency_code,
            previous_agency_code=event.previous_agency_code,
            category_code=c.category_code,
            anonymous=c.anonymous,
            confidential=c.confidential,
            assign_time=timestamp(event.at),
        )
    elif isinstance(event, ComplaintResponded):
        message = events_pb2.ComplaintResponded(
            ticket_id=c.ticket_id,
            government_code=c.government_code,
            agency_code=event.reply.agency_code,
            category_code=c.category_code,
            confidential=c.confidential,
            respond_time=timestamp(event.reply.created_at),
            first_response_minutes=event.first_response_minutes,
            reply=_public_text(c, event.reply.text),
        )
    elif isinstance(event, ComplaintResolved):
        message = events_pb2.ComplaintResolved(
            ticket_id=c.ticket_id,
            government_code=c.government_code,
            agency_code=c.agency_code,
            category_code=c.category_code,
            channel=CHANNELS[c.channel],
            resolve_time=timestamp(event.at),
            resolution_minutes=event.resolution_minutes,
            first_response_minutes=c.first_response_minutes or 0,
        )
    elif isinstance(event, ComplaintReopened):
        message = events_pb2.ComplaintReopened(
            ticket_id=c.ticket_id,
            government_code=c.government_code,
            agency_code=c.agency_code,
            category_code=c.category_code,
            reopen_time=timestamp(event.at),
            reopen_count=c.reopen_count,
        )
    elif isinstance(event, ComplaintRated):
        message = events_pb2.ComplaintRated(
            ticket_id=c.ticket_id,
            government_code=c.government_code,
            agency_code=c.agency_code,
            category_code=c.category_code,
            score=event.rating.score,
            rate_time=timestamp(event.rating.rated_at),
        )
    elif isinstance(event, SlaStepReached):
        step = event.step
        if step.level == 0:
            message = events_pb2.ComplaintSlaWarning(
                ticket_id=c.ticket_id,
                government_code=c.government_code,
                agency_code=event.agency_code,
                category_code=c.category_code,
                kind=KINDS[step.kind],
                round=step.round,
                warn_time=timestamp(step.at),
                due_time=timestamp(step.due_at),
            )
        else:
            message = events_pb2.ComplaintSlaBreached(
                ticket_id=c.ticket_id,
                government_code=c.government_code,
                agency_code=event.agency_code,
                category_code=c.category_code,
                kind=KINDS[step.kind],
                round=step.round,
                escalation_level=step.level,  # type: ignore[arg-type]
                due_time=timestamp(step.due_at),
                escalate_time=timestamp(step.at),
                overdue_minutes=minutes_between(step.due_at, step.at),
            )
        return message, c.government_code, event_id_for(event.key)
    else:
        raise TypeError(f"no integration event for {type(event).__name__}")
    return message, c.government_code, None


def _hours(minutes: int | None) -> float:
    return round(minutes / 60, 2) if minutes is not None else 0.0


def _agency_row_to_pb(row: AgencyRow) -> complaints_service_pb2.AgencyBoardRow:
    return complaints_service_pb2.AgencyBoardRow(
        agency_code=row.agency_code,
        received=row.received,
        open=row.open,
        overdue=row.overdue,
        responded=row.responded,
        median_first_response_hours=_hours(row.median_first_response_minutes),
        p90_first_response_hours=_hours(row.p90_first_response_minutes),
        sla_compliance_percent=round(100 * row.sla_met / row.sla_decided, 1) if row.sla_decided else 0.0,
        sla_decided=row.sla_decided,
        oldest_open_ticket_id=row.oldest_open_ticket_id,
        oldest_open_receive_time=timestamp(row.oldest_open_received_at),
    )


def board_to_pb(view: BoardView) -> complaints_service_pb2.GetComplaintBoardResponse:
    """The board as the caller may see it (the use case has applied confidentiality already)."""
    board = view.board
    return complaints_service_pb2.GetComplaintBoardResponse(
        agencies=[_agency_row_to_pb(row) for row in board.agencies],
        totals=_agency_row_to_pb(board.totals),
        trend=[
            complaints_service_pb2.BoardDay(
                date=period_pb2.Date(year=d.day.year, month=d.day.month, day=d.day.day),
                received=d.received,
                responded=d.responded,
                breached=d.breached,
            )
            for d in board.trend
        ],
        complaints=[_line_to_pb(line, board.as_of) for line in view.entries],
        page=paging_pb2.PageResponse(next_page_token=board.next_page_token),
        as_of_time=timestamp(board.as_of),
    )


def _line_to_pb(line: BoardLine, as_of: dt.datetime) -> complaints_service_pb2.BoardComplaint:
    entry = line.entry
    return complaints_service_pb2.BoardComplaint(
        ticket_id=entry.ticket_id,
        complaint_class=CLASSES[entry.complaint_class],
        category_code=entry.category_code,
        channel=CHANNELS[entry.channel],
        status=STATUSES[entry.status],
        title=line.title,
        reporter_reference=line.reporter_reference,
        anonymous=entry.anonymous,
        confidential=entry.confidential,
        agency_code=entry.agency_code,
        receive_time=timestamp(entry.received_at),
        first_response_minutes=entry.first_response_minutes or 0,
        resolution_minutes=entry.resolution_minutes or 0,
        next_due_time=timestamp(entry.next_due_at),
        overdue=entry.next_due_at is not None and entry.next_due_at < as_of,
    )


def inbox_to_pb(inbox: Inbox) -> complaints_service_pb2.ListInboxComplaintsResponse:
    """The handlers' inbox (the use case has applied confidentiality already)."""
    return complaints_service_pb2.ListInboxComplaintsResponse(
        complaints=[_line_to_pb(line, inbox.as_of) for line in inbox.entries],
        page=paging_pb2.PageResponse(next_page_token=inbox.next_page_token),
        as_of_time=timestamp(inbox.as_of),
    )
