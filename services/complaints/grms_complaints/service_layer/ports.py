"""What the complaint use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from grms_kit.clock import Clock
from grms_kit.paging import Page

from grms_complaints.domain.categories import GovernmentCategory
from grms_complaints.domain.duplicates import Report
from grms_complaints.domain.model import Channel, Complainant, Complaint, ComplaintClass, Location, Message, Status
from grms_complaints.domain.notifications import OutboundNotification

__all__ = [
    "AgencyDirectory",
    "AgencyRow",
    "Board",
    "BoardDay",
    "BoardEntry",
    "BoardQuery",
    "CategoryRepository",
    "ComplainantRepository",
    "ComplaintBoard",
    "ComplaintRepository",
    "NotificationRepository",
    "PhotoStore",
    "PublicQuery",
    "PublicRecord",
    "UnitOfWork",
]


@dataclass(frozen=True)
class PublicQuery:
    """Which public complaints to list: one government, optionally narrowed."""

    government_code: str
    category_code: str = ""
    statuses: tuple[Status, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    ticket_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublicRecord:
    """The fields of a complaint that may be public: never identity, PIN hash or internal notes."""

    ticket_id: str
    government_code: str
    complaint_class: ComplaintClass
    category_code: str
    status: Status
    title: str
    description: str
    agency_code: str
    location: Location | None
    anonymous: bool
    received_at: dt.datetime
    updated_at: dt.datetime
    resolve_due_at: dt.datetime | None
    replies: tuple[Message, ...]
    # The primary complaint this one was merged into ("" for none): its page points there.
    merged_into: str = ""
    # The SHA-256 of the oldest photo ("" for none), for a public link to it (Open311 media_url).
    first_photo_sha256: str = ""


@dataclass(frozen=True)
class BoardQuery:
    """Which part of the governor's board: a government, a period of receipt, maybe some agencies."""

    government_code: str
    start: dt.datetime
    end: dt.datetime
    # Empty: every agency; otherwise only these (an agency officer's own).
    agency_codes: frozenset[str] = frozenset()
    open_only: bool = False


@dataclass(frozen=True)
class AgencyRow:
    """One agency's measures on the board (first-response figures in minutes)."""

    agency_code: str
    received: int = 0
    open: int = 0
    overdue: int = 0
    responded: int = 0
    median_first_response_minutes: int | None = None
    p90_first_response_minutes: int | None = None
    sla_decided: int = 0
    sla_met: int = 0
    oldest_open_ticket_id: str = ""
    oldest_open_received_at: dt.datetime | None = None


@dataclass(frozen=True)
class BoardDay:
    """One WIB day of the trend."""

    day: dt.date
    received: int = 0
    responded: int = 0
    breached: int = 0


@dataclass(frozen=True)
class BoardEntry:
    """One complaint on the board's list; `reporter_ref` never leaves the service layer."""

    ticket_id: str
    complaint_class: ComplaintClass
    category_code: str
    channel: Channel
    status: Status
    title: str
    reporter_ref: str
    anonymous: bool
    confidential: bool
    agency_code: str
    received_at: dt.datetime
    first_response_minutes: int | None
    resolution_minutes: int | None
    next_due_at: dt.datetime | None


@dataclass(frozen=True)
class Board:
    """The board as the read model computes it, before the use case applies confidentiality."""

    agencies: list[AgencyRow]
    totals: AgencyRow
    trend: list[BoardDay]
    entries: list[BoardEntry]
    next_page_token: str
    as_of: dt.datetime


class ComplaintBoard(Protocol):
    """The board's aggregates, computed by the database (never by loading complaints)."""

    def read(self, query: BoardQuery, page: Page, now: dt.datetime) -> Board: ...
    def inbox(self, query: BoardQuery, page: Page) -> tuple[list[BoardEntry], str]:
        """Open complaints of the government or of `query.agency_codes`, oldest first (the period is ignored)."""
        ...

    def fold_shards(self, before: dt.date) -> int:
        """Fold the per-day sums of days before `before` into one row per agency and day; return rows written."""
        ...


class ComplaintRepository(Protocol):
    """Complaints by ticket id, saved with optimistic concurrency on `version`."""

    def add(self, complaint: Complaint) -> None:
        """Insert; Conflict when its (government, channel, channel_message_id) is already filed."""
        ...

    def get(self, ticket_id: str) -> Complaint | None: ...
    def find_delivery(self, government_code: str, channel: Channel, channel_message_id: str) -> Complaint | None:
        """The complaint filed from this delivery of this channel for this government, if any."""
        ...

    def save(self, complaint: Complaint) -> None: ...
    def merged_into(self, ticket_id: str) -> list[Complaint]:
        """The complaints merged into `ticket_id` as duplicates."""
        ...

    def duplicate_pool(self, report: Report, *, window: dt.timedelta, radius_m: float, limit: int) -> list[Report]:
        """Recent, not rejected, not merged complaints of the government near `report`."""
        ...

    def due_for_sla(self, now: dt.datetime, limit: int) -> list[str]: ...
    def bulk_add(self, complaints: list[tuple[Complaint, Complainant]]) -> None:
        """Insert many new complaints with their identities (demo data, imports); no events."""
        ...

    def count_recorded_by(self, government_code: str, recorded_by: str) -> int: ...
    def latest_from(
        self, government_code: str, channel: Channel, reporter_refs: list[str], since: dt.datetime
    ) -> str | None:
        """The ticket of the newest complaint of these reporters through `channel` received at or after
        `since` and not merged into another; None for none."""
        ...

    def list_public(self, query: PublicQuery, page: Page) -> tuple[list[PublicRecord], str]:
        """Non-confidential complaints only, excluded in the query itself; newest first."""
        ...


class ComplainantRepository(Protocol):
    """The complainants' identities, apart from the complaints; every read is logged."""

    def add(self, complainant: Complainant) -> None: ...
    def get(self, reporter_ref: str) -> Complainant | None: ...
    def refs_by_phone(self, phone: str, since: dt.datetime) -> list[str]:
        """The reporter refs recorded at or after `since` with this (normalised) phone number.

        A match inside the service, for joining a channel's follow-up messages to the sender's
        complaint: no identity field leaves it, so it is not an identity read to log.
        """
        ...

    def log_access(
        self, *, reporter_ref: str, ticket_id: str, actor: str, reason: str, government_code: str, at: dt.datetime
    ) -> None: ...


class CategoryRepository(Protocol):
    """The categories each government's admins saved (over the configured list)."""

    def list(self, government_code: str) -> list[GovernmentCategory]: ...
    def get(self, government_code: str, code: str) -> GovernmentCategory | None: ...
    def save(self, category: GovernmentCategory) -> None:
        """Insert version 1 or update from version - 1; Conflict when the stored version differs."""
        ...


class NotificationRepository(Protocol):
    """The queue of messages to complainants (rows are added by the complaint repository's saves)."""

    def due(self, now: dt.datetime, limit: int) -> list[OutboundNotification]: ...
    def get(self, notification_id: int) -> OutboundNotification | None: ...
    def save(self, notification: OutboundNotification) -> None: ...
    def for_ticket(self, ticket_id: str) -> list[OutboundNotification]: ...


class PhotoStore(Protocol):
    """Photo content by SHA-256, outside the database; writing the same content twice stores it once."""

    #: The largest photo accepted, in bytes.
    max_bytes: int

    def put(self, sha256: str, content: bytes) -> None:
        """Store `content` under its hash (a no-op when it is there already)."""
        ...

    def get(self, sha256: str) -> bytes | None:
        """The content, or None when nothing is stored under `sha256`."""
        ...


class AgencyDirectory(Protocol):
    """This service's copy of the governments and agencies (from budgeting's events)."""

    def government_exists(self, code: str) -> bool: ...
    def agency_exists(self, government_code: str, code: str) -> bool: ...
    def agency_names(self, government_code: str) -> dict[str, str]: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; `commit()` also stores the raised events."""

    complaints: ComplaintRepository
    complainants: ComplainantRepository
    directory: AgencyDirectory
    categories: CategoryRepository
    notifications: NotificationRepository
    board: ComplaintBoard
    clock: Clock

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
