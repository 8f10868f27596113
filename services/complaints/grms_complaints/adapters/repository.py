"""SQL repositories for complaints, complainants and the reference copy (SQLAlchemy Core, explicit mapping)."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Any

from grms_kit.clock import Clock
from grms_kit.errors import Conflict, InvalidArgument
from grms_kit.paging import Page
from grms_kit.uow import RowWriter
from grms_reference.tables import ReferenceTables
from sqlalchemy import and_, bindparam, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grms_complaints.adapters.report_cache import ReportCache
from grms_complaints.adapters.tables import (
    complainant as complainant_table,
)
from grms_complaints.adapters.tables import (
    complaint as complaint_table,
)
from grms_complaints.adapters.tables import (
    complaint_assignment,
    complaint_attachment,
    complaint_category,
    complaint_message,
    complaint_notification,
    identity_access_log,
    sla_deadline,
)
from grms_complaints.domain import board as board_rules
from grms_complaints.domain.attachments import Attachment, AttachmentSource
from grms_complaints.domain.categories import Category, GovernmentCategory
from grms_complaints.domain.duplicates import Report, report_of
from grms_complaints.domain.model import (
    Assignment,
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
    SubmitterRole,
)
from grms_complaints.domain.notifications import DeliveryStatus, NotificationKind, OutboundNotification
from grms_complaints.domain.sla import Deadline, DeadlineKind
from grms_complaints.service_layer.ports import PublicQuery, PublicRecord

__all__ = [
    "BOARD_SHARDS",
    "SqlAgencyDirectory",
    "SqlCategoryRepository",
    "SqlComplainantRepository",
    "SqlComplaintRepository",
    "SqlNotificationRepository",
    "remember_filed",
]

#: Rows per agency and day that concurrent filings spread over (see complaint_board_day.shard).
BOARD_SHARDS = 8


class SqlComplaintRepository:
    """Complaints with their assignments, messages and deadlines, saved with optimistic concurrency."""

    def __init__(self, session: Session, reports: ReportCache | None = None, writes: RowWriter | None = None) -> None:
        self.session = session
        # New child rows (history, deadlines, photos, notifications) go through `writes`: under a
        # group commit they are written once per batch (nothing in the batch reads them back).
        self.writes = writes or RowWriter(session)
        # Shared by the service's units of work (bootstrap); without one, nothing outlives this one.
        self.reports = reports if reports is not None else ReportCache(1000)
        self.seen: list[Complaint] = []
        #: The complaints this unit of work filed (see `remember_filed`).
        self.filed: list[Report] = []
        # What each loaded complaint had in the database: history rows are append-only.
        self._stored: dict[str, tuple[int, int, set[tuple[str, int]]]] = {}
        self._stored_attachments: dict[str, int] = {}
        # The board's read model: what each loaded complaint contributed, and the changes
        # to write at commit ((government, agency, day, measure) → +/- count).
        self._board: dict[str, dict[board_rules.Key, int]] = {}
        self.board_delta: dict[tuple[str, str, dt.date | None, str, int], int] = {}
        # The shard of the board's rows this transaction's filings count in (PostgreSQL only:
        # SQLite has one writer at a time anyway); every other change counts in shard 0.
        postgres = session.get_bind().dialect.name == "postgresql"
        self._intake_shard = secrets.randbelow(BOARD_SHARDS) if postgres else 0

    def _count_on_board(self, complaint: Complaint, shard: int = 0) -> None:
        """Add the difference the complaint's new state makes to the board's sums."""
        after = board_rules.contribution(board_rules.facts_of(complaint))
        before = self._board.get(complaint.ticket_id, {})
        for (agency, day, measure), n in board_rules.difference(after, before).items():
            key = (complaint.government_code, agency, day, measure, shard)
            self.board_delta[key] = self.board_delta.get(key, 0) + n
        self._board[complaint.ticket_id] = after

    def add(self, complaint: Complaint) -> None:
        """Insert a new complaint and its children; Conflict when its delivery was filed meanwhile.

        After a Conflict the unit of work must be left without commit (its transaction, or its
        savepoint under a group commit, is rolled back): no savepoint of its own here.
        """
        if complaint.channel_message_id:
            try:
                # Now, alone: the delivery's uniqueness must answer this filing (Conflict), not its batch.
                # Parameters apart from the statement: a constant statement hits the compiled cache.
                self.session.execute(insert(complaint_table), _complaint_row(complaint))
            except IntegrityError:
                delivery = complaint.channel_message_id
                raise Conflict(f"delivery {delivery!r} was just filed; it is the same complaint") from None
        else:
            # Nothing in the transaction reads the row back by query (the duplicate pool learns of it
            # from `filed`): under a group commit, one multi-row INSERT for the batch's filings.
            self.writes.insert(complaint_table, _complaint_row(complaint))
        self._stored[complaint.ticket_id] = (0, 0, set())
        self._stored_attachments[complaint.ticket_id] = 0
        report = report_of(complaint)
        self.reports.put([report])  # the next filings' pools will hold it
        self.filed.append(report)  # …and those of this transaction at once, once its unit of work commits
        self._write_children(complaint)
        self._count_on_board(complaint, self._intake_shard)
        self.seen.append(complaint)

    def bulk_add(self, complaints: list[tuple[Complaint, Complainant]]) -> None:
        """Insert many new complaints with their identities and history in a few multi-row statements.

        The bulk path of demo data and imports: no delivery ids, no events, one round trip per table.
        """
        if not complaints:
            return
        now = max(c.updated_at for c, _ in complaints)
        assignments, messages, deadlines = [], [], []
        for c, _ in complaints:
            assignments += [
                {
                    "ticket_id": c.ticket_id,
                    "seq": i,
                    "agency_code": x.agency_code,
                    "reason": x.reason,
                    "actor": x.actor,
                    "assigned_at": x.assigned_at,
                }
                for i, x in enumerate(c.assignments)
            ]
            messages += [
                {
                    "ticket_id": c.ticket_id,
                    "seq": i,
                    "kind": x.kind.value,
                    "text": x.text,
                    "actor": x.actor,
                    "agency_code": x.agency_code,
                    "created_at": x.created_at,
                }
                for i, x in enumerate(c.messages)
            ]
            deadlines += [
                {"ticket_id": c.ticket_id, "kind": x.kind.value, "round": x.round, **_deadline_row(x)}
                for x in c.deadlines
            ]
            self._count_on_board(c)
            del self._board[c.ticket_id]  # not kept: a bulk load touches each complaint once
        self.session.execute(insert(complaint_table), [_complaint_row(c) for c, _ in complaints])
        for table, rows in (
            (complaint_assignment, assignments),
            (complaint_message, messages),
            (sla_deadline, deadlines),
        ):
            if rows:
                self.session.execute(insert(table), rows)
        self.session.execute(
            insert(complainant_table),
            [
                {
                    "reporter_ref": p.reporter_ref,
                    "name": p.name,
                    "nik": p.nik,
                    "phone": p.phone,
                    "email": p.email,
                    "handle": p.handle,
                    "created_at": now,
                }
                for _, p in complaints
            ],
        )

    def count_recorded_by(self, government_code: str, recorded_by: str) -> int:
        """How many complaints of the government `recorded_by` entered (e.g. the demo seed)."""
        t = complaint_table
        query = select(func.count()).where(t.c.government_code == government_code, t.c.recorded_by == recorded_by)
        return int(self.session.execute(query).scalar_one())

    def latest_from(
        self, government_code: str, channel: Channel, reporter_refs: list[str], since: dt.datetime
    ) -> str | None:
        """The newest complaint of these reporters through `channel` since `since`, not merged; None for none."""
        if not reporter_refs:
            return None
        t = complaint_table
        query = (
            select(t.c.ticket_id)
            .where(
                t.c.government_code == government_code,
                t.c.channel == channel.value,
                t.c.reporter_ref.in_(reporter_refs),
                t.c.received_at >= since,
                t.c.merged_into.is_(None),
            )
            .order_by(t.c.received_at.desc(), t.c.ticket_id.desc())
            .limit(1)
        )
        return self.session.execute(query).scalar()

    def get(self, ticket_id: str) -> Complaint | None:
        """The complaint with its history, or None."""
        row = self.session.execute(select(complaint_table).where(complaint_table.c.ticket_id == ticket_id)).first()
        if row is None:
            return None
        a, m, d = complaint_assignment, complaint_message, sla_deadline
        assignments = [
            Assignment(agency_code=r.agency_code, reason=r.reason, actor=r.actor, assigned_at=r.assigned_at)
            for r in self.session.execute(select(a).where(a.c.ticket_id == ticket_id).order_by(a.c.seq))
        ]
        messages = [
            Message(MessageKind(r.kind), r.text, r.actor, r.agency_code, r.created_at)
            for r in self.session.execute(select(m).where(m.c.ticket_id == ticket_id).order_by(m.c.seq))
        ]
        deadlines = [
            _deadline(r._mapping)
            for r in self.session.execute(
                select(d).where(d.c.ticket_id == ticket_id).order_by(d.c.started_at, d.c.kind, d.c.round)
            )
        ]
        complaint = _complaint(row._mapping, assignments, messages, deadlines)
        p = complaint_attachment
        complaint.attachments = [
            Attachment(
                sha256=r.sha256,
                media_type=r.media_type,
                size_bytes=r.size_bytes,
                source=AttachmentSource(r.source),
                added_by=r.added_by,
                added_at=r.added_at,
            )
            for r in self.session.execute(select(p).where(p.c.ticket_id == ticket_id).order_by(p.c.seq))
        ]
        self._stored[ticket_id] = (len(assignments), len(messages), {(x.kind.value, x.round) for x in deadlines})
        self._stored_attachments[ticket_id] = len(complaint.attachments)
        self._board[ticket_id] = board_rules.contribution(board_rules.facts_of(complaint))
        return complaint

    def find_delivery(self, government_code: str, channel: Channel, channel_message_id: str) -> Complaint | None:
        """The complaint filed from this delivery, if any."""
        t = complaint_table
        ticket = self.session.execute(
            select(t.c.ticket_id).where(
                t.c.government_code == government_code,
                t.c.channel == channel.value,
                t.c.channel_message_id == channel_message_id,
            )
        ).scalar()
        return self.get(ticket) if ticket is not None else None

    def save(self, complaint: Complaint) -> None:
        """Write a changed complaint; Conflict when someone else saved it since it was loaded."""
        previous = complaint.version
        t = complaint_table
        result = self.session.execute(
            update(t)
            .where(t.c.ticket_id == complaint.ticket_id, t.c.version == previous)
            .values(**{**_complaint_row(complaint), "version": previous + 1})
        )
        if result.rowcount != 1:
            raise Conflict(f"complaint {complaint.ticket_id} was changed by someone else; reload and try again")
        complaint.version = previous + 1
        self._write_children(complaint)
        self._count_on_board(complaint)
        self.seen.append(complaint)

    def due_for_sla(self, now: dt.datetime, limit: int) -> list[str]:
        """Tickets with a deadline whose next check is due, the most overdue first."""
        d = sla_deadline
        query = (
            select(d.c.ticket_id, d.c.next_check_at)
            .where(d.c.next_check_at.is_not(None), d.c.next_check_at <= now)
            .order_by(d.c.next_check_at)
            .limit(limit * 4)
        )
        tickets: list[str] = []
        for row in self.session.execute(query):
            if row.ticket_id not in tickets:
                tickets.append(row.ticket_id)
        return tickets[:limit]

    def merged_into(self, ticket_id: str) -> list[Complaint]:
        """The complaints merged into `ticket_id` as duplicates."""
        t = complaint_table
        tickets = self.session.execute(
            select(t.c.ticket_id).where(t.c.merged_into == ticket_id).order_by(t.c.ticket_id)
        ).scalars()
        return [c for c in (self.get(x) for x in list(tickets)) if c is not None]

    def duplicate_pool(self, report: Report, *, window: dt.timedelta, radius_m: float, limit: int) -> list[Report]:
        """Recent complaints of the same government near `report` that are not rejected or merged.

        A bounding box around a point keeps the pool small; without a point, the pool is the
        same village (when known) or else the same category, the newest `limit`.

        Asked once per transaction and place: the filings of one group-commit batch share their
        transaction, and usually their place, so the first one's answer serves the others, plus
        what the batch has filed since (`add`) — the pool the query itself would give (newest
        first, trimmed to the later window), without a round trip and a scan per filing.
        """
        since, until = report.received_at - window, report.received_at + window
        params: dict[str, Any] = {
            "government_code": report.government_code,
            "rejected": Status.REJECTED.value,
            "limit": limit,
        }
        if report.latitude is not None and report.longitude is not None:
            dlat = radius_m / 111_000
            dlon = radius_m / (111_000 * max(0.1, math.cos(math.radians(report.latitude))))
            query = _POOL_NEAR_POINT
            params.update(
                lat_low=report.latitude - dlat,
                lat_high=report.latitude + dlat,
                lon_low=report.longitude - dlon,
                lon_high=report.longitude + dlon,
            )
        elif report.village_code:
            query, params["village_code"] = _POOL_IN_VILLAGE, report.village_code
        else:
            query, params["category_code"] = _POOL_IN_CATEGORY, report.category_code
        memo: dict[tuple[Any, ...], tuple[dt.datetime, list[Report]]] = self.session.info.setdefault(_POOL_MEMO, {})
        key = (id(query), *sorted(params.items()))
        asked = memo.get(key)
        if asked is None or since < asked[0]:
            asked = memo[key] = (
                since,
                self._pool_from_db(query, {**params, "ticket_id": report.ticket_id, "since": since, "until": until}),
            )
        filed_since = [r for r in self.session.info.get(_FILED, ()) if _in_pool(r, params)]
        pool: dict[str, Report] = {}
        for other in sorted([*filed_since, *asked[1]], key=lambda r: r.received_at, reverse=True):
            if other.ticket_id != report.ticket_id and since <= other.received_at <= until:
                pool.setdefault(other.ticket_id, other)
        return list(pool.values())[:limit]

    def _pool_from_db(self, query: Any, params: dict[str, Any]) -> list[Report]:
        # Ids only: what the reports hold never changes, so most come from the cache.
        ticket_ids = list(self.session.execute(query, params).scalars())
        found = self.reports.get_many(ticket_ids)
        missing = [x for x in ticket_ids if x not in found]
        if missing:
            loaded = [_report(r) for r in self.session.execute(_REPORTS, {"ticket_ids": missing})]
            self.reports.put(loaded)
            found.update((r.ticket_id, r) for r in loaded)
        return [found[x] for x in ticket_ids if x in found]

    def list_public(self, query: PublicQuery, page: Page) -> tuple[list[PublicRecord], str]:
        """Non-confidential complaints, newest first, keyset-paged on (received_at, ticket_id).

        `confidential = false` is part of the WHERE clause: a confidential row never leaves
        the database on this path. Only public columns are selected (no PIN hash, no reporter_ref).
        """
        t = complaint_table
        columns = (
            t.c.ticket_id,
            t.c.government_code,
            t.c.complaint_class,
            t.c.category_code,
            t.c.status,
            t.c.title,
            t.c.description,
            t.c.agency_code,
            t.c.latitude,
            t.c.longitude,
            t.c.address,
            t.c.village_code,
            t.c.anonymous,
            t.c.received_at,
            t.c.updated_at,
            t.c.merged_into,
        )
        where = [t.c.confidential == false(), t.c.government_code == query.government_code]
        if query.category_code:
            where.append(t.c.category_code == query.category_code)
        if query.statuses:
            where.append(t.c.status.in_([s.value for s in query.statuses]))
        if query.start is not None:
            where.append(t.c.received_at >= query.start)
        if query.end is not None:
            where.append(t.c.received_at < query.end)
        if query.ticket_ids:
            where.append(t.c.ticket_id.in_(query.ticket_ids))
        after = page.after()
        if after:
            stamp, _, ticket = after.partition("|")
            try:
                last = dt.datetime.fromisoformat(stamp)
            except ValueError:
                raise InvalidArgument.field("page.page_token", "is not a token this service issued") from None
            where.append(or_(t.c.received_at < last, and_(t.c.received_at == last, t.c.ticket_id < ticket)))
        statement = (
            select(*columns)
            .where(*where)
            .order_by(t.c.received_at.desc(), t.c.ticket_id.desc())
            .limit(page.limit() + 1)
        )
        rows = list(self.session.execute(statement))
        rows, token = page.cut(rows, lambda r: f"{r.received_at.isoformat()}|{r.ticket_id}")
        tickets = [r.ticket_id for r in rows]
        replies: dict[str, list[Message]] = {ticket: [] for ticket in tickets}
        due: dict[str, dt.datetime] = {}
        first_photo: dict[str, str] = {}
        if tickets:
            m, d = complaint_message, sla_deadline
            for r in self.session.execute(
                select(m.c.ticket_id, m.c.text, m.c.agency_code, m.c.created_at)
                .where(m.c.ticket_id.in_(tickets), m.c.kind == MessageKind.REPLY.value)
                .order_by(m.c.ticket_id, m.c.seq)
            ):
                replies[r.ticket_id].append(Message(MessageKind.REPLY, r.text, "", r.agency_code, r.created_at))
            for r in self.session.execute(
                select(d.c.ticket_id, d.c.due_at).where(
                    d.c.ticket_id.in_(tickets),
                    d.c.kind == DeadlineKind.RESOLUTION.value,
                    d.c.met_at.is_(None),
                    d.c.cancelled_at.is_(None),
                )
            ):
                due[r.ticket_id] = max(r.due_at, due.get(r.ticket_id, r.due_at))
            a = complaint_attachment
            for r in self.session.execute(
                select(a.c.ticket_id, a.c.sha256).where(a.c.ticket_id.in_(tickets)).order_by(a.c.ticket_id, a.c.seq)
            ):
                first_photo.setdefault(r.ticket_id, r.sha256)
        records = [
            PublicRecord(
                ticket_id=r.ticket_id,
                government_code=r.government_code,
                complaint_class=ComplaintClass(r.complaint_class),
                category_code=r.category_code,
                status=Status(r.status),
                title=r.title,
                description=r.description,
                agency_code=r.agency_code,
                location=Location(
                    latitude=r.latitude, longitude=r.longitude, address=r.address, village_code=r.village_code or ""
                )
                if r.latitude is not None or r.address or r.village_code
                else None,
                anonymous=r.anonymous,
                received_at=r.received_at,
                updated_at=r.updated_at,
                resolve_due_at=due.get(r.ticket_id),
                replies=tuple(replies[r.ticket_id]),
                merged_into=r.merged_into or "",
                first_photo_sha256=first_photo.get(r.ticket_id, ""),
            )
            for r in rows
        ]
        return records, token

    def _write_children(self, complaint: Complaint) -> None:
        n_assign, n_msg, deadlines = self._stored[complaint.ticket_id]
        ticket = complaint.ticket_id
        new_assignments = complaint.assignments[n_assign:]
        if new_assignments:
            self.writes.insert(
                complaint_assignment,
                [
                    {
                        "ticket_id": ticket,
                        "seq": n_assign + i,
                        "agency_code": x.agency_code,
                        "reason": x.reason,
                        "actor": x.actor,
                        "assigned_at": x.assigned_at,
                    }
                    for i, x in enumerate(new_assignments)
                ],
            )
        new_messages = complaint.messages[n_msg:]
        if new_messages:
            self.writes.insert(
                complaint_message,
                [
                    {
                        "ticket_id": ticket,
                        "seq": n_msg + i,
                        "kind": x.kind.value,
                        "text": x.text,
                        "actor": x.actor,
                        "agency_code": x.agency_code,
                        "created_at": x.created_at,
                    }
                    for i, x in enumerate(new_messages)
                ],
            )
        d = sla_deadline
        new_deadlines: list[dict[str, object]] = []
        for deadline in complaint.deadlines:
            key = (deadline.kind.value, deadline.round)
            values = _deadline_row(deadline)
            if key in deadlines:
                self.session.execute(
                    update(d).where(d.c.ticket_id == ticket, d.c.kind == key[0], d.c.round == key[1]).values(**values)
                )
            else:
                new_deadlines.append({"ticket_id": ticket, "kind": key[0], "round": key[1], **values})
        if new_deadlines:
            self.writes.insert(d, new_deadlines)
        n_photos = self._stored_attachments.get(ticket, 0)
        new_photos = complaint.attachments[n_photos:]
        if new_photos:
            self.writes.insert(
                complaint_attachment,
                [
                    {
                        "ticket_id": ticket,
                        "sha256": x.sha256,
                        "seq": n_photos + i,
                        "media_type": x.media_type,
                        "size_bytes": x.size_bytes,
                        "source": x.source.value,
                        "added_by": x.added_by,
                        "added_at": x.added_at,
                    }
                    for i, x in enumerate(new_photos)
                ],
            )
        self._stored_attachments[ticket] = len(complaint.attachments)
        if complaint.outgoing:
            self.writes.insert(
                complaint_notification,
                [
                    {
                        "ticket_id": ticket,
                        "channel": complaint.channel.value,
                        "kind": n.kind.value,
                        "text": n.text,
                        "created_at": n.created_at,
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": n.created_at,
                        "sent_at": None,
                        "delivered_via": "",
                        "last_error": "",
                    }
                    for n in complaint.outgoing
                ],
            )
            complaint.outgoing.clear()
        self._stored[ticket] = (
            len(complaint.assignments),
            len(complaint.messages),
            {(x.kind.value, x.round) for x in complaint.deadlines},
        )


class SqlComplainantRepository:
    """Identities in their own table, and the log of who read them."""

    def __init__(self, session: Session, clock: Clock, writes: RowWriter | None = None) -> None:
        self.session = session
        self.clock = clock
        self.writes = writes or RowWriter(session)

    def add(self, complainant: Complainant) -> None:
        """Insert the identity of a new complaint's complainant (at the end of a group-commit batch)."""
        self.writes.insert(
            complainant_table,
            {
                "reporter_ref": complainant.reporter_ref,
                "name": complainant.name,
                "nik": complainant.nik,
                "phone": complainant.phone,
                "email": complainant.email,
                "handle": complainant.handle,
                "created_at": self.clock.now(),
            },
        )

    def get(self, reporter_ref: str) -> Complainant | None:
        """The identity, if any."""
        t = complainant_table
        row = self.session.execute(select(t).where(t.c.reporter_ref == reporter_ref)).first()
        if row is None:
            return None
        return Complainant(
            reporter_ref=row.reporter_ref,
            name=row.name,
            nik=row.nik,
            phone=row.phone,
            email=row.email,
            handle=row.handle,
        )

    def refs_by_phone(self, phone: str, since: dt.datetime) -> list[str]:
        """The reporter refs recorded since `since` with this phone (a match, no identity leaves the service)."""
        t = complainant_table
        query = select(t.c.reporter_ref).where(t.c.phone == phone, t.c.created_at >= since).limit(100)
        return list(self.session.execute(query).scalars())

    def log_access(
        self, *, reporter_ref: str, ticket_id: str, actor: str, reason: str, government_code: str, at: dt.datetime
    ) -> None:
        """Record that `actor` read the identity, and why."""
        self.session.execute(
            insert(identity_access_log).values(
                reporter_ref=reporter_ref,
                ticket_id=ticket_id,
                government_code=government_code,
                actor=actor,
                reason=reason,
                accessed_at=at,
            )
        )


class SqlNotificationRepository:
    """The queue of messages to complainants, and its delivery state."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due(self, now: dt.datetime, limit: int) -> list[OutboundNotification]:
        """Pending notifications whose next attempt is due, oldest first."""
        t = complaint_notification
        query = (
            select(t)
            .where(t.c.next_attempt_at.is_not(None), t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        return [_notification(r._mapping) for r in self.session.execute(query)]

    def get(self, notification_id: int) -> OutboundNotification | None:
        t = complaint_notification
        row = self.session.execute(select(t).where(t.c.id == notification_id)).first()
        return _notification(row._mapping) if row else None

    def save(self, n: OutboundNotification) -> None:
        t = complaint_notification
        self.session.execute(
            update(t)
            .where(t.c.id == n.id)
            .values(
                status=n.status.value,
                attempts=n.attempts,
                next_attempt_at=n.next_attempt_at,
                sent_at=n.sent_at,
                delivered_via=n.delivered_via,
                last_error=n.last_error,
            )
        )

    def for_ticket(self, ticket_id: str) -> list[OutboundNotification]:
        """Every notification of a complaint, oldest first."""
        t = complaint_notification
        rows = self.session.execute(select(t).where(t.c.ticket_id == ticket_id).order_by(t.c.id))
        return [_notification(r._mapping) for r in rows]


def _notification(row: Any) -> OutboundNotification:
    return OutboundNotification(
        id=row["id"],
        ticket_id=row["ticket_id"],
        channel=row["channel"],
        kind=NotificationKind(row["kind"]),
        text=row["text"],
        created_at=row["created_at"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        sent_at=row["sent_at"],
        delivered_via=row["delivered_via"],
        last_error=row["last_error"],
    )


class SqlCategoryRepository:
    """The categories a government's admins saved, with optimistic concurrency on `version`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, government_code: str) -> list[GovernmentCategory]:
        """The saved categories of a government, by code.

        Remembered for the rest of the session (one transaction, or one group-commit batch of
        filings that each ask): `save` forgets it. The categories are frozen values.
        """
        key = ("complaint_category", government_code)
        cached = self.session.info.get(key)
        if cached is None:
            t = complaint_category
            rows = self.session.execute(select(t).where(t.c.government_code == government_code).order_by(t.c.code))
            cached = self.session.info[key] = [_category(r._mapping) for r in rows]
        return list(cached)

    def get(self, government_code: str, code: str) -> GovernmentCategory | None:
        """One saved category, or None."""
        t = complaint_category
        row = self.session.execute(select(t).where(t.c.government_code == government_code, t.c.code == code)).first()
        return _category(row._mapping) if row else None

    def save(self, category: GovernmentCategory) -> None:
        """Insert version 1, or update from the version before; Conflict when someone saved meanwhile."""
        t = complaint_category
        self.session.info.pop(("complaint_category", category.government_code), None)
        values = _category_row(category)
        if category.version == 1:
            try:
                with self.session.begin_nested():
                    self.session.execute(insert(t).values(**values))
            except IntegrityError:
                raise Conflict(f"category {category.code} was saved meanwhile; reload and try again") from None
            return
        result = self.session.execute(
            update(t)
            .where(
                t.c.government_code == category.government_code,
                t.c.code == category.code,
                t.c.version == category.version - 1,
            )
            .values(**values)
        )
        if result.rowcount != 1:
            raise Conflict(f"category {category.code} was saved meanwhile; reload and try again")


def _category_row(g: GovernmentCategory) -> dict[str, Any]:
    c = g.category
    return {
        "government_code": g.government_code,
        "code": c.code,
        "name": c.name,
        "name_en": c.name_en,
        "description": c.description,
        "group_name": c.group,
        "keywords": "|".join(c.keywords),
        "default_agency_code": g.default_agency_code,
        "active": g.active,
        "version": g.version,
        "updated_by": g.updated_by,
        "updated_at": g.updated_at,
    }


def _category(row: Any) -> GovernmentCategory:
    keywords = tuple(k for k in row["keywords"].split("|") if k)
    category = Category(row["code"], row["name"], row["name_en"], row["description"], row["group_name"], keywords)
    return GovernmentCategory(
        government_code=row["government_code"],
        category=category,
        default_agency_code=row["default_agency_code"],
        active=row["active"],
        version=row["version"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
    )


class SqlAgencyDirectory:
    """Lookups in this service's copy of budgeting's governments and agencies."""

    def __init__(self, session: Session, tables: ReferenceTables) -> None:
        self.session = session
        self.t = tables

    def government_exists(self, code: str) -> bool:
        """True when budgeting's GovernmentRegistered for `code` has arrived here.

        A yes is remembered for the session (governments are never removed from the copy).
        """
        key = ("ref_government", code)
        if self.session.info.get(key):
            return True
        g = self.t.government
        exists = self.session.execute(select(g.c.code).where(g.c.code == code)).first() is not None
        if exists:
            self.session.info[key] = True
        return exists

    def agency_names(self, government_code: str) -> dict[str, str]:
        """Code → name of the government's agencies in the copy."""
        a = self.t.agency
        query = select(a.c.code, a.c.name).where(a.c.government_code == government_code)
        return {r.code: r.name for r in self.session.execute(query)}

    def agency_exists(self, government_code: str, code: str) -> bool:
        """True when the agency is in the copy."""
        a = self.t.agency
        query = select(a.c.code).where(a.c.government_code == government_code, a.c.code == code)
        return self.session.execute(query).first() is not None


#: session.info keys: the duplicate pools asked in this transaction, the complaints it filed.
_POOL_MEMO = "grms_complaints.duplicate_pools"
_FILED = "grms_complaints.filed"


def remember_filed(session: Session, filed: list[Report]) -> None:
    """Tell later duplicate pools of `session`'s transaction about complaints a committed unit of work filed.

    Called when the unit of work commits (into its group-commit batch): a filing that failed
    after `add` left nothing in the batch, and must not be suggested as anyone's duplicate.
    """
    if filed:
        session.info.setdefault(_FILED, []).extend(filed)


def _in_pool(r: Report, params: dict[str, Any]) -> bool:
    """Whether a complaint just filed (live, not merged) meets the pool query's place condition of `params`."""
    if r.government_code != params["government_code"]:
        return False
    if "lat_low" in params:
        return r.latitude is None or (
            r.longitude is not None
            and params["lat_low"] <= r.latitude <= params["lat_high"]
            and params["lon_low"] <= r.longitude <= params["lon_high"]
        )
    if "village_code" in params:
        return r.village_code == params["village_code"]
    return r.category_code == params["category_code"]


def _pool(*where: Any) -> Any:
    """The duplicate pool query: ids of recent, live complaints of a government; constant, so compiled once."""
    t = complaint_table
    return (
        select(t.c.ticket_id)
        .where(
            t.c.government_code == bindparam("government_code"),
            t.c.ticket_id != bindparam("ticket_id"),
            t.c.received_at >= bindparam("since", type_=t.c.received_at.type),
            t.c.received_at <= bindparam("until", type_=t.c.received_at.type),
            t.c.merged_into.is_(None),
            t.c.status != bindparam("rejected"),
            *where,
        )
        .order_by(t.c.received_at.desc())
        .limit(bindparam("limit"))
    )


_POOL_NEAR_POINT = _pool(
    or_(
        complaint_table.c.latitude.is_(None),
        and_(
            complaint_table.c.latitude.between(bindparam("lat_low"), bindparam("lat_high")),
            complaint_table.c.longitude.between(bindparam("lon_low"), bindparam("lon_high")),
        ),
    )
)
_POOL_IN_VILLAGE = _pool(complaint_table.c.village_code == bindparam("village_code"))
_POOL_IN_CATEGORY = _pool(complaint_table.c.category_code == bindparam("category_code"))

_REPORTS = select(
    complaint_table.c.ticket_id,
    complaint_table.c.government_code,
    complaint_table.c.category_code,
    complaint_table.c.title,
    complaint_table.c.description,
    complaint_table.c.received_at,
    complaint_table.c.latitude,
    complaint_table.c.longitude,
    complaint_table.c.village_code,
).where(complaint_table.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)))


def _report(r: Any) -> Report:
    return Report(
        ticket_id=r.ticket_id,
        government_code=r.government_code,
        category_code=r.category_code,
        text=f"{r.title}\n{r.description}",
        received_at=r.received_at,
        latitude=r.latitude,
        longitude=r.longitude,
        village_code=r.village_code or "",
    )


def _complaint_row(c: Complaint) -> dict[str, Any]:
    return {
        "ticket_id": c.ticket_id,
        "pin_hash": c.pin_hash,
        "reporter_ref": c.reporter_ref,
        "government_code": c.government_code,
        "complaint_class": c.complaint_class.value,
        "category_code": c.category_code,
        "channel": c.channel.value,
        "title": c.title,
        "description": c.description,
        "latitude": c.location.latitude,
        "longitude": c.location.longitude,
        "address": c.location.address,
        "village_code": c.location.village_code or None,
        "merged_into": c.merged_into or None,
        "rating_score": c.rating.score if c.rating else None,
        "rating_comment": c.rating.comment if c.rating else None,
        "rated_at": c.rating.rated_at if c.rating else None,
        "anonymous": c.anonymous,
        "confidential": c.confidential,
        "status": c.status.value,
        "agency_code": c.agency_code,
        "rejection_reason": c.rejection_reason.value if c.rejection_reason else None,
        "rejection_note": c.rejection_note,
        "first_response_minutes": c.first_response_minutes,
        "resolution_minutes": c.resolution_minutes,
        "reopen_count": c.reopen_count,
        "version": c.version,
        "received_at": c.received_at,
        "updated_at": c.updated_at,
        "channel_message_id": c.channel_message_id or None,
        "recorded_by": c.recorded_by,
        "submitted_by_name": c.submitted_by.name if c.submitted_by else None,
        "submitted_by_village_code": c.submitted_by.village_code if c.submitted_by else None,
        "submitted_by_role": c.submitted_by.role.value if c.submitted_by else None,
    }


def _complaint(
    row: Any, assignments: list[Assignment], messages: list[Message], deadlines: list[Deadline]
) -> Complaint:
    return Complaint(
        ticket_id=row["ticket_id"],
        pin_hash=row["pin_hash"],
        reporter_ref=row["reporter_ref"],
        government_code=row["government_code"],
        complaint_class=ComplaintClass(row["complaint_class"]),
        category_code=row["category_code"],
        channel=Channel(row["channel"]),
        title=row["title"],
        description=row["description"],
        location=Location(
            latitude=row["latitude"],
            longitude=row["longitude"],
            address=row["address"],
            village_code=row["village_code"] or "",
        ),
        anonymous=row["anonymous"],
        confidential=row["confidential"],
        status=Status(row["status"]),
        received_at=row["received_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        agency_code=row["agency_code"],
        rejection_reason=RejectionReason(row["rejection_reason"]) if row["rejection_reason"] else None,
        rejection_note=row["rejection_note"],
        first_response_minutes=row["first_response_minutes"],
        resolution_minutes=row["resolution_minutes"],
        reopen_count=row["reopen_count"],
        channel_message_id=row["channel_message_id"] or "",
        recorded_by=row["recorded_by"],
        submitted_by=Submitter(
            name=row["submitted_by_name"],
            village_code=row["submitted_by_village_code"],
            role=SubmitterRole(row["submitted_by_role"]),
        )
        if row["submitted_by_name"]
        else None,
        assignments=assignments,
        messages=messages,
        deadlines=deadlines,
        merged_into=row["merged_into"] or "",
        rating=Rating(score=row["rating_score"], comment=row["rating_comment"] or "", rated_at=row["rated_at"])
        if row["rating_score"] is not None
        else None,
    )


def _deadline_row(d: Deadline) -> dict[str, Any]:
    return {
        "started_at": d.started_at,
        "due_at": d.due_at,
        "warn_at": d.warn_at,
        "warned_at": d.warned_at,
        "breached_at": d.breached_at,
        "escalation_level": d.escalation_level,
        "met_at": d.met_at,
        "cancelled_at": d.cancelled_at,
        "next_check_at": d.next_check_at,
    }


def _deadline(row: Any) -> Deadline:
    return Deadline(
        kind=DeadlineKind(row["kind"]),
        round=row["round"],
        started_at=row["started_at"],
        due_at=row["due_at"],
        warn_at=row["warn_at"],
        warned_at=row["warned_at"],
        breached_at=row["breached_at"],
        escalation_level=row["escalation_level"],
        met_at=row["met_at"],
        cancelled_at=row["cancelled_at"],
    )
