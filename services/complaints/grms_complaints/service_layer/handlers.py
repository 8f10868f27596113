"""Complaint use cases: file, track, route, answer, resolve, reject, reopen, and the SLA scan.

Each handler takes a command and, keyword-only, the unit of work, the caller and (where a
clock starts) the SLA policy. The caller's role is checked before anything is loaded, the
caller's government once the complaint is known. Citizens act with the ticket id and PIN.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from grms_kit.errors import (
    AlreadyExists,
    Conflict,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from grms_kit.identity import ANONYMOUS, Identity, Role
from grms_kit.paging import Page

from grms_complaints.domain import demo
from grms_complaints.domain.attachments import (
    Attachment,
    AttachmentSource,
    Photo,
    check_photo,
    check_sha256,
)
from grms_complaints.domain.categories import Category, GovernmentCategory, check_category, effective_categories
from grms_complaints.domain.duplicates import DuplicateCandidate, DuplicatePolicy, likely_duplicates, report_of
from grms_complaints.domain.model import (
    FREE_TEXT_CHANNELS,
    OPERATOR_CHANNELS,
    Channel,
    Complainant,
    Complaint,
    ComplaintClass,
    Location,
    Message,
    MessageKind,
    Rating,
    RejectionReason,
    Status,
    Submitter,
    check_complainant,
    check_delivery_id,
    check_location,
    check_ticket_id,
    new_reporter_ref,
    normalize_phone,
)
from grms_complaints.domain.notifications import MAX_ATTEMPTS, Notification, OutboundNotification
from grms_complaints.domain.pins import PinGuard, unguessable_pin_hash
from grms_complaints.domain.redaction import redact
from grms_complaints.domain.sla import JAKARTA, SlaPolicy
from grms_complaints.domain.watch import check_watch_token, issue_watch_token
from grms_complaints.service_layer.ports import (
    Board,
    BoardEntry,
    BoardQuery,
    PhotoStore,
    PublicQuery,
    PublicRecord,
    UnitOfWork,
)

__all__ = [
    "AddPhoto",
    "AssignComplaint",
    "BoardView",
    "Delivery",
    "FileComplaint",
    "FiledComplaint",
    "Inbox",
    "MergeComplaints",
    "RateComplaint",
    "RejectComplaint",
    "ReopenComplaint",
    "SaveCategory",
    "SeedDemoComplaints",
    "TightenConfidentiality",
    "TrackedComplaint",
    "add_internal_note",
    "add_photo",
    "assign_complaint",
    "claim_notifications",
    "close_complaint",
    "complaint_board",
    "create_category",
    "file_complaint",
    "get_complainant_identity",
    "get_complaint",
    "get_photo",
    "list_categories",
    "list_duplicate_candidates",
    "list_inbox",
    "list_public_complaints",
    "merge_complaints",
    "notification_delivered",
    "notification_failed",
    "rate_complaint",
    "reject_complaint",
    "reopen_complaint",
    "resolve_complaint",
    "respond_to_complaint",
    "scan_sla",
    "seed_demo_complaints",
    "start_work",
    "tighten_confidentiality",
    "track_complaint",
    "update_category",
    "verify_complaint",
    "watch_complaint",
]

# Coordinators (Admin Koordinator) route and decide; agencies (Admin Penghubung, Kepala OPD)
# work and answer; executives and auditors read.
OFFICERS = (Role.COMPLAINTS_OFFICER, Role.ADMIN)
HANDLERS = (*OFFICERS, Role.AGENCY_HEAD)
READERS = (*HANDLERS, Role.EXECUTIVE, Role.AUDITOR)
_NOT_FOUND = "no complaint with this ticket and PIN"
MAX_PUBLIC_TICKETS = 100
# Three decimals of a degree: about 110 m, enough to find the pothole, not the house.
PUBLIC_COORDINATE_DECIMALS = 3


@dataclass(frozen=True)
class FileComplaint:
    government_code: str
    complaint_class: ComplaintClass
    category_code: str
    channel: Channel
    title: str
    description: str
    location: Location | None
    complainant: Complainant
    anonymous: bool = False
    confidential: bool = False
    # The channel's id of this delivery (WhatsApp message id, SMS id, "platform:post id").
    channel_message_id: str = ""
    submitted_by: Submitter | None = None
    # Photo bytes as sent; their type is read from the bytes, whatever the client claimed.
    photos: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class AddPhoto:
    """A photo for a complaint: from the complainant with ticket and PIN, or from staff (pin "")."""

    ticket_id: str
    content: bytes
    pin: str = ""


@dataclass(frozen=True)
class FiledComplaint:
    """The new complaint and its PIN: the only moment the PIN exists in clear.

    For a delivery filed before (`duplicate_delivery`), the complaint is the one filed then
    and `pin` is "": a PIN is issued once, to the first delivery, and never again.
    """

    complaint: Complaint
    pin: str
    duplicate_delivery: bool = False


@dataclass(frozen=True)
class AssignComplaint:
    ticket_id: str
    agency_code: str
    reason: str = ""


@dataclass(frozen=True)
class RejectComplaint:
    ticket_id: str
    reason: RejectionReason
    note: str


@dataclass(frozen=True)
class ReopenComplaint:
    ticket_id: str
    pin: str
    reason: str


@dataclass(frozen=True)
class TightenConfidentiality:
    ticket_id: str
    anonymous: bool | None = None
    confidential: bool | None = None


@dataclass(frozen=True)
class TrackedComplaint:
    """What the complainant sees with ticket and PIN: status and the public replies, redacted."""

    ticket_id: str
    status: Status
    title: str
    agency_code: str
    received_at: dt.datetime
    updated_at: dt.datetime
    replies: list[Message]
    attachments: list[Attachment] = dataclasses.field(default_factory=list)
    rating: Rating | None = None
    # The messages sent (or being sent) to the complainant, oldest first.
    notifications: list[OutboundNotification] = dataclasses.field(default_factory=list)
    # The primary this complaint was merged into: its replies are shown, its status followed.
    merged_into: str = ""
    # Lets the holder re-read this view without the PIN for a while (domain.watch); "" when not asked for.
    watch_token: str = ""


def file_complaint(
    cmd: FileComplaint,
    *,
    uow: UnitOfWork,
    sla: SlaPolicy,
    categories: Collection[str] | None = None,
    actor: Identity = ANONYMOUS,
    photos: PhotoStore | None = None,
    duplicates: DuplicatePolicy | None = None,
    pins: PinGuard,
) -> FiledComplaint:
    """Receive a complaint from any channel; open to the public, with no limit of its own here.

    The gateway limits the public doors before they reach this use case: filings per client
    IP (the JSON API and the web form) and Open311 POSTs per IP and per api_key, answering
    429 (grms_gateway.throttle). Staff entries and the signed SMS/WhatsApp webhooks — one
    sender for many citizens — are not rate-limited; they are authenticated instead.

    The new complaint's PIN is issued by `pins` (a keyed hash: microseconds, fine in the transaction).

    With `categories`, the category code must be one of them (the configured category list).
    Hotline and walk-in entries, and filings on behalf of someone (`submitted_by`), are typed
    in by a complaints officer or admin of the government, who is recorded as `recorded_by`.

    Intake is idempotent per delivery: when `channel_message_id` was filed before for the same
    government and channel, that complaint comes back with `duplicate_delivery` and no PIN —
    nothing is stored and no second PIN exists. Two deliveries racing each other meet at the
    database's unique constraint; the loser answers the same way.
    """
    government_code = cmd.government_code.strip()
    delivery_id = check_delivery_id(cmd.channel_message_id)
    staff_entry = cmd.channel in OPERATOR_CHANNELS or cmd.submitted_by is not None
    if staff_entry:
        actor.require_role(*OFFICERS)
        actor.require_government(government_code)
    if delivery_id:
        with uow:
            earlier = uow.complaints.find_delivery(government_code, cmd.channel, delivery_id)
        if earlier is not None:
            return FiledComplaint(complaint=earlier, pin="", duplicate_delivery=True)
    try:
        return _file_new(
            cmd,
            delivery_id,
            uow=uow,
            sla=sla,
            categories=categories,
            actor=actor,
            photos=photos,
            duplicates=duplicates,
            pins=pins,
        )
    except Conflict:
        if not delivery_id:
            raise
        with uow:
            earlier = uow.complaints.find_delivery(government_code, cmd.channel, delivery_id)
        if earlier is None:
            raise
        return FiledComplaint(complaint=earlier, pin="", duplicate_delivery=True)


def _file_new(
    cmd: FileComplaint,
    delivery_id: str,
    *,
    uow: UnitOfWork,
    sla: SlaPolicy,
    categories: Collection[str] | None,
    actor: Identity,
    photos: PhotoStore | None,
    duplicates: DuplicatePolicy | None = None,
    pins: PinGuard,
) -> FiledComplaint:
    violations: list[FieldViolation] = []
    checked: list[Photo] = []
    if cmd.photos and photos is None:
        violations.append(FieldViolation("photos", "this service takes no photos"))
    elif cmd.photos and photos is not None:
        for i, content in enumerate(cmd.photos):
            try:
                checked.append(check_photo(content, max_bytes=photos.max_bytes, field=f"photos[{i}]"))
            except InvalidArgument as exc:
                violations += exc.violations
    complainant: Complainant | None = None
    complaint: Complaint | None = None
    issued = pins.issue()
    reporter_ref = new_reporter_ref()
    staff_entry = cmd.channel in OPERATOR_CHANNELS or cmd.submitted_by is not None or actor.has_role(*OFFICERS)
    with uow:
        if categories is not None and cmd.category_code.strip() not in _active_codes(
            uow, cmd.government_code.strip(), categories
        ):
            violations.append(FieldViolation("category_code", "is not a complaint category of this service"))
        try:
            complainant = check_complainant(
                Complainant(
                    reporter_ref=reporter_ref,
                    name=cmd.complainant.name,
                    nik=cmd.complainant.nik,
                    phone=cmd.complainant.phone,
                    email=cmd.complainant.email,
                    handle=cmd.complainant.handle,
                ),
                name_required=cmd.channel not in FREE_TEXT_CHANNELS,
            )
        except InvalidArgument as exc:
            violations += exc.violations
        try:
            complaint = Complaint.file(
                government_code=cmd.government_code.strip(),
                complaint_class=cmd.complaint_class,
                category_code=cmd.category_code.strip(),
                channel=cmd.channel,
                title=cmd.title,
                description=cmd.description,
                location=cmd.location,
                anonymous=cmd.anonymous,
                confidential=cmd.confidential,
                reporter_ref=reporter_ref,
                pin_hash=issued.pin_hash,
                sla=sla,
                now=uow.clock.now(),
                channel_message_id=delivery_id,
                recorded_by=actor.sub if staff_entry else "",
                submitted_by=cmd.submitted_by,
                photos=tuple(checked),
            )
        except InvalidArgument as exc:
            violations += exc.violations
        if complaint is not None and not uow.directory.government_exists(complaint.government_code):
            violations.append(FieldViolation("government_code", "is not a government known to this service"))
        if violations or complaint is None or complainant is None:
            raise InvalidArgument(violations)
        if duplicates is not None:
            # Suggested to the coordinator as a note; the citizen is told nothing about others' complaints.
            found = _duplicates_of(uow, complaint, duplicates, INTAKE_DUPLICATE_POOL)
            if found:
                listed = ", ".join(f"{c.ticket_id} (skor {c.score:.2f})" for c in found)
                complaint.messages.append(
                    Message(MessageKind.NOTE, f"Kemungkinan duplikat: {listed}", "system", "", complaint.received_at)
                )
        _store_photos(photos, checked)
        uow.complaints.add(complaint)
        uow.complainants.add(complainant)
        uow.commit()
        return FiledComplaint(complaint=complaint, pin=issued.pin)


def _store_photos(photos: PhotoStore | None, checked: Collection[Photo]) -> None:
    # Content first, then the rows that name it: a failed commit leaves at most an unreferenced
    # file (named by its hash, harmless), never a row naming content that is not there.
    if photos is not None:
        for photo in checked:
            photos.put(photo.sha256, photo.content)


def _active_codes(uow: UnitOfWork, government_code: str, configured: Collection[str]) -> set[str]:
    codes = set(configured)
    for saved in uow.categories.list(government_code):
        if saved.active:
            codes.add(saved.code)
        else:
            codes.discard(saved.code)
    return codes


def _load(uow: UnitOfWork, ticket_id: str) -> Complaint:
    complaint = uow.complaints.get(ticket_id.strip().upper())
    if complaint is None:
        raise NotFound(f"complaint {ticket_id} does not exist")
    return complaint


def _may_act(actor: Identity, complaint: Complaint) -> None:
    actor.require_government(complaint.government_code)
    # An agency officer scoped to some agencies sees only what is routed to them.
    if not actor.has_role(*OFFICERS) and actor.agencies and complaint.agency_code not in actor.agencies:
        raise PermissionDenied(f"complaint {complaint.ticket_id} is not routed to your agency")


def _change(
    ticket_id: str, *, uow: UnitOfWork, actor: Identity, roles: tuple[str, ...], apply: Callable[[Complaint], object]
) -> Complaint:
    actor.require_role(*roles)
    with uow:
        complaint = _load(uow, ticket_id)
        _may_act(actor, complaint)
        apply(complaint)
        _save_with_duplicates(uow, complaint)
        uow.commit()
        return complaint


def _save_with_duplicates(uow: UnitOfWork, primary: Complaint) -> None:
    """Save `primary`; its merged duplicates follow its status and get the messages it queued."""
    sent = list(primary.outgoing)
    uow.complaints.save(primary)
    now = uow.clock.now()
    for duplicate in uow.complaints.merged_into(primary.ticket_id):
        changed = duplicate.follow(primary, now=now)
        duplicate.outgoing.extend(Notification(n.kind, n.text, now) for n in sent)
        if changed or sent:
            uow.complaints.save(duplicate)


def get_complaint(ticket_id: str, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """The whole complaint for staff of its government (never the complainant's identity)."""
    actor.require_role(*READERS)
    with uow:
        complaint = _load(uow, ticket_id)
        _may_act(actor, complaint)
        return complaint


def track_complaint(
    ticket_id: str, pin: str, *, uow: UnitOfWork, pins: PinGuard, watch_key: bytes | None = None
) -> TrackedComplaint:
    """Status and public replies for whoever holds ticket and PIN; NotFound for either wrong.

    With `watch_key`, the answer carries a watch token for WatchComplaint (live tracking).
    """
    with uow:
        complaint = _by_pin(uow, ticket_id, pin, pins)
        tracked = _tracked(uow, complaint)
        now = uow.clock.now()
    if watch_key is None:
        return tracked
    return dataclasses.replace(tracked, watch_token=issue_watch_token(watch_key, complaint.ticket_id, now))


def watch_complaint(ticket_id: str, token: str, *, uow: UnitOfWork, watch_key: bytes) -> TrackedComplaint:
    """The tracking view again, with the watch token instead of the PIN; NotFound for a bad or expired token."""
    ticket_id = check_ticket_id(ticket_id)
    with uow:
        check_watch_token(watch_key, ticket_id, token, uow.clock.now())
        complaint = uow.complaints.get(ticket_id)
        if complaint is None:
            raise NotFound(_NOT_FOUND)
        return _tracked(uow, complaint)


def _tracked(uow: UnitOfWork, complaint: Complaint) -> TrackedComplaint:
    """The complainant's view (inside an open unit of work): a merged duplicate shows its primary's replies."""
    notifications = uow.notifications.for_ticket(complaint.ticket_id)
    primary = uow.complaints.get(complaint.merged_into) if complaint.merged_into else None
    replies = (primary or complaint).replies
    return TrackedComplaint(
        ticket_id=complaint.ticket_id,
        status=complaint.status,
        title=redact(complaint.title),
        agency_code=complaint.agency_code,
        received_at=complaint.received_at,
        updated_at=complaint.updated_at,
        replies=[Message(m.kind, redact(m.text), "", m.agency_code, m.created_at) for m in replies],
        attachments=list(complaint.attachments),
        rating=complaint.rating,
        notifications=notifications,
        merged_into=complaint.merged_into,
    )


def _public(record: PublicRecord) -> PublicRecord:
    """Redact the free text; round the point; drop the location of an anonymous complaint."""
    location = None
    if record.location is not None and not record.anonymous:
        lat, lon = record.location.latitude, record.location.longitude
        location = dataclasses.replace(
            record.location,
            latitude=round(lat, PUBLIC_COORDINATE_DECIMALS) if lat is not None else None,
            longitude=round(lon, PUBLIC_COORDINATE_DECIMALS) if lon is not None else None,
            address=redact(record.location.address),
        )
    return dataclasses.replace(
        record,
        title=redact(record.title),
        description=redact(record.description),
        location=location,
        replies=tuple(Message(m.kind, redact(m.text), "", m.agency_code, m.created_at) for m in record.replies),
    )


def list_public_complaints(query: PublicQuery, page: Page, *, uow: UnitOfWork) -> tuple[list[PublicRecord], str]:
    """The public view of a government's complaints, newest first; open to anyone.

    Confidential complaints are left out by the repository's query itself; what comes back
    has its text redacted, its point rounded, and no location at all when anonymous.
    """
    violations: list[FieldViolation] = []
    if not query.government_code.strip():
        violations.append(FieldViolation("government_code", "is required"))
    if len(query.ticket_ids) > MAX_PUBLIC_TICKETS:
        violations.append(FieldViolation("ticket_ids", f"at most {MAX_PUBLIC_TICKETS}"))
    if query.start and query.end and query.end <= query.start:
        violations.append(FieldViolation("end_time", "must be after start_time"))
    if violations:
        raise InvalidArgument(violations)
    tickets = tuple(t.strip().upper() for t in query.ticket_ids)
    with uow:
        records, token = uow.complaints.list_public(dataclasses.replace(query, ticket_ids=tickets), page)
    return [_public(r) for r in records], token


def verify_complaint(ticket_id: str, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """Verifikasi by the coordinator."""
    now = uow.clock.now()
    return _change(ticket_id, uow=uow, actor=actor, roles=OFFICERS, apply=lambda c: c.verify(now=now))


def assign_complaint(cmd: AssignComplaint, *, uow: UnitOfWork, actor: Identity, sla: SlaPolicy) -> Complaint:
    """Disposisi to an agency this service knows; a re-route keeps the chain of assignments."""
    actor.require_role(*OFFICERS)
    agency_code = cmd.agency_code.strip()
    with uow:
        complaint = _load(uow, cmd.ticket_id)
        _may_act(actor, complaint)
        if not agency_code:
            # No agency named: the category's default routing for this government, if it has one.
            saved = uow.categories.get(complaint.government_code, complaint.category_code)
            agency_code = saved.default_agency_code if saved else ""
            if not agency_code:
                raise InvalidArgument.field(
                    "agency_code", f"is required: category {complaint.category_code} has no default agency"
                )
        if not uow.directory.agency_exists(complaint.government_code, agency_code):
            raise FailedPrecondition(
                f"agency {agency_code} of government {complaint.government_code} is not known to this service"
            )
        complaint.assign(agency_code, reason=cmd.reason, actor=actor.sub, sla=sla, now=uow.clock.now())
        _save_with_duplicates(uow, complaint)
        uow.commit()
        return complaint


def start_work(ticket_id: str, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """The agency takes the complaint up."""
    now = uow.clock.now()
    return _change(ticket_id, uow=uow, actor=actor, roles=HANDLERS, apply=lambda c: c.start_work(now=now))


def respond_to_complaint(ticket_id: str, text: str, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """Publish the agency's answer (tindak lanjut)."""
    now = uow.clock.now()
    return _change(
        ticket_id, uow=uow, actor=actor, roles=HANDLERS, apply=lambda c: c.respond(text, actor=actor.sub, now=now)
    )


def add_internal_note(ticket_id: str, text: str, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """A note for staff only."""
    now = uow.clock.now()
    return _change(
        ticket_id, uow=uow, actor=actor, roles=HANDLERS, apply=lambda c: c.add_note(text, actor=actor.sub, now=now)
    )


def resolve_complaint(ticket_id: str, *, uow: UnitOfWork, actor: Identity, sla: SlaPolicy) -> Complaint:
    """Mark the complaint settled; the auto-close clock starts."""
    now = uow.clock.now()
    return _change(ticket_id, uow=uow, actor=actor, roles=OFFICERS, apply=lambda c: c.resolve(sla=sla, now=now))


def close_complaint(ticket_id: str, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """Archive a resolved complaint."""
    now = uow.clock.now()
    return _change(ticket_id, uow=uow, actor=actor, roles=OFFICERS, apply=lambda c: c.close(now=now))


def reject_complaint(cmd: RejectComplaint, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """Spam, not our authority, or not eligible — with a reason the complainant can read."""
    now = uow.clock.now()
    return _change(
        cmd.ticket_id, uow=uow, actor=actor, roles=OFFICERS, apply=lambda c: c.reject(cmd.reason, cmd.note, now=now)
    )


def tighten_confidentiality(cmd: TightenConfidentiality, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """Set anonymous and/or confidential; staff can never relax them."""
    now = uow.clock.now()
    return _change(
        cmd.ticket_id,
        uow=uow,
        actor=actor,
        roles=OFFICERS,
        apply=lambda c: c.tighten(anonymous=cmd.anonymous, confidential=cmd.confidential, now=now),
    )


def reopen_complaint(cmd: ReopenComplaint, *, uow: UnitOfWork, sla: SlaPolicy, pins: PinGuard) -> Complaint:
    """The complainant, with ticket and PIN, sends the complaint back to work."""
    with uow:
        complaint = _by_pin(uow, cmd.ticket_id, cmd.pin, pins)
        complaint.reopen(cmd.reason, sla=sla, now=uow.clock.now())
        _save_with_duplicates(uow, complaint)
        uow.commit()
        return complaint


def _by_pin(uow: UnitOfWork, ticket_id: str, pin: str, pins: PinGuard) -> Complaint:
    """The complaint of `ticket_id` when `pin` is its PIN (inside an open unit of work)."""
    ticket_id = check_ticket_id(ticket_id)
    complaint = uow.complaints.get(ticket_id)
    pins.admit(ticket_id, pin, complaint.pin_hash if complaint is not None else None, uow.clock.now())
    if complaint is None:  # admit raised already; this tells the type checker
        raise NotFound(_NOT_FOUND)
    return complaint


def add_photo(
    cmd: AddPhoto, *, uow: UnitOfWork, photos: PhotoStore, pins: PinGuard, actor: Identity = ANONYMOUS
) -> tuple[Complaint, Attachment]:
    """Attach a photo: the complainant with ticket and PIN, or a handler of the complaint.

    The bytes are checked before anything is loaded or stored (type from the magic bytes, size
    against the store's limit); the same photo twice is one attachment.
    """
    if not cmd.pin:
        actor.require_role(*HANDLERS)
    photo = check_photo(cmd.content, max_bytes=photos.max_bytes, field="content")
    with uow:
        if cmd.pin:
            complaint = _by_pin(uow, cmd.ticket_id, cmd.pin, pins)
            source, by = AttachmentSource.COMPLAINANT, ""
        else:
            complaint = _load(uow, cmd.ticket_id)
            _may_act(actor, complaint)
            source, by = AttachmentSource.STAFF, actor.sub
        known = len(complaint.attachments)
        attachment = complaint.attach(photo, source=source, actor=by, now=uow.clock.now())
        if len(complaint.attachments) > known:
            _store_photos(photos, [photo])
            uow.complaints.save(complaint)
            uow.commit()
        return complaint, attachment


@dataclass(frozen=True)
class AttachChannelMessage:
    """A follow-up message of a channel — a photo or a location without text — from a sender."""

    government_code: str
    channel: Channel
    sender_phone: str
    window: dt.timedelta
    photo: bytes = b""
    location: Location | None = None


#: The longest a follow-up message may come after the sender's complaint and still join it.
MAX_ATTACH_WINDOW = dt.timedelta(days=1)
_FOLLOW_UP_CHANNELS = (Channel.WHATSAPP, Channel.SMS)


def attach_channel_message(
    cmd: AttachChannelMessage, *, uow: UnitOfWork, photos: PhotoStore, actor: Identity
) -> tuple[Complaint, bool]:
    """Join a channel's follow-up message to the sender's newest complaint through that channel,
    filed within `window`; return it and whether anything changed. Channel gateways only.

    People send a WhatsApp complaint as a text, then a photo, then their location: the photo is
    attached as the complainant's (the same photo twice is one), the location becomes the
    complaint's point unless it has one (Complaint.place). NotFound when the sender filed
    nothing through the channel within the window; the gateway then decides what to do.
    """
    actor.require_role(Role.SERVICE)
    government_code = cmd.government_code.strip()
    actor.require_government(government_code)
    violations: list[FieldViolation] = []
    if cmd.channel not in _FOLLOW_UP_CHANNELS:
        violations.append(FieldViolation("channel", "must be whatsapp or sms"))
    phone = normalize_phone(cmd.sender_phone.strip())
    if not phone.startswith("+") or not phone[1:].isdigit() or not 8 <= len(phone) <= 16:
        violations.append(FieldViolation("sender_phone", "must be a phone number like +6281225550101"))
    if not dt.timedelta(0) < cmd.window <= MAX_ATTACH_WINDOW:
        violations.append(FieldViolation("window", "must be more than 0 and at most a day"))
    if not cmd.photo and cmd.location is None:
        violations.append(FieldViolation("photo", "a photo or a location is required"))
    photo: Photo | None = None
    location: Location | None = None
    try:
        photo = check_photo(cmd.photo, max_bytes=photos.max_bytes, field="photo") if cmd.photo else None
    except InvalidArgument as exc:
        violations += exc.violations
    try:
        location = check_location(cmd.location) if cmd.location is not None else None
    except InvalidArgument as exc:
        violations += exc.violations
    if location is not None and location.latitude is None:
        violations.append(FieldViolation("location", "a point (latitude, longitude) is required"))
    if violations:
        raise InvalidArgument(violations)
    with uow:
        now = uow.clock.now()
        since = now - cmd.window
        refs = uow.complainants.refs_by_phone(phone, since)
        ticket = uow.complaints.latest_from(government_code, cmd.channel, refs, since)
        complaint = uow.complaints.get(ticket) if ticket else None
        if complaint is None:
            raise NotFound(f"no complaint from this sender through {cmd.channel.value} in the last {cmd.window}")
        changed = False
        if photo is not None:
            known = len(complaint.attachments)
            complaint.attach(photo, source=AttachmentSource.COMPLAINANT, actor="", now=now)
            if len(complaint.attachments) > known:
                _store_photos(photos, [photo])
                changed = True
        if location is not None:
            changed = complaint.place(location, now=now) or changed
        if changed:
            uow.complaints.save(complaint)
            uow.commit()
        return complaint, changed


def get_photo(
    ticket_id: str,
    sha256: str,
    *,
    uow: UnitOfWork,
    photos: PhotoStore,
    pins: PinGuard,
    actor: Identity = ANONYMOUS,
    pin: str = "",
) -> tuple[Attachment, bytes]:
    """A photo of a complaint: for anyone when the complaint is not confidential, else for its staff or complainant.

    A confidential complaint's photo is NotFound to everyone else, as an unknown photo is.
    """
    sha256 = check_sha256(sha256)
    with uow:
        if pin:
            complaint = _by_pin(uow, ticket_id, pin, pins)
        else:
            complaint = uow.complaints.get(ticket_id.strip().upper())
            if complaint is None:
                raise NotFound(f"no photo {sha256} on complaint {ticket_id}")
            if complaint.confidential:
                if not actor.has_role(*READERS):
                    raise NotFound(f"no photo {sha256} on complaint {ticket_id}")
                _may_act(actor, complaint)
    attachment = next((a for a in complaint.attachments if a.sha256 == sha256), None)
    if attachment is None:
        raise NotFound(f"no photo {sha256} on complaint {complaint.ticket_id}")
    content = photos.get(sha256)
    if content is None:
        raise NotFound(f"the content of photo {sha256} is missing from the photo store")
    return attachment, content


@dataclass(frozen=True)
class RateComplaint:
    ticket_id: str
    pin: str
    score: int
    comment: str = ""


def rate_complaint(cmd: RateComplaint, *, uow: UnitOfWork, pins: PinGuard) -> Complaint:
    """The complainant, with ticket and PIN, rates a resolved or closed complaint, once."""
    with uow:
        complaint = _by_pin(uow, cmd.ticket_id, cmd.pin, pins)
        complaint.rate(cmd.score, cmd.comment, now=uow.clock.now())
        _save_with_duplicates(uow, complaint)
        uow.commit()
        return complaint


def get_complainant_identity(ticket_id: str, reason: str, *, uow: UnitOfWork, actor: Identity) -> Complainant:
    """The complainant's identity, for a complaints officer or admin of the government; every read is logged."""
    actor.require_role(*OFFICERS)
    reason = " ".join(reason.split())
    if not 10 <= len(reason) <= 500:
        raise InvalidArgument.field("reason", "say why you need the identity (10 to 500 characters)")
    with uow:
        complaint = _load(uow, ticket_id)
        actor.require_government(complaint.government_code)
        complainant = uow.complainants.get(complaint.reporter_ref)
        if complainant is None:
            raise NotFound(f"complaint {complaint.ticket_id} has no recorded complainant")
        uow.complainants.log_access(
            reporter_ref=complaint.reporter_ref,
            ticket_id=complaint.ticket_id,
            actor=actor.sub,
            reason=reason,
            government_code=complaint.government_code,
            at=uow.clock.now(),
        )
        uow.commit()
        return complainant


# Categories, edited by each government's admins over the configured list.


@dataclass(frozen=True)
class SaveCategory:
    government_code: str
    category: Category
    default_agency_code: str = ""
    active: bool = True
    # For an update: the version read before (0: whatever is stored).
    expected_version: int = 0


def list_categories(
    government_code: str, *, uow: UnitOfWork, configured: Sequence[Category]
) -> list[GovernmentCategory]:
    """The categories of a government (configured ones overlaid by its saved ones), inactive included."""
    with uow:
        saved = uow.categories.list(government_code.strip()) if government_code.strip() else []
    return effective_categories(government_code.strip(), configured, saved)


def _check_default_agency(uow: UnitOfWork, government_code: str, agency_code: str) -> None:
    if agency_code and not uow.directory.agency_exists(government_code, agency_code):
        raise FailedPrecondition(f"agency {agency_code} of government {government_code} is not known to this service")


def create_category(
    cmd: SaveCategory, *, uow: UnitOfWork, actor: Identity, configured: Sequence[Category]
) -> GovernmentCategory:
    """A new category for one government (admin of it); AlreadyExists when the code is taken there."""
    actor.require_role(Role.ADMIN)
    government_code = cmd.government_code.strip()
    actor.require_government(government_code)
    category = check_category(cmd.category)
    with uow:
        if not uow.directory.government_exists(government_code):
            raise InvalidArgument.field("government_code", "is not a government known to this service")
        taken = {
            c.code for c in effective_categories(government_code, configured, uow.categories.list(government_code))
        }
        if category.code in taken:
            raise AlreadyExists(f"category {category.code} exists for government {government_code}; update it instead")
        _check_default_agency(uow, government_code, cmd.default_agency_code.strip())
        saved = GovernmentCategory(government_code, category).changed(
            category,
            default_agency_code=cmd.default_agency_code,
            active=cmd.active,
            expected_version=0,
            actor=actor.sub,
            now=uow.clock.now(),
        )
        uow.categories.save(saved)
        uow.commit()
        return saved


def update_category(
    cmd: SaveCategory, *, uow: UnitOfWork, actor: Identity, configured: Sequence[Category]
) -> GovernmentCategory:
    """Change a category of one government (admin of it); Conflict when `expected_version` is stale.

    A configured category nobody edited yet is at version 0: its first save stores it for this
    government. Existing complaints keep their category code; only new filings and default
    routing follow the change.
    """
    actor.require_role(Role.ADMIN)
    government_code = cmd.government_code.strip()
    actor.require_government(government_code)
    code = cmd.category.code.strip()
    with uow:
        current = next(
            (
                c
                for c in effective_categories(government_code, configured, uow.categories.list(government_code))
                if c.code == code
            ),
            None,
        )
        if current is None:
            raise NotFound(f"no category {code} for government {government_code}")
        saved = current.changed(
            cmd.category,
            default_agency_code=cmd.default_agency_code,
            active=cmd.active,
            expected_version=cmd.expected_version,
            actor=actor.sub,
            now=uow.clock.now(),
        )
        _check_default_agency(uow, government_code, saved.default_agency_code)
        uow.categories.save(saved)
        uow.commit()
        return saved


# Notifications to complainants: claimed, delivered by the dispatcher's adapter, then marked.

DISPATCHER = "notification-dispatcher"


@dataclass(frozen=True)
class Delivery:
    """A claimed notification and, when asked for, the complainant's e-mail address ("" for none)."""

    notification: OutboundNotification
    email: str = ""


def claim_notifications(limit: int, *, uow: UnitOfWork, with_email: bool) -> list[Delivery]:
    """Take up to `limit` due notifications for delivery (each held for a lease).

    With `with_email` (an e-mail adapter is configured), the complainant's address is read
    from the identity store — logged like every identity read — and handed to the adapter
    only; it is never written anywhere else.
    """
    out: list[Delivery] = []
    with uow:
        now = uow.clock.now()
        for notification in uow.notifications.due(now, limit):
            notification.claim(now)
            uow.notifications.save(notification)
            email = ""
            if with_email:
                complaint = uow.complaints.get(notification.ticket_id)
                person = uow.complainants.get(complaint.reporter_ref) if complaint else None
                if complaint is not None and person is not None and person.email:
                    email = person.email
                    uow.complainants.log_access(
                        reporter_ref=complaint.reporter_ref,
                        ticket_id=complaint.ticket_id,
                        actor=DISPATCHER,
                        reason=f"mengirim pemberitahuan {notification.kind.value} kepada pelapor",
                        government_code=complaint.government_code,
                        at=now,
                    )
            out.append(Delivery(notification, email))
        uow.commit()
    return out


def notification_delivered(notification_id: int, via: str, *, uow: UnitOfWork) -> None:
    """The adapter `via` delivered it."""
    with uow:
        notification = uow.notifications.get(notification_id)
        if notification is None:
            raise NotFound(f"no notification {notification_id}")
        notification.delivered(via, uow.clock.now())
        uow.notifications.save(notification)
        uow.commit()


def notification_failed(
    notification_id: int, error: str, *, uow: UnitOfWork, max_attempts: int = MAX_ATTEMPTS
) -> OutboundNotification:
    """The adapter failed: retried after a backoff, or given up after `max_attempts`."""
    with uow:
        notification = uow.notifications.get(notification_id)
        if notification is None:
            raise NotFound(f"no notification {notification_id}")
        notification.failed(error, uow.clock.now(), max_attempts=max_attempts)
        uow.notifications.save(notification)
        uow.commit()
        return notification


# Duplicates: suggested at intake and on request, merged by officers.


DEFAULT_DUPLICATES = DuplicatePolicy()
#: How many recent complaints a duplicate search compares at most: on request, and at intake
#: (where it runs on every filing: ~0.3 ms of CPU in the worst case of 100 near candidates, with the
#: pool's reports and term counts cached; it was ~3.5 ms reading and tokenising them every time).
DUPLICATE_POOL = 300
INTAKE_DUPLICATE_POOL = 100


def _duplicates_of(
    uow: UnitOfWork, complaint: Complaint, policy: DuplicatePolicy, pool_size: int = DUPLICATE_POOL
) -> list[DuplicateCandidate]:
    report = report_of(complaint)
    pool = uow.complaints.duplicate_pool(report, window=policy.window, radius_m=policy.radius_m, limit=pool_size)
    return likely_duplicates(report, pool, policy)


def list_duplicate_candidates(
    ticket_id: str, *, uow: UnitOfWork, actor: Identity, policy: DuplicatePolicy = DEFAULT_DUPLICATES
) -> list[tuple[DuplicateCandidate, Complaint]]:
    """The complaints that likely report the same problem, best first, for staff of the government."""
    actor.require_role(*READERS)
    with uow:
        complaint = _load(uow, ticket_id)
        _may_act(actor, complaint)
        out: list[tuple[DuplicateCandidate, Complaint]] = []
        for candidate in _duplicates_of(uow, complaint, policy):
            other = uow.complaints.get(candidate.ticket_id)
            if other is not None:
                out.append((candidate, other))
        return out


@dataclass(frozen=True)
class MergeComplaints:
    primary_ticket_id: str
    duplicate_ticket_id: str
    reason: str


def merge_complaints(cmd: MergeComplaints, *, uow: UnitOfWork, actor: Identity) -> Complaint:
    """Merge a duplicate into its primary (officers): it follows the primary from now on; returns the duplicate."""
    actor.require_role(*OFFICERS)
    with uow:
        primary = _load(uow, cmd.primary_ticket_id)
        duplicate = _load(uow, cmd.duplicate_ticket_id)
        _may_act(actor, primary)
        _may_act(actor, duplicate)
        duplicate.merge_into(
            primary,
            reason=cmd.reason,
            actor=actor.sub,
            has_duplicates=bool(uow.complaints.merged_into(duplicate.ticket_id)),
            now=uow.clock.now(),
        )
        uow.complaints.save(duplicate)
        uow.commit()
        return duplicate


def scan_sla(limit: int, *, uow: UnitOfWork) -> int:
    """Advance the SLA clocks of up to `limit` complaints that have something due; return how many.

    One transaction per complaint, saved with its version: a scan racing another scan or a
    staff action loses cleanly (Conflict) and the complaint is looked at again next time.
    """
    with uow:
        now = uow.clock.now()
        tickets = uow.complaints.due_for_sla(now, limit)
    for ticket_id in tickets:
        try:
            with uow:
                complaint = uow.complaints.get(ticket_id)
                if complaint is None:
                    continue
                status = complaint.status
                complaint.check_sla(now)
                if complaint.status is not status:  # closed by itself: its duplicates follow
                    _save_with_duplicates(uow, complaint)
                else:
                    uow.complaints.save(complaint)
                uow.commit()
        except Conflict:
            continue
    return len(tickets)


# The governor's board.

#: Days (WIB) after which a day's intake shards are folded: yesterday may still be filed into
#: by late deliveries; older days only by rare back-dated imports.
FOLD_AFTER_DAYS = 2


def fold_board_shards(*, uow: UnitOfWork) -> int:
    """Fold the board's per-day intake shards of days older than FOLD_AFTER_DAYS; return rows written."""
    with uow:
        today = uow.clock.now().astimezone(JAKARTA).date()
        written = uow.board.fold_shards(today - dt.timedelta(days=FOLD_AFTER_DAYS))
        uow.commit()
    return written


#: The longest period the board aggregates over in one query.
MAX_BOARD_DAYS = 400


@dataclass(frozen=True)
class BoardView:
    """The board as the caller may see it: `entries` carry a pseudonymous reporter reference only."""

    board: Board
    entries: list[BoardLine]


@dataclass(frozen=True)
class BoardLine:
    """One complaint on the board after confidentiality: never the reporter_ref, never identity."""

    entry: BoardEntry
    title: str
    reporter_reference: str


def reporter_reference(reporter_ref: str) -> str:
    """A stable pseudonym for the reporter of one complaint: it names the report, not the person.

    One-way (a hash of the random reporter_ref), so it cannot be used to look up the identity;
    reading the identity stays GetComplainantIdentity's, with its reason and its audit log.
    """
    return "PLP-" + hashlib.sha256(f"grms-board:{reporter_ref}".encode()).hexdigest()[:10].upper()


def complaint_board(query: BoardQuery, page: Page, *, uow: UnitOfWork, actor: Identity) -> BoardView:
    """The governor's board for staff who read complaints (READERS) of the government.

    An agency officer scoped to some agencies sees only those. The reporter is shown as a
    pseudonymous reference: never for an anonymous complaint, and for a confidential one only
    to complaints officers and admins, who also alone see a confidential complaint's title.
    """
    actor.require_role(*READERS)
    violations: list[FieldViolation] = []
    government_code = query.government_code.strip()
    if not government_code:
        violations.append(FieldViolation("government_code", "is required"))
    if query.end <= query.start:
        violations.append(FieldViolation("period.end_time", "must be after period.start_time"))
    elif query.end - query.start > dt.timedelta(days=MAX_BOARD_DAYS):
        violations.append(FieldViolation("period", f"must be at most {MAX_BOARD_DAYS} days"))
    if violations:
        raise InvalidArgument(violations)
    actor.require_government(government_code)
    agencies = frozenset(a.strip() for a in query.agency_codes if a.strip())
    if not actor.has_role(*OFFICERS) and actor.agencies:
        outside = agencies - actor.agencies
        if outside:
            raise PermissionDenied(f"agency {sorted(outside)[0]} is not yours")
        agencies = agencies or actor.agencies
    with uow:
        uow.read_snapshot()  # sums and live counts from one moment, or an SLA scan between them counts twice
        board = uow.board.read(
            dataclasses.replace(query, government_code=government_code, agency_codes=agencies), page, uow.clock.now()
        )
    return BoardView(board=board, entries=_lines(board.entries, officer=actor.has_role(*OFFICERS)))


def _lines(entries: list[BoardEntry], *, officer: bool, handler: bool = False) -> list[BoardLine]:
    """Confidentiality on each line: who may read the title and see the reporter reference."""
    lines = []
    for entry in entries:
        readable = officer or handler or not entry.confidential
        lines.append(
            BoardLine(
                entry=entry,
                title=redact(entry.title) if readable else "",
                reporter_reference=reporter_reference(entry.reporter_ref)
                if (officer or not entry.confidential) and not entry.anonymous
                else "",
            )
        )
    return lines


@dataclass(frozen=True)
class Inbox:
    """The handlers' inbox: open complaints, oldest first, as of `as_of`."""

    entries: list[BoardLine]
    next_page_token: str
    as_of: dt.datetime


def list_inbox(government_code: str, agency_code: str, page: Page, *, uow: UnitOfWork, actor: Identity) -> Inbox:
    """The open complaints a handler works on: their agencies' (officers and admins: the whole government).

    Handlers read the title of a confidential complaint routed to them (they must answer it);
    the reporter reference follows the board's rules.
    """
    actor.require_role(*HANDLERS)
    government_code = government_code.strip()
    if not government_code:
        raise InvalidArgument.field("government_code", "is required")
    actor.require_government(government_code)
    agencies = frozenset({agency_code.strip()}) if agency_code.strip() else frozenset()
    if not actor.has_role(*OFFICERS) and actor.agencies:
        if agencies - actor.agencies:
            raise PermissionDenied(f"agency {agency_code.strip()} is not yours")
        agencies = agencies or actor.agencies
    query = BoardQuery(government_code=government_code, start=_EPOCH, end=_EPOCH, agency_codes=agencies)
    with uow:
        now = uow.clock.now()
        entries, token = uow.board.inbox(query, page)
    lines = _lines(entries, officer=actor.has_role(*OFFICERS), handler=True)
    return Inbox(entries=lines, next_page_token=token, as_of=now)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# Demo data.


@dataclass(frozen=True)
class SeedDemoComplaints:
    government_code: str
    months: int = 12
    per_month: int = 2000
    seed: int = 33


def seed_demo_complaints(
    cmd: SeedDemoComplaints, *, uow: UnitOfWork, sla: SlaPolicy, actor: Identity, batch: int = 2000
) -> int:
    """Load a demo history of complaints (domain.demo) through the bulk path; return how many were added.

    Admins only. Idempotent: a government that has demo complaints already gets none more (0).
    Its agencies must have arrived in this service's reference copy (FailedPrecondition otherwise).
    One transaction per `batch` complaints; the identities go to their own table as always.
    """
    actor.require_role(Role.ADMIN)
    government_code = cmd.government_code.strip()
    actor.require_government(government_code)
    violations: list[FieldViolation] = []
    if not 1 <= cmd.months <= 36:
        violations.append(FieldViolation("months", "must be 1 to 36"))
    if not 1 <= cmd.per_month <= 20000:
        violations.append(FieldViolation("per_month", "must be 1 to 20000"))
    if violations:
        raise InvalidArgument(violations)
    with uow:
        if uow.complaints.count_recorded_by(government_code, demo.DEMO_ACTOR):
            return 0
        agencies = uow.directory.agency_names(government_code)
        end = uow.clock.now()
    if not agencies:
        raise FailedPrecondition(f"no agencies of government {government_code} have reached this service yet")
    # One PIN hash for the whole demo year, that no PIN verifies: demo tickets are not trackable.
    pin_hash = unguessable_pin_hash()
    generated = demo.demo_complaints(
        government_code=government_code,
        agencies=agencies,
        sla=sla,
        start=end - dt.timedelta(days=round(30.4 * cmd.months)),
        end=end,
        per_month=cmd.per_month,
        pin_hash=pin_hash,
        rng=random.Random(cmd.seed),
    )
    added = 0
    chunk: list[tuple[Complaint, Complainant]] = []
    for pair in generated:
        chunk.append(pair)
        if len(chunk) >= batch:
            added += _bulk(uow, chunk)
            chunk = []
    added += _bulk(uow, chunk)
    return added


def _bulk(uow: UnitOfWork, chunk: list[tuple[Complaint, Complainant]]) -> int:
    if chunk:
        with uow:
            uow.complaints.bulk_add(chunk)
            uow.commit()
    return len(chunk)
