"""In-memory fakes of complaints's ports: the real handlers run on them with no I/O."""

from __future__ import annotations

import copy
import datetime as dt

from grms_complaints.domain.categories import GovernmentCategory
from grms_complaints.domain.duplicates import Report
from grms_complaints.domain.model import Channel, Complainant, Complaint, DomainEvent, Status
from grms_complaints.domain.notifications import OutboundNotification
from grms_kit.clock import ManualClock
from grms_kit.errors import Conflict


class FakeNotifications:
    def __init__(self) -> None:
        self.rows: dict[int, OutboundNotification] = {}

    def queue(self, complaint: Complaint) -> None:
        for n in complaint.outgoing:
            nid = len(self.rows) + 1
            self.rows[nid] = OutboundNotification(
                nid, complaint.ticket_id, complaint.channel.value, n.kind, n.text, n.created_at,
                next_attempt_at=n.created_at,
            )  # fmt: skip
        complaint.outgoing.clear()

    def due(self, now: dt.datetime, limit: int) -> list[OutboundNotification]:
        due = [n for n in self.rows.values() if n.next_attempt_at is not None and n.next_attempt_at <= now]
        return [copy.deepcopy(n) for n in sorted(due, key=lambda n: (n.next_attempt_at, n.id))[:limit]]

    def get(self, notification_id: int) -> OutboundNotification | None:
        found = self.rows.get(notification_id)
        return copy.deepcopy(found) if found else None

    def save(self, notification: OutboundNotification) -> None:
        self.rows[notification.id] = copy.deepcopy(notification)

    def for_ticket(self, ticket_id: str) -> list[OutboundNotification]:
        return [copy.deepcopy(n) for n in self.rows.values() if n.ticket_id == ticket_id]


class FakeComplaints:
    def __init__(self, notifications: FakeNotifications | None = None) -> None:
        self.rows: dict[str, Complaint] = {}
        self.seen: list[Complaint] = []
        self.notifications = notifications or FakeNotifications()

    def add(self, complaint: Complaint) -> None:
        # The unique constraint on (government, channel, channel_message_id), as the database has it.
        if complaint.channel_message_id and self._delivery(
            complaint.government_code, complaint.channel, complaint.channel_message_id
        ):
            raise Conflict("delivery already filed")
        self.notifications.queue(complaint)
        self.rows[complaint.ticket_id] = copy.deepcopy(complaint)
        self.seen.append(complaint)

    def _delivery(self, government_code: str, channel: Channel, channel_message_id: str) -> str | None:
        key = (government_code, channel, channel_message_id)
        found = [t for t, c in self.rows.items() if (c.government_code, c.channel, c.channel_message_id) == key]
        return found[0] if found else None

    def find_delivery(self, government_code: str, channel: Channel, channel_message_id: str) -> Complaint | None:
        ticket = self._delivery(government_code, channel, channel_message_id)
        return self.get(ticket) if ticket else None

    def get(self, ticket_id: str) -> Complaint | None:
        found = self.rows.get(ticket_id)
        if found is None:
            return None
        loaded = copy.deepcopy(found)
        loaded.events = []
        return loaded

    def save(self, complaint: Complaint) -> None:
        if self.rows[complaint.ticket_id].version != complaint.version:
            raise Conflict("changed by someone else")
        complaint.version += 1
        self.notifications.queue(complaint)
        stored = copy.deepcopy(complaint)
        stored.events = []
        self.rows[complaint.ticket_id] = stored
        self.seen.append(complaint)

    def merged_into(self, ticket_id: str) -> list[Complaint]:
        return [c for c in (self.get(t) for t in sorted(self.rows)) if c is not None and c.merged_into == ticket_id]

    def duplicate_pool(self, report: Report, *, window: dt.timedelta, radius_m: float, limit: int) -> list[Report]:
        pool = [
            Report(
                c.ticket_id,
                c.government_code,
                c.category_code,
                f"{c.title}\n{c.description}",
                c.received_at,
                c.location.latitude,
                c.location.longitude,
                c.location.village_code,
            )
            for c in self.rows.values()
            if c.ticket_id != report.ticket_id
            and c.government_code == report.government_code
            and not c.merged_into
            and c.status is not Status.REJECTED
            and abs(c.received_at - report.received_at) <= window
            and (
                report.latitude is not None
                or (
                    c.location.village_code == report.village_code
                    if report.village_code
                    else c.category_code == report.category_code
                )
            )
        ]
        return sorted(pool, key=lambda r: r.received_at, reverse=True)[:limit]

    def latest_from(
        self, government_code: str, channel: Channel, reporter_refs: list[str], since: dt.datetime
    ) -> str | None:
        found = sorted(
            (c.received_at, c.ticket_id)
            for c in self.rows.values()
            if c.government_code == government_code
            and c.channel == channel
            and c.reporter_ref in reporter_refs
            and c.received_at >= since
            and not c.merged_into
        )
        return found[-1][1] if found else None

    def due_for_sla(self, now: dt.datetime, limit: int) -> list[str]:
        due = sorted(
            (d.next_check_at, c.ticket_id)
            for c in self.rows.values()
            for d in c.deadlines
            if d.next_check_at is not None and d.next_check_at <= now
        )
        tickets: list[str] = []
        for _, ticket in due:
            if ticket not in tickets:
                tickets.append(ticket)
        return tickets[:limit]


class FakeComplainants:
    def __init__(self) -> None:
        self.rows: dict[str, Complainant] = {}
        self.access_log: list[dict[str, object]] = []

    def add(self, complainant: Complainant) -> None:
        self.rows[complainant.reporter_ref] = complainant

    def get(self, reporter_ref: str) -> Complainant | None:
        return self.rows.get(reporter_ref)

    def refs_by_phone(self, phone: str, since: dt.datetime) -> list[str]:
        return [ref for ref, c in self.rows.items() if c.phone == phone]

    def log_access(self, **entry: object) -> None:
        self.access_log.append(entry)


class FakeCategories:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], GovernmentCategory] = {}

    def list(self, government_code: str) -> list[GovernmentCategory]:
        return [c for (g, _), c in sorted(self.rows.items()) if g == government_code]

    def get(self, government_code: str, code: str) -> GovernmentCategory | None:
        return self.rows.get((government_code, code))

    def save(self, category: GovernmentCategory) -> None:
        stored = self.rows.get((category.government_code, category.code))
        if (stored.version if stored else 0) != category.version - 1:
            raise Conflict("saved meanwhile")
        self.rows[(category.government_code, category.code)] = category


class FakeDirectory:
    def __init__(self) -> None:
        self.governments = {"33", "33.74"}
        self.agencies = {("33", "DINKES"), ("33", "DPUBMCK"), ("33.74", "DISPERKIM")}

    def government_exists(self, code: str) -> bool:
        return code in self.governments

    def agency_exists(self, government_code: str, code: str) -> bool:
        return (government_code, code) in self.agencies


class FakeUnitOfWork:
    """Commits by moving raised events to `published`; an uncommitted unit of work leaves no trace."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        self.notifications = FakeNotifications()
        self.complaints = FakeComplaints(self.notifications)
        self.complainants = FakeComplainants()
        self.directory = FakeDirectory()
        self.categories = FakeCategories()
        self.clock = clock or ManualClock()
        self.published: list[DomainEvent] = []
        self.commits = 0
        self._snapshot: tuple[dict[str, Complaint], dict[str, Complainant], int, dict] | None = None  # type: ignore[type-arg]

    def __enter__(self) -> FakeUnitOfWork:
        self.complaints.seen = []
        self._snapshot = (
            dict(self.complaints.rows),
            dict(self.complainants.rows),
            len(self.complainants.access_log),
            dict(self.categories.rows),
            copy.deepcopy(self.notifications.rows),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._snapshot is not None:  # not committed: roll back
            rows, people, logged, categories, notifications = self._snapshot
            self.notifications.rows = notifications
            self.complaints.rows = rows
            self.complainants.rows = people
            self.categories.rows = categories
            del self.complainants.access_log[logged:]
        self._snapshot = None

    def commit(self) -> None:
        self.commits += 1
        self._snapshot = None
        for complaint in self.complaints.seen:
            self.published.extend(complaint.events)
            complaint.events.clear()
        self.complaints.seen = []


class FakePhotoStore:
    """Photos in a dict by hash, with the same contract as the file store."""

    def __init__(self, max_bytes: int = 5 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.blobs: dict[str, bytes] = {}
        self.writes = 0

    def put(self, sha256: str, content: bytes) -> None:
        self.writes += 1
        self.blobs.setdefault(sha256, content)

    def get(self, sha256: str) -> bytes | None:
        return self.blobs.get(sha256)
