"""The complaint (aduan) aggregate: its life from receipt to closure, its flags and its deadlines.

State machine (DOMAIN §1.8, LAPOR statuses):

    received ─verify→ verified ─assign→ assigned ─start_work→ in_progress ─respond→ responded
    responded ─resolve→ resolved ─close→ closed
    received|verified ─reject→ rejected
    responded|resolved ─reopen (complainant)→ in_progress
    assigned|in_progress ─assign (re-route, with a reason)→ assigned

The complainant's identity is not part of the aggregate: it lives apart (`Complainant`,
its own table) and the complaint keeps only a random `reporter_ref`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import re
import secrets
from dataclasses import dataclass, field

from grms_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied

from grms_complaints.domain.attachments import MAX_ATTACHMENTS, Attachment, AttachmentSource, Photo
from grms_complaints.domain.notifications import Notification, NotificationKind
from grms_complaints.domain.redaction import redact
from grms_complaints.domain.sla import Deadline, DeadlineKind, SlaPolicy, SlaStep, minutes_between

__all__ = [
    "FREE_TEXT_CHANNELS",
    "OPERATOR_CHANNELS",
    "Assignment",
    "Channel",
    "Complainant",
    "Complaint",
    "ComplaintAssigned",
    "ComplaintClass",
    "ComplaintFiled",
    "ComplaintRated",
    "ComplaintReopened",
    "ComplaintResolved",
    "ComplaintResponded",
    "DomainEvent",
    "Location",
    "Message",
    "MessageKind",
    "Rating",
    "RejectionReason",
    "SlaStepReached",
    "Status",
    "Submitter",
    "SubmitterRole",
    "check_delivery_id",
    "check_location",
    "check_submitter",
    "check_village_code",
    "new_reporter_ref",
    "new_ticket_id",
]

_GOV_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,59}$")
_NIK = re.compile(r"^\d{16}$")
_PHONE = re.compile(r"^\+62\d{7,13}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+$")
_TICKET = re.compile(r"^[A-Z2-7]{16}$")
_HANDLE = re.compile(r"^[a-z][a-z0-9_]{1,19}:@?[A-Za-z0-9_.\-]{1,100}$")
_VILLAGE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
_DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
# Indonesia's bounding box: Sabang to Merauke, Miangas to Rote.
LAT_RANGE = (-11.5, 6.5)
LON_RANGE = (94.5, 141.5)
MAX_TEXT = 5000


class ComplaintClass(enum.StrEnum):
    """Report classes of SP4N-LAPOR."""

    PENGADUAN = "pengaduan"
    ASPIRASI = "aspirasi"
    PERMINTAAN_INFORMASI = "permintaan_informasi"


class Channel(enum.StrEnum):
    """Where the complaint came in (DOMAIN §7.1 complaint_channel)."""

    WEB = "web"
    APP = "app"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    HOTLINE = "hotline"
    SOCIAL_MEDIA = "social_media"
    WALK_IN = "walk_in"
    LAPOR_SP4N = "lapor_sp4n"


#: Channels whose messages are free text: no structured location arrives; the coordinator
#: completes it at verification (a missing region is a reason to reject, DOMAIN §1.8).
FREE_TEXT_CHANNELS = frozenset({Channel.WHATSAPP, Channel.SMS, Channel.SOCIAL_MEDIA})
#: Channels where staff type the complaint in for the citizen.
OPERATOR_CHANNELS = frozenset({Channel.HOTLINE, Channel.WALK_IN})


class SubmitterRole(enum.StrEnum):
    """The office of someone filing on behalf of a citizen."""

    KEPALA_DESA = "kepala_desa"
    LURAH = "lurah"


class Status(enum.StrEnum):
    """Where a complaint is in its life (Indonesian label in the docstring of each)."""

    RECEIVED = "received"  # baru / belum diverifikasi
    VERIFIED = "verified"  # diverifikasi
    ASSIGNED = "assigned"  # didisposisikan
    IN_PROGRESS = "in_progress"  # diproses
    RESPONDED = "responded"  # ditindaklanjuti
    RESOLVED = "resolved"  # selesai
    CLOSED = "closed"  # diarsipkan
    REJECTED = "rejected"  # tidak layak / spam / bukan wewenang


class RejectionReason(enum.StrEnum):
    """Why a complaint is not handled."""

    SPAM = "spam"
    NOT_OUR_AUTHORITY = "not_our_authority"  # bukan wewenang
    NOT_ELIGIBLE = "not_eligible"  # tidak layak / tidak memenuhi kriteria


_REJECTION_LABELS = {
    RejectionReason.SPAM: "spam",
    RejectionReason.NOT_OUR_AUTHORITY: "bukan kewenangan pemerintah daerah ini",
    RejectionReason.NOT_ELIGIBLE: "tidak memenuhi kriteria",
}


class MessageKind(enum.StrEnum):
    """A public reply (tindak lanjut) or a note staff keep to themselves."""

    REPLY = "reply"
    NOTE = "note"


@dataclass(frozen=True)
class Location:
    """Where the problem is: a point within Indonesia, an address, a village, or any of them together.

    `village_code` is the Kemendagri code of the village (desa/kelurahan), "33.01.01.2001":
    province, regency, district (2.2.2 digits) and village (4 digits). Planners count
    complaints per village with it; it says where the problem is, not who complained.
    """

    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    village_code: str = ""


@dataclass(frozen=True)
class Complainant:
    """The person behind a complaint; stored apart, read only by audited officers."""

    reporter_ref: str
    name: str
    nik: str = ""
    phone: str = ""
    email: str = ""
    # A social-media account, "platform:@handle".
    handle: str = ""


@dataclass(frozen=True)
class Submitter:
    """A village head filing on behalf of a named villager; the villager stays the complainant."""

    name: str
    village_code: str
    role: SubmitterRole = SubmitterRole.KEPALA_DESA


@dataclass(frozen=True)
class Assignment:
    """One disposisi: the agency, why (for a re-route), who and when."""

    agency_code: str
    reason: str
    actor: str
    assigned_at: dt.datetime


@dataclass(frozen=True)
class Message:
    """A public reply or an internal note."""

    kind: MessageKind
    text: str
    actor: str
    agency_code: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Rating:
    """The complainant's verdict on a resolved complaint: 1 (very poor) to 5 (very good), and why."""

    score: int
    comment: str
    rated_at: dt.datetime


@dataclass
class DomainEvent:
    """Something that happened to a complaint; `key` names it stably when a redo must not repeat it."""

    complaint: Complaint = field(repr=False)

    @property
    def key(self) -> str | None:
        return None


@dataclass
class ComplaintFiled(DomainEvent):
    pass


@dataclass
class ComplaintAssigned(DomainEvent):
    agency_code: str
    previous_agency_code: str
    at: dt.datetime


@dataclass
class ComplaintResponded(DomainEvent):
    reply: Message
    first_response_minutes: int


@dataclass
class ComplaintResolved(DomainEvent):
    resolution_minutes: int
    at: dt.datetime


@dataclass
class ComplaintReopened(DomainEvent):
    at: dt.datetime


@dataclass
class ComplaintRated(DomainEvent):
    rating: Rating


@dataclass
class SlaStepReached(DomainEvent):
    step: SlaStep
    agency_code: str

    @property
    def key(self) -> str:
        return f"{self.complaint.ticket_id}:{self.step.key}"


# Tickets: 80 random bits in base32 (16 characters, no padding). PINs: domain.pins.


def new_ticket_id() -> str:
    """A random, non-sequential public tracking id (80 bits)."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


def new_reporter_ref() -> str:
    """A random key linking a complaint to its complainant's identity row."""
    return secrets.token_hex(16)


def _text(value: str, path: str, violations: list[FieldViolation], *, low: int, high: int) -> str:
    value = value.strip()
    if not low <= len(value) <= high:
        violations.append(FieldViolation(path, f"must be {low} to {high} characters"))
    return value


def normalize_phone(value: str) -> str:
    """+62… from the ways Indonesians write phone numbers (0812…, 62812…, +62 812-…)."""
    digits = re.sub(r"[\s\-().]", "", value)
    if digits.startswith("0"):
        return "+62" + digits[1:]
    if digits.startswith("62"):
        return "+" + digits
    return digits


def check_complainant(
    complainant: Complainant, prefix: str = "complainant", *, name_required: bool = True
) -> Complainant:
    """Validate and normalise the identity; InvalidArgument lists every bad field.

    A way to answer is required: a phone number, an e-mail address or a social-media handle.
    The name may be left out only where the channel has none to give (an SMS).
    """
    violations: list[FieldViolation] = []
    name = " ".join(complainant.name.split())
    if name or name_required:
        name = _text(name, f"{prefix}.name", violations, low=2, high=200)
    nik = complainant.nik.replace(" ", "")
    if nik and not _NIK.match(nik):
        violations.append(FieldViolation(f"{prefix}.nik", "must be a 16-digit NIK"))
    phone = normalize_phone(complainant.phone) if complainant.phone.strip() else ""
    if phone and not _PHONE.match(phone):
        violations.append(FieldViolation(f"{prefix}.phone", 'must be an Indonesian number like "0812 3456 7890"'))
    email = complainant.email.strip().lower()
    if email and not _EMAIL.match(email):
        violations.append(FieldViolation(f"{prefix}.email", "must be an e-mail address"))
    handle = complainant.handle.strip()
    if handle and not _HANDLE.match(handle):
        violations.append(FieldViolation(f"{prefix}.handle", 'must be "platform:@handle", like "twitter:@budi_s"'))
    if not phone and not email and not handle:
        violations.append(FieldViolation(f"{prefix}.phone", "a phone number or an e-mail address is required"))
    if violations:
        raise InvalidArgument(violations)
    return Complainant(
        reporter_ref=complainant.reporter_ref, name=name, nik=nik, phone=phone, email=email, handle=handle
    )


def check_submitter(submitter: Submitter, prefix: str = "submitted_by") -> Submitter:
    """Validate the village head filing on someone's behalf; InvalidArgument lists every bad field."""
    violations: list[FieldViolation] = []
    name = _text(" ".join(submitter.name.split()), f"{prefix}.name", violations, low=2, high=200)
    village_code = submitter.village_code.strip()
    if not _VILLAGE.match(village_code):
        violations.append(FieldViolation(f"{prefix}.village_code", 'must be a village code like "33.74.01.1001"'))
    if violations:
        raise InvalidArgument(violations)
    return Submitter(name=name, village_code=village_code, role=submitter.role)


def check_delivery_id(value: str) -> str:
    """A channel's delivery id: 1 to 200 visible ASCII characters, or "" for none."""
    value = value.strip()
    if value and not _DELIVERY_ID.match(value):
        raise InvalidArgument.field("channel_message_id", "must be at most 200 visible ASCII characters")
    return value


def check_ticket_id(ticket_id: str) -> str:
    """The ticket id, upper-cased; NotFound when it cannot be one (no hint what a ticket looks like)."""
    ticket_id = ticket_id.strip().upper()
    if not _TICKET.match(ticket_id):
        raise NotFound("no complaint with this ticket and PIN")
    return ticket_id


@dataclass
class Complaint:
    """One complaint, its history (assignments, replies, notes) and its SLA deadlines."""

    ticket_id: str
    pin_hash: str
    reporter_ref: str
    government_code: str
    complaint_class: ComplaintClass
    category_code: str
    channel: Channel
    title: str
    description: str
    location: Location
    anonymous: bool
    confidential: bool
    status: Status
    received_at: dt.datetime
    updated_at: dt.datetime
    version: int = 1
    agency_code: str = ""
    rejection_reason: RejectionReason | None = None
    rejection_note: str = ""
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None
    reopen_count: int = 0
    # The channel's id of the delivery this complaint came from ("" for none): unique per
    # government and channel, so a redelivered webhook finds its complaint instead of making one.
    channel_message_id: str = ""
    # The staff member who typed the complaint in ("" when the citizen filed it).
    recorded_by: str = ""
    submitted_by: Submitter | None = None
    assignments: list[Assignment] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    rating: Rating | None = None
    # The primary complaint this one was merged into as a duplicate ("" when it is not one).
    merged_into: str = ""
    # Messages for the complainant queued by this change, written with it (then cleared).
    outgoing: list[Notification] = field(default_factory=list, repr=False, compare=False)
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def file(
        cls,
        *,
        government_code: str,
        complaint_class: ComplaintClass,
        category_code: str,
        channel: Channel,
        title: str,
        description: str,
        location: Location | None,
        anonymous: bool,
        confidential: bool,
        reporter_ref: str,
        pin_hash: str,
        sla: SlaPolicy,
        now: dt.datetime,
        channel_message_id: str = "",
        recorded_by: str = "",
        submitted_by: Submitter | None = None,
        photos: tuple[Photo, ...] = (),
    ) -> Complaint:
        """Validate and receive a complaint; its first-response, verification and resolution clocks start.

        A free-text channel (WhatsApp, SMS, social media) may come without a location.
        `pin_hash` is the stored form of the PIN the complainant is given (domain.pins).
        """
        violations: list[FieldViolation] = []
        if not _GOV_CODE.match(government_code):
            violations.append(FieldViolation("government_code", 'must be a region code like "33" or "33.74"'))
        if not _CATEGORY.match(category_code):
            violations.append(FieldViolation("category_code", "must be a category code like 'jalan_rusak'"))
        title = _text(" ".join(title.split()), "title", violations, low=5, high=200)
        description = _text(description, "description", violations, low=10, high=MAX_TEXT)
        if submitted_by is not None and _VILLAGE.match(submitted_by.village_code.strip()):
            # A village head files for a villager of their own village: unless told otherwise, it is there.
            location = location or Location()
            if not location.village_code.strip():
                location = dataclasses.replace(location, village_code=submitted_by.village_code.strip())
        if location is None and channel in FREE_TEXT_CHANNELS:
            location = Location()
        else:
            location = _check_location(location, violations)
        try:
            channel_message_id = check_delivery_id(channel_message_id)
        except InvalidArgument as exc:
            violations += exc.violations
        if submitted_by is not None:
            try:
                submitted_by = check_submitter(submitted_by)
            except InvalidArgument as exc:
                violations += exc.violations
        if len(photos) > MAX_ATTACHMENTS:
            violations.append(FieldViolation("photos", f"at most {MAX_ATTACHMENTS} photos"))
        if violations:
            raise InvalidArgument(violations)
        complaint = cls(
            ticket_id=new_ticket_id(),
            pin_hash=pin_hash,
            reporter_ref=reporter_ref,
            government_code=government_code,
            complaint_class=complaint_class,
            category_code=category_code,
            channel=channel,
            title=title,
            description=description,
            location=location,
            anonymous=anonymous,
            confidential=confidential,
            status=Status.RECEIVED,
            received_at=now,
            updated_at=now,
            channel_message_id=channel_message_id,
            recorded_by=recorded_by,
            submitted_by=submitted_by,
        )
        for kind in (DeadlineKind.FIRST_RESPONSE, DeadlineKind.VERIFICATION, DeadlineKind.RESOLUTION):
            complaint.deadlines.append(sla.open(kind, category_code, start=now))
        # Photos typed in by an operator are theirs to answer for; the citizen's own are the complainant's.
        source = AttachmentSource.STAFF if recorded_by else AttachmentSource.COMPLAINANT
        for photo in photos:
            complaint.attach(photo, source=source, actor=recorded_by, now=now)
        complaint.events.append(ComplaintFiled(complaint))
        return complaint

    # The state machine.

    def _require(self, action: str, *allowed: Status) -> None:
        if self.merged_into and action != "rate":
            raise FailedPrecondition(
                f"cannot {action} complaint {self.ticket_id}: it is merged into {self.merged_into} and follows it"
            )
        if self.status not in allowed:
            raise FailedPrecondition(
                f"cannot {action} complaint {self.ticket_id}: it is {self.status.value}"
                f" (allowed from {', '.join(s.value for s in allowed)})"
            )

    def _touch(self, now: dt.datetime) -> None:
        self.updated_at = now

    def _notify(self, kind: NotificationKind, text: str, now: dt.datetime) -> None:
        self.outgoing.append(Notification(kind=kind, text=text, created_at=now))

    def _open_deadline(self, kind: DeadlineKind) -> Deadline | None:
        return next((d for d in reversed(self.deadlines) if d.kind is kind and d.is_open), None)

    def _meet(self, kind: DeadlineKind, now: dt.datetime) -> int | None:
        deadline = self._open_deadline(kind)
        return deadline.meet(now) if deadline else None

    def _cancel_open(self, now: dt.datetime) -> None:
        for deadline in self.deadlines:
            if deadline.is_open:
                deadline.cancel(now)

    def verify(self, *, now: dt.datetime) -> None:
        """The coordinator checked the complaint is complete and ours (verifikasi)."""
        self._require("verify", Status.RECEIVED)
        self.status = Status.VERIFIED
        self._meet(DeadlineKind.VERIFICATION, now)
        self._touch(now)

    def assign(self, agency_code: str, *, reason: str, actor: str, sla: SlaPolicy, now: dt.datetime) -> None:
        """Route to an agency (disposisi); re-routing needs a reason and keeps the chain."""
        self._require("assign", Status.VERIFIED, Status.ASSIGNED, Status.IN_PROGRESS)
        reason = reason.strip()
        rerouting = self.status is not Status.VERIFIED
        if rerouting and not reason:
            raise InvalidArgument.field("reason", "a re-route needs a reason")
        if rerouting and agency_code == self.agency_code:
            raise FailedPrecondition(f"complaint {self.ticket_id} is already with agency {agency_code}")
        previous = self.agency_code
        self.assignments.append(Assignment(agency_code=agency_code, reason=reason, actor=actor, assigned_at=now))
        self.agency_code = agency_code
        self.status = Status.ASSIGNED
        if self._open_deadline(DeadlineKind.FOLLOW_UP) is None:
            # A re-route does not restart the agencies' clock: the citizen has waited already.
            round_ = sum(1 for d in self.deadlines if d.kind is DeadlineKind.FOLLOW_UP)
            self.deadlines.append(sla.open(DeadlineKind.FOLLOW_UP, self.category_code, start=now, round=round_))
        self._touch(now)
        self.events.append(ComplaintAssigned(self, agency_code=agency_code, previous_agency_code=previous, at=now))

    def start_work(self, *, now: dt.datetime) -> None:
        """The agency took the complaint up (diproses)."""
        self._require("start work on", Status.ASSIGNED)
        self.status = Status.IN_PROGRESS
        self._touch(now)

    def respond(self, text: str, *, actor: str, now: dt.datetime) -> Message:
        """Publish the agency's answer (tindak lanjut); meets the first-response and follow-up clocks."""
        self._require("respond to", Status.IN_PROGRESS)
        violations: list[FieldViolation] = []
        text = _text(text, "text", violations, low=2, high=MAX_TEXT)
        if violations:
            raise InvalidArgument(violations)
        reply = Message(MessageKind.REPLY, text, actor, self.agency_code, now)
        self.messages.append(reply)
        first = self._meet(DeadlineKind.FIRST_RESPONSE, now)
        if first is not None and self.first_response_minutes is None:
            self.first_response_minutes = first
        self._meet(DeadlineKind.FOLLOW_UP, now)
        self.status = Status.RESPONDED
        self._touch(now)
        self._notify(NotificationKind.REPLY, f"Tanggapan atas pengaduan {self.ticket_id}: {redact(text)}", now)
        self.events.append(
            ComplaintResponded(self, reply=reply, first_response_minutes=self.first_response_minutes or 0)
        )
        return reply

    def add_note(self, text: str, *, actor: str, now: dt.datetime) -> Message:
        """An internal note: never shown to the complainant or the public."""
        violations: list[FieldViolation] = []
        text = _text(text, "text", violations, low=2, high=MAX_TEXT)
        if violations:
            raise InvalidArgument(violations)
        note = Message(MessageKind.NOTE, text, actor, self.agency_code, now)
        self.messages.append(note)
        self._touch(now)
        return note

    def resolve(self, *, sla: SlaPolicy, now: dt.datetime) -> None:
        """The matter is settled (selesai); it closes by itself unless the complainant answers in time."""
        self._require("resolve", Status.RESPONDED)
        self.status = Status.RESOLVED
        minutes = self._meet(DeadlineKind.RESOLUTION, now)
        self.resolution_minutes = minutes if minutes is not None else minutes_between(self.received_at, now)
        self._cancel_open(now)
        round_ = sum(1 for d in self.deadlines if d.kind is DeadlineKind.AUTO_CLOSE)
        self.deadlines.append(sla.open(DeadlineKind.AUTO_CLOSE, self.category_code, start=now, round=round_))
        self._touch(now)
        self._notify(
            NotificationKind.RESOLVED,
            f"Pengaduan {self.ticket_id} dinyatakan selesai. Beri penilaian, atau buka kembali bila belum"
            f" tuntas, dalam {sla.auto_close_days} hari kerja; setelah itu pengaduan ditutup otomatis.",
            now,
        )
        self.events.append(ComplaintResolved(self, resolution_minutes=self.resolution_minutes, at=now))

    def close(self, *, now: dt.datetime) -> None:
        """Archive a resolved complaint (diarsipkan); it can no longer be reopened."""
        self._require("close", Status.RESOLVED)
        self.status = Status.CLOSED
        self._cancel_open(now)
        self._touch(now)

    def rate(self, score: int, comment: str, *, now: dt.datetime) -> Rating:
        """The complainant rates the resolution, once; a resolved complaint is closed by it (accepted)."""
        self._require("rate", Status.RESOLVED, Status.CLOSED)
        if self.rating is not None:
            raise FailedPrecondition(f"complaint {self.ticket_id} was rated already")
        violations: list[FieldViolation] = []
        if not 1 <= score <= 5:
            violations.append(FieldViolation("score", "must be 1 to 5"))
        comment = comment.strip()
        if len(comment) > 1000:
            violations.append(FieldViolation("comment", "must be at most 1000 characters"))
        if violations:
            raise InvalidArgument(violations)
        self.rating = Rating(score=score, comment=comment, rated_at=now)
        if self.status is Status.RESOLVED:
            auto_close = self._open_deadline(DeadlineKind.AUTO_CLOSE)
            if auto_close is not None:
                auto_close.cancel(now)
            self.status = Status.CLOSED
        self._touch(now)
        self.events.append(ComplaintRated(self, rating=self.rating))
        return self.rating

    def reject(self, reason: RejectionReason, note: str, *, now: dt.datetime) -> None:
        """Refuse the complaint: spam, not this government's authority, or not eligible."""
        self._require("reject", Status.RECEIVED, Status.VERIFIED)
        violations: list[FieldViolation] = []
        note = _text(note, "note", violations, low=2, high=1000)
        if violations:
            raise InvalidArgument(violations)
        self.status = Status.REJECTED
        self.rejection_reason = reason
        self.rejection_note = note
        self._notify(
            NotificationKind.REJECTED,
            f"Pengaduan {self.ticket_id} tidak dapat diproses ({_REJECTION_LABELS[reason]}): {redact(note)}",
            now,
        )
        # A rejection answers the complainant and ends the verification.
        first = self._meet(DeadlineKind.FIRST_RESPONSE, now)
        if first is not None:
            self.first_response_minutes = first
        self._meet(DeadlineKind.VERIFICATION, now)
        self._cancel_open(now)
        self._touch(now)

    def reopen(self, reason: str, *, sla: SlaPolicy, now: dt.datetime) -> None:
        """The complainant is not satisfied: back to the agency, with fresh follow-up and resolution clocks."""
        self._require("reopen", Status.RESPONDED, Status.RESOLVED)
        violations: list[FieldViolation] = []
        reason = _text(reason, "reason", violations, low=2, high=MAX_TEXT)
        if violations:
            raise InvalidArgument(violations)
        self.status = Status.IN_PROGRESS
        self.reopen_count += 1
        self.resolution_minutes = None
        self._cancel_open(now)
        for kind in (DeadlineKind.FOLLOW_UP, DeadlineKind.RESOLUTION):
            round_ = sum(1 for d in self.deadlines if d.kind is kind)
            self.deadlines.append(sla.open(kind, self.category_code, start=now, round=round_))
        self.messages.append(
            Message(MessageKind.NOTE, f"Dibuka kembali oleh pelapor: {reason}", "complainant", "", now)
        )
        self._touch(now)
        self.events.append(ComplaintReopened(self, at=now))

    def tighten(self, *, anonymous: bool | None, confidential: bool | None, now: dt.datetime) -> bool:
        """Staff may set `anonymous`/`confidential` to true, never back to false; return whether anything changed."""
        for name, wanted in (("anonymous", anonymous), ("confidential", confidential)):
            if wanted is False and getattr(self, name):
                raise PermissionDenied(f"{name} can only be relaxed by the complainant, never by staff")
        changed = False
        if anonymous and not self.anonymous:
            self.anonymous = changed = True
        if confidential and not self.confidential:
            self.confidential = changed = True
        if changed:
            self._touch(now)
        return changed

    def attach(self, photo: Photo, *, source: AttachmentSource, actor: str, now: dt.datetime) -> Attachment:
        """Link a photo to the complaint; the same photo twice is one attachment (the first is returned)."""
        for existing in self.attachments:
            if existing.sha256 == photo.sha256:
                return existing
        if self.status in (Status.CLOSED, Status.REJECTED):
            raise FailedPrecondition(f"complaint {self.ticket_id} is {self.status.value}: no more photos")
        if len(self.attachments) >= MAX_ATTACHMENTS:
            raise FailedPrecondition(f"complaint {self.ticket_id} has {MAX_ATTACHMENTS} photos already")
        attachment = Attachment(
            sha256=photo.sha256,
            media_type=photo.media_type,
            size_bytes=photo.size,
            source=source,
            added_by=actor if source is AttachmentSource.STAFF else "",
            added_at=now,
        )
        self.attachments.append(attachment)
        self._touch(now)
        return attachment

    def place(self, location: Location, *, now: dt.datetime) -> bool:
        """Give the complaint the point of a location the complainant sent later (a WhatsApp location
        message); return whether anything changed.

        Only a complaint without a point takes one, so a point staff set or corrected is never
        overwritten, and a closed or rejected complaint stays as it ended; the address and village
        fill in only what is missing. Sending the same location again changes nothing.
        """
        if self.location.latitude is not None or self.status in (Status.CLOSED, Status.REJECTED):
            return False
        if location.latitude is None or location.longitude is None:
            return False
        self.location = Location(
            latitude=location.latitude,
            longitude=location.longitude,
            address=self.location.address or location.address,
            village_code=self.location.village_code or location.village_code,
        )
        self._touch(now)
        return True

    # Duplicates.

    def merge_into(
        self, primary: Complaint, *, reason: str, actor: str, has_duplicates: bool, now: dt.datetime
    ) -> None:
        """Make this complaint a duplicate of `primary`: it follows the primary's status and resolution from now on.

        Refused (FailedPrecondition) for itself, across governments, for a complaint already merged
        or that others were merged into, into a merged or confidential primary, and when either
        is rejected or this one is closed. Its own SLA clocks stop: the primary's run for both.
        """
        violations: list[FieldViolation] = []
        reason = _text(reason, "reason", violations, low=2, high=1000)
        if violations:
            raise InvalidArgument(violations)
        problem = None
        if primary.ticket_id == self.ticket_id:
            problem = "a complaint cannot be merged into itself"
        elif primary.government_code != self.government_code:
            problem = "complaints of different governments cannot be merged"
        elif self.merged_into:
            problem = f"complaint {self.ticket_id} is merged into {self.merged_into} already"
        elif has_duplicates:
            problem = f"complaint {self.ticket_id} has duplicates of its own: merge them into {primary.ticket_id} first"
        elif primary.merged_into:
            problem = f"complaint {primary.ticket_id} is itself merged into {primary.merged_into}: merge into that one"
        elif primary.confidential:
            problem = f"complaint {primary.ticket_id} is confidential: it cannot share its replies as a primary"
        elif Status.REJECTED in (self.status, primary.status) or self.status is Status.CLOSED:
            problem = f"cannot merge a {self.status.value} complaint into a {primary.status.value} one"
        if problem:
            raise FailedPrecondition(problem)
        self.merged_into = primary.ticket_id
        self._cancel_open(now)
        self.messages.append(
            Message(MessageKind.NOTE, f"Digabungkan ke pengaduan {primary.ticket_id}: {reason}", actor, "", now)
        )
        self._notify(
            NotificationKind.MERGED,
            f"Pengaduan {self.ticket_id} digabungkan dengan pengaduan {primary.ticket_id} yang melaporkan masalah"
            " yang sama; tanggapan dan penyelesaiannya berlaku juga untuk pengaduan Anda.",
            now,
        )
        self.follow(primary, now=now)

    def follow(self, primary: Complaint, *, now: dt.datetime) -> bool:
        """Take the primary's status, agency and resolution; return whether anything changed."""
        before = (self.status, self.agency_code, self.resolution_minutes)
        self.status = primary.status
        self.agency_code = primary.agency_code
        self.resolution_minutes = primary.resolution_minutes
        if self.first_response_minutes is None and primary.first_response_minutes is not None:
            self.first_response_minutes = minutes_between(self.received_at, now)
        changed = before != (self.status, self.agency_code, self.resolution_minutes)
        if changed:
            self._touch(now)
        return changed

    # The SLA clocks, advanced by the scheduler.

    def check_sla(self, now: dt.datetime) -> list[SlaStep]:
        """Advance every open deadline to `now`; raise an event per new warning or escalation level."""
        steps: list[SlaStep] = []
        for deadline in self.deadlines:
            steps.extend(deadline.advance(now))
        for step in steps:
            self.events.append(SlaStepReached(self, step=step, agency_code=self.agency_code))
        auto_close = self._open_deadline(DeadlineKind.AUTO_CLOSE)
        if auto_close is not None and now >= auto_close.due_at:
            if self.status is Status.RESOLVED:
                # The complainant neither reopened nor rated it in time: closed, exactly once (the
                # deadline is met in the same save that closes it).
                auto_close.meet(now)
                self.status = Status.CLOSED
                self.messages.append(
                    Message(
                        MessageKind.NOTE, "Ditutup otomatis: pelapor tidak menanggapi penyelesaian", "system", "", now
                    )
                )
                self._touch(now)
            else:
                auto_close.cancel(now)
        return steps

    @property
    def replies(self) -> list[Message]:
        """The public replies, oldest first."""
        return [m for m in self.messages if m.kind is MessageKind.REPLY]


def check_village_code(value: str, path: str = "location.village_code") -> str:
    """A Kemendagri village code ("33.01.01.2001"), or "" for none; InvalidArgument naming `path` otherwise."""
    value = value.strip()
    if value and not _VILLAGE.match(value):
        raise InvalidArgument.field(path, 'must be a Kemendagri village code like "33.01.01.2001"')
    return value


def check_location(location: Location) -> Location:
    """The location trimmed and checked (a point within Indonesia, an address, a village code); InvalidArgument."""
    violations: list[FieldViolation] = []
    checked = _check_location(location, violations)
    if violations:
        raise InvalidArgument(violations)
    return checked


def _check_location(location: Location | None, violations: list[FieldViolation]) -> Location:
    if location is None or (
        location.latitude is None
        and location.longitude is None
        and not location.address.strip()
        and not location.village_code.strip()
    ):
        violations.append(
            FieldViolation("location", "a point (latitude, longitude), an address or a village code is required")
        )
        return Location()
    village_code = location.village_code.strip()
    try:
        village_code = check_village_code(village_code)
    except InvalidArgument as exc:
        violations += exc.violations
    address = " ".join(location.address.split())
    if len(address) > 500:
        violations.append(FieldViolation("location.address", "must be at most 500 characters"))
    lat, lon = location.latitude, location.longitude
    if (lat is None) != (lon is None):
        violations.append(FieldViolation("location", "latitude and longitude go together"))
    if lat is not None and not LAT_RANGE[0] <= lat <= LAT_RANGE[1]:
        violations.append(FieldViolation("location.latitude", "must be within Indonesia (-11.5 to 6.5)"))
    if lon is not None and not LON_RANGE[0] <= lon <= LON_RANGE[1]:
        violations.append(FieldViolation("location.longitude", "must be within Indonesia (94.5 to 141.5)"))
    return Location(latitude=lat, longitude=lon, address=address, village_code=village_code)
