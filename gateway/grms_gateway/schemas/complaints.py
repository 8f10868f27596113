"""Schemas of the complaints routes (LaporGub!) and their protobuf mapping.

Inputs forbid unknown fields (mass-assignment guard). The public outputs carry only what the
complaints service returns for the public: the complainant's identity appears in exactly one
output, IdentityOut, for officers who give a reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from google.protobuf import timestamp_pb2
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssignIn",
    "CategoryIn",
    "CategoryOut",
    "ComplainantIn",
    "ComplaintOut",
    "DuplicateOut",
    "FileComplaintIn",
    "FiledOut",
    "IdentityIn",
    "IdentityOut",
    "LocationIn",
    "LocationOut",
    "MergeIn",
    "NewCategoryIn",
    "NotificationOut",
    "PhotoOut",
    "PublicComplaintList",
    "PublicComplaintOut",
    "RateIn",
    "RatingOut",
    "RejectIn",
    "ReopenIn",
    "ReplyOut",
    "StatusName",
    "SubmitterOut",
    "TextIn",
    "TightenIn",
    "TrackIn",
    "TrackedOut",
    "category_out",
    "complaint_out",
    "duplicate_out",
    "enum_name",
    "file_request",
    "photo_out",
    "public_out",
    "rating_out",
    "status_value",
    "timestamp",
    "tracked_out",
]

ClassName = Literal["pengaduan", "aspirasi", "permintaan_informasi"]
ChannelName = Literal["web", "app", "whatsapp", "sms", "hotline", "social_media", "walk_in", "lapor_sp4n"]
StatusName = Literal["received", "verified", "assigned", "in_progress", "responded", "resolved", "closed", "rejected"]
RejectionName = Literal["spam", "not_our_authority", "not_eligible"]
TicketId = Annotated[str, Field(min_length=1, max_length=40)]
GovCode = Annotated[str, Field(pattern=r"^\d{2}(\.\d{2})?$")]


def enum_name(enum: object, value: int, prefix: str) -> str:
    """`COMPLAINT_STATUS_IN_PROGRESS` → `in_progress`; "" for UNSPECIFIED."""
    name: str = enum.Name(value)  # type: ignore[attr-defined]
    return "" if name.endswith("_UNSPECIFIED") else name.removeprefix(prefix).lower()


def _value(enum: object, prefix: str, name: str) -> int:
    return int(enum.Value(prefix + name.upper()))  # type: ignore[attr-defined]


def status_value(name: str) -> int:
    """The ComplaintStatus number of a status name."""
    return _value(complaint_pb2.ComplaintStatus, "COMPLAINT_STATUS_", name)


def timestamp(value: timestamp_pb2.Timestamp, present: bool = True) -> dt.datetime | None:
    """An aware UTC datetime, or None when unset."""
    if not present or (value.seconds == 0 and value.nanos == 0):
        return None
    return value.ToDatetime(dt.UTC)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LocationIn(_Input):
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    address: str = Field("", max_length=500)
    village_code: str = Field("", max_length=20, description='Kemendagri village code, like "33.01.01.2001" (optional)')


class ComplainantIn(_Input):
    """Who complains: kept apart from the complaint, read only by audited officers."""

    name: str = Field(min_length=2, max_length=200)
    nik: str = Field("", max_length=20, description="16-digit NIK (optional)")
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=200)


class FileComplaintIn(_Input):
    government_code: GovCode = "33"
    complaint_class: ClassName = "pengaduan"
    category_code: str = Field(min_length=1, max_length=60)
    channel: ChannelName = "web"
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    location: LocationIn | None = None
    complainant: ComplainantIn
    anonymous: bool = False
    confidential: bool = False


class TrackIn(_Input):
    """Ticket and PIN travel in the body, never in the URL (ASVS 14.2.1)."""

    ticket_id: TicketId
    pin: str = Field(min_length=1, max_length=40)


class ReopenIn(TrackIn):
    reason: str = Field(min_length=1, max_length=2000)


class RateIn(TrackIn):
    """The complainant's rating of a resolved or closed complaint, once; it closes a resolved one."""

    score: int = Field(ge=1, le=5, description="1 (very poor) to 5 (very good)")
    comment: str = Field("", max_length=1000)


class RatingOut(BaseModel):
    score: int
    comment: str
    rate_time: dt.datetime | None


class AssignIn(_Input):
    agency_code: str = Field("", max_length=40, description="Empty: the category's default agency, if it has one")
    reason: str = Field("", max_length=2000)


class TextIn(_Input):
    text: str = Field(min_length=1, max_length=5000)


class RejectIn(_Input):
    reason: RejectionName
    note: str = Field(min_length=1, max_length=1000)


class TightenIn(_Input):
    """Set a flag with true; staff can never relax one (false on a set flag is refused)."""

    anonymous: bool | None = None
    confidential: bool | None = None


class IdentityIn(_Input):
    reason: str = Field(min_length=10, max_length=500, description="Why the identity is needed; logged")


class FiledOut(BaseModel):
    ticket_id: str
    pin: str = Field(description="Shown once: only its hash is stored")
    status: str
    receive_time: dt.datetime | None


class ReplyOut(BaseModel):
    text: str
    agency_code: str
    create_time: dt.datetime | None


class PhotoOut(BaseModel):
    """A photo on a complaint; `url` serves it (to anyone only when the complaint is not confidential)."""

    sha256: str
    media_type: str
    size_bytes: int
    source: str = Field(description="complainant or staff")
    added_by: str = Field(description="The staff member who added it; '' for the complainant and in public views")
    add_time: dt.datetime | None
    url: str


class NotificationOut(BaseModel):
    """A message sent (or waiting to be sent) to the complainant."""

    kind: str = Field(description="reply, resolved or rejected")
    text: str
    status: str = Field(description="pending, sent or failed")
    delivered_via: str = Field(description="log (the local notification log) or smtp; '' while pending")
    create_time: dt.datetime | None
    send_time: dt.datetime | None


class TrackedOut(BaseModel):
    ticket_id: str
    status: str
    title: str
    agency_code: str
    replies: list[ReplyOut]
    receive_time: dt.datetime | None
    update_time: dt.datetime | None
    photos: list[PhotoOut] = []
    rating: RatingOut | None = None
    messages: list[NotificationOut] = Field(default_factory=list, description="What was sent to the complainant")
    merged_into: str = Field("", description="The primary this complaint was merged into; its status and replies")


class LocationOut(BaseModel):
    latitude: float | None
    longitude: float | None
    address: str
    village_code: str = ""


class AssignmentOut(BaseModel):
    agency_code: str
    reason: str
    actor: str
    assign_time: dt.datetime | None


class NoteOut(BaseModel):
    text: str
    actor: str
    agency_code: str
    create_time: dt.datetime | None


class DeadlineOut(BaseModel):
    kind: str
    round: int
    due_time: dt.datetime | None
    met_time: dt.datetime | None
    breach_time: dt.datetime | None
    cancelled: bool


class SubmitterOut(BaseModel):
    """The village head who filed on behalf of the complainant."""

    name: str
    village_code: str
    role: str


class ComplaintOut(BaseModel):
    """The staff view: everything but the complainant's identity."""

    ticket_id: str
    government_code: str
    complaint_class: str
    category_code: str
    channel: str
    title: str
    description: str
    location: LocationOut | None
    anonymous: bool
    confidential: bool
    status: str
    agency_code: str
    assignments: list[AssignmentOut]
    replies: list[ReplyOut]
    notes: list[NoteOut]
    rejection_reason: str
    rejection_note: str
    reopen_count: int
    first_response_minutes: int
    deadlines: list[DeadlineOut]
    receive_time: dt.datetime | None
    update_time: dt.datetime | None
    version: int
    channel_message_id: str = Field(description="The channel's id of the delivery it came from; '' for none")
    recorded_by: str = Field(description="The staff member who entered it; '' when the citizen filed it")
    submitted_by: SubmitterOut | None = None
    photos: list[PhotoOut] = []
    rating: RatingOut | None = None
    merged_into: str = Field("", description="The primary this complaint was merged into as a duplicate")


class PublicComplaintOut(BaseModel):
    """What anyone may see: redacted text, a rounded point, no location when anonymous, never identity."""

    ticket_id: str
    government_code: str
    complaint_class: str
    category_code: str
    status: str
    title: str
    description: str
    agency_code: str
    location: LocationOut | None
    anonymous: bool
    replies: list[ReplyOut]
    receive_time: dt.datetime | None
    update_time: dt.datetime | None
    resolve_due_time: dt.datetime | None
    merged_into: str = Field("", description="The primary this complaint was merged into; follow it there")
    photo_url: str | None = Field(
        None,
        description="The complaint's first photo (as Open311's media_url), served to anyone; null without photos. "
        "Confidential complaints are never public, so never have one here.",
    )


class MergeIn(_Input):
    """Merge this complaint, as a duplicate, into `primary_ticket_id`."""

    primary_ticket_id: TicketId
    reason: str = Field(min_length=1, max_length=1000)


class DuplicateOut(BaseModel):
    """A complaint that likely reports the same problem, and why."""

    ticket_id: str
    title: str
    category_code: str
    status: str
    score: float
    text_similarity: float
    distance_meters: float | None
    same_category: bool
    receive_time: dt.datetime | None
    confidential: bool


class PublicComplaintList(BaseModel):
    complaints: list[PublicComplaintOut]
    next_page_token: str


class CategoryOut(BaseModel):
    code: str
    name: str
    name_en: str
    description: str
    group: str
    keywords: list[str]
    government_code: str = Field("", description="'' in the configured list")
    default_agency_code: str = Field("", description="Where assigning without an agency routes it; '' for none")
    retired: bool = False
    version: int = Field(0, description="0: configured, never edited for this government; the ETag")


class CategoryIn(_Input):
    """A category of one government; PUT replaces every field."""

    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=1000)
    group: str = Field("", max_length=60)
    keywords: list[str] = Field(default_factory=list, max_length=20)
    default_agency_code: str = Field("", max_length=40)
    retired: bool = False


class NewCategoryIn(CategoryIn):
    code: str = Field(min_length=1, max_length=60)


class IdentityOut(BaseModel):
    name: str
    nik: str
    phone: str
    email: str


def file_request(body: FileComplaintIn) -> pb.FileComplaintRequest:
    """The FileComplaint request for a JSON or form body."""
    request = pb.FileComplaintRequest(
        government_code=body.government_code,
        complaint_class=_value(complaint_pb2.ComplaintClass, "COMPLAINT_CLASS_", body.complaint_class),
        category_code=body.category_code,
        channel=_value(complaint_pb2.ComplaintChannel, "COMPLAINT_CHANNEL_", body.channel),
        title=body.title,
        description=body.description,
        complainant=complaint_pb2.Complainant(
            name=body.complainant.name, nik=body.complainant.nik, phone=body.complainant.phone,
            email=body.complainant.email,
        ),
        anonymous=body.anonymous,
        confidential=body.confidential,
    )  # fmt: skip
    if body.location is not None:
        request.location.address = body.location.address
        request.location.village_code = body.location.village_code
        if body.location.latitude is not None and body.location.longitude is not None:
            request.location.point.latitude = body.location.latitude
            request.location.point.longitude = body.location.longitude
    return request


def _status(value: int) -> str:
    return enum_name(complaint_pb2.ComplaintStatus, value, "COMPLAINT_STATUS_")


def _reply(r: complaint_pb2.Reply) -> ReplyOut:
    return ReplyOut(text=r.text, agency_code=r.agency_code, create_time=timestamp(r.create_time))


def _location(message: object, present: bool) -> LocationOut | None:
    if not present:
        return None
    loc: complaint_pb2.Location = message  # type: ignore[assignment]
    has_point = loc.HasField("point")
    return LocationOut(
        latitude=loc.point.latitude if has_point else None,
        longitude=loc.point.longitude if has_point else None,
        address=loc.address,
        village_code=loc.village_code,
    )


def photo_out(ticket_id: str, a: complaint_pb2.Attachment) -> PhotoOut:
    return PhotoOut(
        sha256=a.sha256,
        media_type=a.media_type,
        size_bytes=a.size_bytes,
        source=enum_name(complaint_pb2.AttachmentSource, a.source, "ATTACHMENT_SOURCE_"),
        added_by=a.added_by,
        add_time=timestamp(a.add_time),
        url=f"/api/v1/complaints/{ticket_id}/photos/{a.sha256}",
    )


def rating_out(r: complaint_pb2.ComplaintRating, present: bool) -> RatingOut | None:
    return RatingOut(score=r.score, comment=r.comment, rate_time=timestamp(r.rate_time)) if present else None


def tracked_out(t: pb.TrackComplaintResponse) -> TrackedOut:
    return TrackedOut(
        ticket_id=t.ticket_id,
        status=_status(t.status),
        title=t.title,
        agency_code=t.agency_code,
        replies=[_reply(r) for r in t.replies],
        receive_time=timestamp(t.receive_time),
        update_time=timestamp(t.update_time),
        photos=[photo_out(t.ticket_id, a) for a in t.attachments],
        rating=rating_out(t.rating, t.HasField("rating")),
        messages=[
            NotificationOut(
                kind=n.kind,
                text=n.text,
                status=n.status,
                delivered_via=n.delivered_via,
                create_time=timestamp(n.create_time),
                send_time=timestamp(n.send_time),
            )
            for n in t.notifications
        ],
        merged_into=t.merged_into,
    )


def complaint_out(c: complaint_pb2.Complaint) -> ComplaintOut:
    return ComplaintOut(
        ticket_id=c.ticket_id,
        government_code=c.government_code,
        complaint_class=enum_name(complaint_pb2.ComplaintClass, c.complaint_class, "COMPLAINT_CLASS_"),
        category_code=c.category_code,
        channel=enum_name(complaint_pb2.ComplaintChannel, c.channel, "COMPLAINT_CHANNEL_"),
        title=c.title,
        description=c.description,
        location=_location(c.location, c.HasField("location")),
        anonymous=c.anonymous,
        confidential=c.confidential,
        status=_status(c.status),
        agency_code=c.agency_code,
        assignments=[
            AssignmentOut(
                agency_code=a.agency_code, reason=a.reason, actor=a.actor, assign_time=timestamp(a.assign_time)
            )
            for a in c.assignments
        ],
        replies=[_reply(r) for r in c.replies],
        notes=[
            NoteOut(text=n.text, actor=n.actor, agency_code=n.agency_code, create_time=timestamp(n.create_time))
            for n in c.notes
        ],
        rejection_reason=enum_name(complaint_pb2.RejectionReason, c.rejection_reason, "REJECTION_REASON_"),
        rejection_note=c.rejection_note,
        reopen_count=c.reopen_count,
        first_response_minutes=c.first_response_minutes,
        deadlines=[
            DeadlineOut(
                kind=enum_name(complaint_pb2.SlaKind, d.kind, "SLA_KIND_"),
                round=d.round,
                due_time=timestamp(d.due_time),
                met_time=timestamp(d.met_time),
                breach_time=timestamp(d.breach_time),
                cancelled=d.cancelled,
            )
            for d in c.deadlines
        ],
        receive_time=timestamp(c.receive_time),
        update_time=timestamp(c.update_time),
        version=c.version,
        channel_message_id=c.channel_message_id,
        recorded_by=c.recorded_by,
        submitted_by=SubmitterOut(
            name=c.submitted_by.name,
            village_code=c.submitted_by.village_code,
            role=enum_name(complaint_pb2.SubmitterRole, c.submitted_by.role, "SUBMITTER_ROLE_"),
        )
        if c.HasField("submitted_by")
        else None,
        photos=[photo_out(c.ticket_id, a) for a in c.attachments],
        rating=rating_out(c.rating, c.HasField("rating")),
        merged_into=c.merged_into,
    )


def public_out(c: pb.PublicComplaint) -> PublicComplaintOut:
    return PublicComplaintOut(
        ticket_id=c.ticket_id,
        government_code=c.government_code,
        complaint_class=enum_name(complaint_pb2.ComplaintClass, c.complaint_class, "COMPLAINT_CLASS_"),
        category_code=c.category_code,
        status=_status(c.status),
        title=c.title,
        description=c.description,
        agency_code=c.agency_code,
        location=_location(c.location, c.HasField("location")),
        anonymous=c.anonymous,
        replies=[_reply(r) for r in c.replies],
        receive_time=timestamp(c.receive_time),
        update_time=timestamp(c.update_time),
        resolve_due_time=timestamp(c.resolve_due_time),
        merged_into=c.merged_into,
        photo_url=f"/api/v1/complaints/{c.ticket_id}/photos/{c.first_photo_sha256}" if c.first_photo_sha256 else None,
    )


def duplicate_out(c: pb.DuplicateCandidate) -> DuplicateOut:
    return DuplicateOut(
        ticket_id=c.ticket_id,
        title=c.title,
        category_code=c.category_code,
        status=_status(c.status),
        score=c.score,
        text_similarity=c.text_similarity,
        distance_meters=c.distance_meters if c.distance_meters >= 0 else None,
        same_category=c.same_category,
        receive_time=timestamp(c.receive_time),
        confidential=c.confidential,
    )


def category_out(c: pb.Category) -> CategoryOut:
    return CategoryOut(
        code=c.code,
        name=c.name,
        name_en=c.name_en,
        description=c.description,
        group=c.group,
        keywords=list(c.keywords),
        government_code=c.government_code,
        default_agency_code=c.default_agency_code,
        retired=c.retired,
        version=c.version,
    )
