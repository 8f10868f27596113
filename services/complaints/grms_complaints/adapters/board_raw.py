"""The governor's board computed from the raw rows at query time (SQLite and PostgreSQL alike).

The read model (adapters/board.py) answers from per-day sums instead; this computation stays
as its reference: the board uses it for the partial WIB days at the ends of a period and for
the complaints open now, and the tests compare the two boards. Five statements, each
answered from indexes added for them (migration 0010):

* the period's complaints per agency with first-response median and p90 by nearest rank
  (window functions: ROW_NUMBER and COUNT over the agency, nulls ordered last by hand so
  both databases agree);
* the SLA deadlines of the period's complaints, met on time against decided;
* the complaints open now per agency, with the oldest one and how many have a deadline past due;
* the trend per WIB day: received, first responses given, deadlines missed;
* one keyset page of the period's complaints, newest first, with the earliest open deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from grms_kit.errors import InvalidArgument
from grms_kit.paging import Page
from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from grms_complaints.adapters.tables import complaint, sla_deadline
from grms_complaints.domain.model import Channel, ComplaintClass, Status
from grms_complaints.domain.sla import SLA_KINDS, DeadlineKind
from grms_complaints.service_layer.ports import AgencyRow, Board, BoardDay, BoardEntry, BoardQuery

__all__ = ["OPEN_STATUSES", "TOTAL", "RawComplaintBoard", "aware", "wib_days"]

#: Statuses in which a complaint still waits for someone (everything but the end states).
OPEN_STATUSES = tuple(s.value for s in Status if s not in (Status.RESOLVED, Status.CLOSED, Status.REJECTED))
TOTAL = "*total*"
# The deadlines that measure agencies; auto-close rows wait on the complainant, not on them.
_SLA_KINDS = sorted(k.value for k in SLA_KINDS)


class RawComplaintBoard:
    """The board from the raw rows, over one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def _wib_day(self, column: Any) -> Any:
        """The WIB calendar day of a UTC timestamp column, computed by the database."""
        if self.dialect == "postgresql":
            return func.date(func.timezone("Asia/Jakarta", column))
        return func.date(column, "+7 hours")

    def _grouping(self) -> Any:
        """complaint.agency_code to group by; on SQLite without its index, so a narrower index leads."""
        if self.dialect == "sqlite":
            return literal_column("+complaint.agency_code").label("agency_code")
        return complaint.c.agency_code

    def _kind_in(self) -> ColumnElement[bool]:
        """The SLA kinds; on SQLite without the kind's index, so the due-time index leads."""
        kind = literal_column("+sla_deadline.kind") if self.dialect == "sqlite" else sla_deadline.c.kind
        return kind.in_(_SLA_KINDS)

    def scope(self, query: BoardQuery, *, driven_by_deadlines: bool = False) -> list[ColumnElement[bool]]:
        """The government, not merged, maybe some agencies."""
        c = complaint
        government, merged_into = c.c.government_code, c.c.merged_into
        if driven_by_deadlines and self.dialect == "sqlite":
            # Unary plus keeps SQLite from starting at the government's index (every row of a
            # one-government database), or at the merged_into index (nearly every row), when a
            # narrow range of deadlines should lead the join.
            government = literal_column("+complaint.government_code")
            merged_into = literal_column("+complaint.merged_into")
        # A merged duplicate follows its primary: counted once, through the primary.
        where: list[ColumnElement[bool]] = [government == query.government_code, merged_into.is_(None)]
        if query.agency_codes:
            where.append(c.c.agency_code.in_(sorted(query.agency_codes)))
        return where

    def read(self, query: BoardQuery, page: Page, now: dt.datetime) -> Board:
        """The whole board for `query` as of `now`."""
        rows: dict[str, dict[str, Any]] = {}

        def row(code: str) -> dict[str, Any]:
            return rows.setdefault(code, {"agency_code": code})

        for key, values in self.period_stats(query):
            row(key).update(values)
        for key, values in self.sla_stats(query, now):
            row(key).update(values)
        for key, values in self.open_stats(query, now):
            row(key).update(values)
        totals = AgencyRow(**{**rows.pop(TOTAL, {}), "agency_code": ""})
        agencies = [AgencyRow(**rows[code]) for code in sorted(rows)]
        entries, token = self.entries(query, page, now)
        return Board(
            agencies=agencies,
            totals=totals,
            trend=self._trend(query, now),
            entries=entries,
            next_page_token=token,
            as_of=now,
        )

    def period_stats(self, query: BoardQuery) -> list[tuple[str, dict[str, Any]]]:
        c = complaint
        minutes = c.c.first_response_minutes
        in_period = [*self.scope(query), c.c.received_at >= query.start, c.c.received_at < query.end]
        found: list[tuple[str, dict[str, Any]]] = []
        # Per agency, then once more over everything for the totals (the same statement, one partition).
        for key in (c.c.agency_code, None):
            nulls_last = case((minutes.is_(None), 1), else_=0)
            label = key if key is not None else literal_column(f"'{TOTAL}'")
            ranked = (
                select(
                    label.label("agency_code"),
                    minutes.label("minutes"),
                    func.row_number().over(partition_by=key, order_by=(nulls_last, minutes)).label("rn"),
                    func.count(minutes).over(partition_by=key).label("n"),
                )
                .where(*in_period)
                .subquery()
            )
            r = ranked.c
            answered = r.minutes.is_not(None)
            statement = select(
                r.agency_code,
                func.count().label("received"),
                func.count(r.minutes).label("responded"),
                func.min(case((and_(answered, r.rn * 2 >= r.n), r.minutes))).label("median"),
                func.min(case((and_(answered, r.rn * 10 >= r.n * 9), r.minutes))).label("p90"),
            ).group_by(r.agency_code)
            for x in self.session.execute(statement):
                found.append(
                    (
                        x.agency_code,
                        {
                            "received": x.received,
                            "responded": x.responded,
                            "median_first_response_minutes": x.median,
                            "p90_first_response_minutes": x.p90,
                        },
                    )
                )
        return found

    def sla_stats(self, query: BoardQuery, now: dt.datetime) -> list[tuple[str, dict[str, Any]]]:
        """Per agency and in total: the period's SLA deadlines decided and met."""
        c, d = complaint, sla_deadline
        # Decided: met, or its due time passed before it was cancelled (or before now).
        decided = or_(d.c.met_at.is_not(None), d.c.due_at < func.coalesce(d.c.cancelled_at, now))
        met = func.sum(case((and_(d.c.met_at.is_not(None), d.c.met_at <= d.c.due_at), 1), else_=0))
        base = (
            select(func.count().label("decided"), met.label("met"))
            .select_from(d.join(c, c.c.ticket_id == d.c.ticket_id))
            .where(
                *self.scope(query),
                c.c.received_at >= query.start,
                c.c.received_at < query.end,
                d.c.kind.in_(_SLA_KINDS),
                decided,
            )
        )
        found = [
            (x.agency_code, {"sla_decided": x.decided, "sla_met": x.met or 0})
            for x in self.session.execute(base.add_columns(self._grouping()).group_by(self._grouping()))
        ]
        total = self.session.execute(base).one()
        found.append((TOTAL, {"sla_decided": total.decided, "sla_met": total.met or 0}))
        return found

    def open_stats(self, query: BoardQuery, now: dt.datetime) -> list[tuple[str, dict[str, Any]]]:
        c, d = complaint, sla_deadline
        is_open = c.c.status.in_(OPEN_STATUSES)
        late = (
            select(d.c.ticket_id)
            .where(
                d.c.ticket_id == c.c.ticket_id,
                d.c.met_at.is_(None),
                d.c.cancelled_at.is_(None),
                d.c.due_at < now,
                d.c.kind.in_(_SLA_KINDS),
            )
            .exists()
        )
        agency = self._grouping()
        counts = (
            select(
                agency,
                func.count().label("open"),
                func.sum(case((late, 1), else_=0)).label("overdue"),
                func.min(c.c.received_at).label("oldest_at"),
            )
            .where(*self.scope(query), is_open)
            .group_by(agency)
            .subquery()
        )
        # The oldest open complaint of each agency: the one received at its agency's minimum.
        statement = (
            select(
                counts.c.agency_code,
                counts.c.open,
                counts.c.overdue,
                counts.c.oldest_at,
                func.min(c.c.ticket_id).label("oldest_ticket"),
            )
            .select_from(
                counts.join(c, and_(c.c.agency_code == counts.c.agency_code, c.c.received_at == counts.c.oldest_at))
            )
            .where(*self.scope(query), is_open)
            .group_by(counts.c.agency_code, counts.c.open, counts.c.overdue, counts.c.oldest_at)
        )
        found: list[tuple[str, dict[str, Any]]] = []
        total_open = total_overdue = 0
        oldest: tuple[dt.datetime, str] | None = None
        for x in self.session.execute(statement):
            at = aware(x.oldest_at)
            found.append(
                (
                    x.agency_code,
                    {
                        "open": x.open,
                        "overdue": x.overdue or 0,
                        "oldest_open_ticket_id": x.oldest_ticket or "",
                        "oldest_open_received_at": at,
                    },
                )
            )
            # The totals of a handful of agency rows: summed here rather than scanned again.
            total_open += x.open
            total_overdue += x.overdue or 0
            if at is not None and (oldest is None or (at, x.oldest_ticket) < oldest):
                oldest = (at, x.oldest_ticket)
        found.append(
            (
                TOTAL,
                {
                    "open": total_open,
                    "overdue": total_overdue,
                    "oldest_open_ticket_id": oldest[1] if oldest else "",
                    "oldest_open_received_at": oldest[0] if oldest else None,
                },
            )
        )
        return found

    def _trend(self, query: BoardQuery, now: dt.datetime) -> list[BoardDay]:
        return wib_days(query, now, self._trend_counts(query, now))

    def _trend_counts(self, query: BoardQuery, now: dt.datetime) -> dict[dt.date, dict[str, int]]:
        """Per WIB day: received, first responses given, deadlines missed."""
        c, d = complaint, sla_deadline
        scope = self.scope(query)
        by_deadline = self.scope(query, driven_by_deadlines=True)
        days: dict[dt.date, dict[str, int]] = {}
        received_day = self._wib_day(c.c.received_at).label("day")
        received = (
            select(received_day, func.count().label("n"))
            .where(*scope, c.c.received_at >= query.start, c.c.received_at < query.end)
            .group_by(received_day)
        )
        met_day = self._wib_day(d.c.met_at).label("day")
        responded = (
            select(met_day, func.count().label("n"))
            .select_from(d.join(c, c.c.ticket_id == d.c.ticket_id))
            .where(
                *by_deadline,
                d.c.kind == DeadlineKind.FIRST_RESPONSE.value,
                d.c.met_at >= query.start,
                d.c.met_at < query.end,
            )
            .group_by(met_day)
        )
        due_day = self._wib_day(d.c.due_at).label("day")
        missed = and_(
            d.c.due_at < now,
            or_(d.c.met_at.is_(None), d.c.met_at > d.c.due_at),
            or_(d.c.cancelled_at.is_(None), d.c.cancelled_at > d.c.due_at),
        )
        breached = (
            select(due_day, func.count().label("n"))
            .select_from(d.join(c, c.c.ticket_id == d.c.ticket_id))
            .where(*by_deadline, d.c.due_at >= query.start, d.c.due_at < query.end, self._kind_in(), missed)
            .group_by(due_day)
        )
        statements = (("received", received), ("responded", responded), ("breached", breached))
        for name, statement in statements:
            for x in self.session.execute(statement):
                days.setdefault(_day(x.day), {})[name] = x.n
        return days

    def entries(self, query: BoardQuery, page: Page, now: dt.datetime) -> tuple[list[BoardEntry], str]:
        c = complaint
        where = [*self.scope(query), c.c.received_at >= query.start, c.c.received_at < query.end]
        if query.open_only:
            where.append(c.c.status.in_(OPEN_STATUSES))
        return self._list(where, page, newest_first=True)

    def inbox(self, query: BoardQuery, page: Page) -> tuple[list[BoardEntry], str]:
        """Every open complaint of the government (or of `query.agency_codes`), oldest first; no period."""
        c = complaint
        return self._list([*self.scope(query), c.c.status.in_(OPEN_STATUSES)], page, newest_first=False)

    def _list(
        self, where: list[ColumnElement[bool]], page: Page, *, newest_first: bool
    ) -> tuple[list[BoardEntry], str]:
        c, d = complaint, sla_deadline
        next_due = (
            select(func.min(d.c.due_at))
            .where(
                d.c.ticket_id == c.c.ticket_id,
                d.c.met_at.is_(None),
                d.c.cancelled_at.is_(None),
                d.c.kind.in_(_SLA_KINDS),
            )
            .scalar_subquery()
            .label("next_due")
        )
        after = page.after()
        if after:
            stamp, _, ticket = after.partition("|")
            try:
                last = dt.datetime.fromisoformat(stamp)
            except ValueError:
                raise InvalidArgument.field("page.page_token", "is not a token this service issued") from None
            if newest_first:
                where = [*where, or_(c.c.received_at < last, and_(c.c.received_at == last, c.c.ticket_id < ticket))]
            else:
                where = [*where, or_(c.c.received_at > last, and_(c.c.received_at == last, c.c.ticket_id > ticket))]
        order = (c.c.received_at.desc(), c.c.ticket_id.desc()) if newest_first else (c.c.received_at, c.c.ticket_id)
        statement = (
            select(
                c.c.ticket_id,
                c.c.complaint_class,
                c.c.category_code,
                c.c.channel,
                c.c.status,
                c.c.title,
                c.c.reporter_ref,
                c.c.anonymous,
                c.c.confidential,
                c.c.agency_code,
                c.c.received_at,
                c.c.first_response_minutes,
                c.c.resolution_minutes,
                next_due,
            )
            .where(*where)
            .order_by(*order)
            .limit(page.limit() + 1)
        )
        rows = list(self.session.execute(statement))
        rows, token = page.cut(rows, lambda r: f"{r.received_at.isoformat()}|{r.ticket_id}")
        entries = [
            BoardEntry(
                ticket_id=r.ticket_id,
                complaint_class=ComplaintClass(r.complaint_class),
                category_code=r.category_code,
                channel=Channel(r.channel),
                status=Status(r.status),
                title=r.title,
                reporter_ref=r.reporter_ref,
                anonymous=r.anonymous,
                confidential=r.confidential,
                agency_code=r.agency_code,
                received_at=r.received_at,
                first_response_minutes=r.first_response_minutes,
                resolution_minutes=r.resolution_minutes,
                next_due_at=aware(r.next_due),
            )
            for r in rows
        ]
        return entries, token


_WIB = dt.timezone(dt.timedelta(hours=7))


def wib_days(query: BoardQuery, now: dt.datetime, counts: dict[dt.date, dict[str, int]]) -> list[BoardDay]:
    """One point per WIB day of the period up to now, oldest first, from counts per day."""
    first = query.start.astimezone(_WIB).date()
    last = (min(query.end, max(now, query.start)) - dt.timedelta(microseconds=1)).astimezone(_WIB).date()
    out: list[BoardDay] = []
    day = first
    while day <= last:
        out.append(BoardDay(day=day, **counts.get(day, {})))
        day += dt.timedelta(days=1)
    return out


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def aware(value: Any) -> dt.datetime | None:
    """A timestamp from an aggregate or a subquery, which bypasses the column type: parse and mark UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
