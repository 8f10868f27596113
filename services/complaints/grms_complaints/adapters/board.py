"""The governor's board from its read model: per-agency, per-WIB-day sums kept with every change.

`complaint_board_day` holds what the complaints contribute (domain/board.py), written in the
transaction of each change (`write_board_delta`, called by the unit of work's commit). A
board over any period up to a year sums at most 366 × agencies small rows:

* whole WIB days inside the period come from the sums; the partial days at its two ends
  (a period from "now minus 30 days") from the raw rows (adapters/board_raw.py), which are
  few;
* SLA deadlines still running become missed by the clock alone, without a write: those are
  counted live, from the running deadlines' partial index (they belong to open complaints);
* the median and p90 first response: the histogram in the sums names the bucket and the
  rank within it; one indexed statement then reads the exact minutes of those buckets, so
  the figures are the exact nearest-rank values;
* the complaints open now (open, overdue, oldest) and the page of the list stay live queries
  on their indexes.

Six statements in all. On PostgreSQL the server spent more time planning the earlier
statements (one subquery per agency, UNION ALL) than running them; each statement text is
now fixed whatever the number of agencies and plans as one correlated subquery.
Server-side prepared statements were measured and rejected: psycopg 3 discards them on
every ROLLBACK (what ends a read), and once kept (COMMIT) the generic plans PostgreSQL chose
after five runs were slower — the running-deadlines lookup left its partial index for a
30 ms walk of the due-time index.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from grms_kit.paging import Page
from grms_kit.tables import UtcDateTime
from sqlalchemy import ColumnElement, Date, Integer, String, bindparam, cast, func, null, select, text, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from grms_complaints.adapters.board_raw import TOTAL, RawComplaintBoard, aware, wib_days
from grms_complaints.adapters.tables import (
    OPEN_UNMERGED,
    UNMARKED,
    complaint,
    complaint_board_day,
    complaint_board_open,
    sla_deadline,
)
from grms_complaints.domain.board import (
    BUCKETS,
    MEASURES,
    OPEN_MEASURES,
    OPEN_STATUSES,
    bucket_measure,
    bucket_of,
    nearest_rank,
    percentile_target,
)
from grms_complaints.domain.sla import JAKARTA, SLA_KINDS
from grms_complaints.service_layer.ports import AgencyRow, Board, BoardEntry, BoardQuery

__all__ = ["SqlComplaintBoard", "write_board_delta"]

_BUCKET_COLUMNS = tuple(bucket_measure(i) for i in range(len(BUCKETS)))
# The median and the p90 as fractions.
_SLA_KINDS = sorted(k.value for k in SLA_KINDS)
OPEN_STATUS_VALUES = sorted(s.value for s in OPEN_STATUSES)
_CHUNK = 500
_COUNTERS = ("received", "responded", "sla_decided", "sla_met")


@dataclass(frozen=True)
class _Unmarked:
    """A deadline running past due that no scan has marked, with what the board needs of its complaint."""

    ticket_id: str
    agency_code: str
    received_at: dt.datetime
    is_open: bool
    has_marked: bool
    due_at: dt.datetime


_PERCENTILES = (("median_first_response_minutes", 1, 2), ("p90_first_response_minutes", 9, 10))


def write_board_delta(session: Session, delta: dict[tuple[str, str, dt.date | None, str, int], int]) -> None:
    """Add `delta` ((government, agency, day, measure, shard) → count) to the board's rows: upserts in key order.

    Called as the transaction's last write, so the rows' locks are held only for the COMMIT;
    the key order makes two transactions lock shared rows in the same order (no deadlock).
    """
    days: dict[tuple[str, str, dt.date, int], dict[str, Any]] = {}
    open_now: dict[tuple[str, str, int], dict[str, Any]] = {}
    for (government, agency, day, measure, shard), n in delta.items():
        key = {"government_code": government, "agency_code": agency, "shard": shard}
        if day is None:
            row = open_now.setdefault((government, agency, shard), {**key, **dict.fromkeys(OPEN_MEASURES, 0)})
        else:
            row = days.setdefault((government, agency, day, shard), {**key, "day": day, **dict.fromkeys(MEASURES, 0)})
        row[measure] += n
    dialect = session.get_bind().dialect.name
    for table, rows in ((complaint_board_open, open_now), (complaint_board_day, days)):
        ordered = [rows[k] for k in sorted(rows)]  # type: ignore[type-var]
        if ordered:
            # One row (the usual filing) as a plain execute: the many-rows path costs more for one.
            session.execute(_upsert(dialect, table.name), ordered[0] if len(ordered) == 1 else ordered)


@functools.cache
def _upsert(dialect: str, table_name: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE SET measure = measure + excluded.measure, built once per dialect and table.

    (Building and cache-keying it per transaction cost more CPU than the intake's other statements.)
    """
    table, measures = {
        complaint_board_open.name: (complaint_board_open, OPEN_MEASURES),
        complaint_board_day.name: (complaint_board_day, MEASURES),
    }[table_name]
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={m: table.c[m] + statement.excluded[m] for m in measures},
    )


class SqlComplaintBoard:
    """The board's read model over one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.raw = RawComplaintBoard(session)

    def read(self, query: BoardQuery, page: Page, now: dt.datetime) -> Board:
        """The whole board for `query` as of `now`."""
        first, last = _whole_days(query)
        if first >= last:  # less than one whole WIB day: the raw rows are few
            return self.raw.read(query, page, now)
        start, end = _midnight(first), _midnight(last)
        edges = [e for e in (_narrow(query, query.start, start), _narrow(query, end, query.end)) if e is not None]
        inner = _narrow(query, start, end)
        assert inner is not None
        rows: dict[str, dict[str, Any]] = {}
        histograms: dict[str, list[int]] = {}

        def row(code: str) -> dict[str, Any]:
            return rows.setdefault(code, {"agency_code": code})

        def add(code: str, values: dict[str, Any]) -> None:
            target = row(code)
            for name, n in values.items():
                target[name] = target.get(name, 0) + (n or 0)

        live = self._unmarked(query, now)
        sums, trend = self._sums(query, first, last)
        for code, values, histogram in sums:
            add(code, values)
            histograms[code] = histogram
        for code, values in self._unmarked_decided(live, inner):
            add(code, values)
        edge_days: dict[dt.date, dict[str, int]] = {}
        for code, values, minutes in self._edges(edges, now, edge_days):
            add(code, values)
            counts = histograms.setdefault(code, [0] * len(BUCKETS))
            for m in minutes:
                counts[bucket_of(m)] += 1
        for code, values in self._percentiles(query, histograms).items():
            row(code).update(values)
        for code, values in self._open_now(query, live):
            row(code).update(values)
        totals = AgencyRow(**{**rows.pop(TOTAL, {}), "agency_code": ""})
        agencies = [AgencyRow(**rows[code]) for code in sorted(rows)]
        entries, token = self.raw.entries(query, page, now)
        return Board(
            agencies=agencies,
            totals=totals,
            trend=self._trend(query, now, trend, live, inner, edge_days),
            entries=entries,
            next_page_token=token,
            as_of=now,
        )

    def inbox(self, query: BoardQuery, page: Page) -> tuple[list[BoardEntry], str]:
        """Every open complaint of the government (or of `query.agency_codes`), oldest first; no period."""
        return self.raw.inbox(query, page)

    def fold_shards(self, before: dt.date) -> int:
        """Fold the intake's shard rows of the days before `before` into shard 0 (PostgreSQL; SQLite has none).

        Intake spreads each day's new complaints over BOARD_SHARDS rows per agency so that
        concurrent filings do not queue on one row lock; once the day is past, nothing but
        the board reads them, and a year of them made the board's sums read ~5 rows per
        agency and day (17 ms instead of 3 ms, EXPLAIN ANALYZE). One statement: the shard
        rows are deleted and their sums added to shard 0, so the totals never change.
        """
        if self.session.get_bind().dialect.name != "postgresql":
            return 0
        result = self.session.execute(_fold_statement(), {"before": before})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def _where(self, query: BoardQuery, first: dt.date, last: dt.date) -> list[ColumnElement[bool]]:
        t = complaint_board_day
        where = [t.c.government_code == query.government_code, t.c.day >= first, t.c.day < last]
        if query.agency_codes:
            where.append(t.c.agency_code.in_(sorted(query.agency_codes)))
        return where

    def _sums(
        self, query: BoardQuery, first: dt.date, last: dt.date
    ) -> tuple[list[tuple[str, dict[str, int], list[int]]], dict[dt.date, dict[str, int]]]:
        """The whole days' sums in one statement: per agency and in total the counters and the
        first-response histogram; per day the trend's received, first responses and misses."""
        params: dict[str, Any] = {"g": query.government_code, "first": first, "last": last}
        if query.agency_codes:
            params["scope"] = sorted(query.agency_codes)
        found: list[tuple[str, dict[str, int], list[int]]] = []
        trend: dict[dt.date, dict[str, int]] = {}
        total_values = dict.fromkeys(_COUNTERS, 0)
        total_histogram = [0] * len(BUCKETS)
        for x in self.session.execute(_day_sums(bool(query.agency_codes)), params):
            if x[0] is None:  # a day of the trend
                trend[_date(x[1])] = {
                    "received": int(x[2] or 0),
                    "responded": int(x[3] or 0),
                    "breached": int(x[4] or 0),
                }
                continue
            values = dict(zip(_COUNTERS, (int(n or 0) for n in x[2:6]), strict=True))
            if not values["received"]:  # a row emptied by re-routes or merges: no complaint of the period
                continue
            histogram = [int(n or 0) for n in x[6:]]
            found.append((x[0], values, histogram))
            for m, n in values.items():
                total_values[m] += n
            total_histogram = [a + b for a, b in zip(total_histogram, histogram, strict=True)]
        found.append((TOTAL, total_values, total_histogram))
        return found, trend

    def _unmarked(self, query: BoardQuery, now: dt.datetime) -> list[_Unmarked]:
        """SLA deadlines running past due that no scan has marked yet, of the query's complaints (live).

        Two steps: the deadlines from their partial index (a handful while the scheduler keeps
        up), then their complaints by primary key; a join lets the planners start from the
        complaints instead.
        """
        d, c = sla_deadline, complaint
        due = [
            tuple(r)
            for r in self.session.execute(select(d.c.ticket_id, d.c.due_at).where(text(UNMARKED), d.c.due_at < now))
        ]
        if not due:
            return []
        tickets = sorted({t for t, _ in due})
        found: dict[str, tuple[str, dt.datetime, bool, bool]] = {}
        marked = (
            select(d.c.ticket_id)
            .where(
                d.c.ticket_id == c.c.ticket_id,
                d.c.met_at.is_(None),
                d.c.cancelled_at.is_(None),
                d.c.breached_at > d.c.due_at,
                d.c.kind.in_(_SLA_KINDS),
            )
            .exists()
        )
        for i in range(0, len(tickets), _CHUNK):
            statement = select(
                c.c.ticket_id, c.c.agency_code, c.c.received_at, c.c.status.in_(OPEN_STATUS_VALUES), marked
            ).where(c.c.ticket_id.in_(tickets[i : i + _CHUNK]), *self.raw.scope(query))
            for ticket, agency, received_at, is_open, has_marked in self.session.execute(statement):
                found[ticket] = (agency, received_at, bool(is_open), bool(has_marked))
        return [_Unmarked(t, *found[t], due_at=at) for t, at in due if t in found]

    @staticmethod
    def _unmarked_decided(live: list[_Unmarked], inner: BoardQuery) -> list[tuple[str, dict[str, int]]]:
        """The period's deadlines missed by the clock alone, per agency and in total."""
        counts: dict[str, int] = {}
        for x in live:
            if inner.start <= x.received_at < inner.end:
                counts[x.agency_code] = counts.get(x.agency_code, 0) + 1
        found = [(code, {"sla_decided": n}) for code, n in counts.items()]
        found.append((TOTAL, {"sla_decided": sum(counts.values())}))
        return found

    @staticmethod
    def _unmarked_breached(live: list[_Unmarked], inner: BoardQuery) -> dict[dt.date, dict[str, int]]:
        """Per WIB day of their due time: deadlines of the period missed by the clock alone."""
        days: dict[dt.date, dict[str, int]] = {}
        for x in live:
            if inner.start <= x.due_at < inner.end:
                counts = days.setdefault(x.due_at.astimezone(JAKARTA).date(), {"breached": 0})
                counts["breached"] += 1
        return days

    def _open_now(self, query: BoardQuery, live: list[_Unmarked]) -> list[tuple[str, dict[str, Any]]]:
        """Per agency and in total: open now, overdue now, and the oldest open complaint."""
        params: dict[str, Any] = {"g": query.government_code}
        if query.agency_codes:
            params["scope"] = sorted(query.agency_codes)
        rows: dict[str, dict[str, Any]] = {}
        oldest = []
        for code, n, late, ticket, at in self.session.execute(_open_now(bool(query.agency_codes)), params):
            rows[code] = {"open": int(n), "overdue": int(late)}
            if ticket is not None:
                oldest.append((code, at, ticket))
        # Overdue by the clock alone: open, a deadline past due unmarked, none marked breached.
        late_now = {(x.agency_code, x.ticket_id) for x in live if x.is_open and not x.has_marked}
        for code, _ in late_now:
            rows.setdefault(code, {"open": 0, "overdue": 0})["overdue"] += 1
        first: tuple[dt.datetime, str] | None = None
        for code, at, ticket in oldest:
            at = aware(at).astimezone(dt.UTC)  # type: ignore[union-attr]
            values = rows.setdefault(code, {"open": 0, "overdue": 0})
            values.update(oldest_open_ticket_id=ticket, oldest_open_received_at=at)
            if first is None or (at, ticket) < first:
                first = (at, ticket)
        found: list[tuple[str, dict[str, Any]]] = list(rows.items())
        found.append(
            (
                TOTAL,
                {
                    "open": sum(v["open"] for v in rows.values()),
                    "overdue": sum(v["overdue"] for v in rows.values()),
                    "oldest_open_ticket_id": first[1] if first else "",
                    "oldest_open_received_at": first[0] if first else None,
                },
            )
        )
        return found

    def _edges(
        self, edges: list[BoardQuery], now: dt.datetime, days: dict[dt.date, dict[str, int]]
    ) -> list[tuple[str, dict[str, int], list[int]]]:
        """The partial days from the raw rows, by the raw board's rules, in one statement of text.

        Per agency and in total: received, answered and their first-response minutes, SLA
        deadlines decided and met; and into `days` the trend's received, first responses given
        and deadlines missed. One round trip for both ends of the period (each one costs a
        wait for the database's process on a busy machine); text, not expressions, because
        building and keying expressions costs more than the few rows of a partial day.
        """
        if not edges:
            return []
        params: dict[str, Any] = {"g": edges[0].government_code, "now": now}
        if edges[0].agency_codes:
            params["scope"] = sorted(edges[0].agency_codes)
        for i, edge in enumerate(edges):
            params[f"s{i}"], params[f"e{i}"] = edge.start, edge.end
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        statement = _edges_statement(sqlite, len(edges), bool(edges[0].agency_codes))
        values: dict[str, dict[str, int]] = {}
        minutes: dict[str, list[int]] = {}
        for i, part, code, a, b in self.session.execute(statement, params):
            # A partial day lies within one WIB day: the trend's counts are that day's.
            day = days.setdefault(edges[i].start.astimezone(JAKARTA).date(), {})
            if part == "r":
                v = values.setdefault(code, {"received": 0, "responded": 0, "sla_decided": 0, "sla_met": 0})
                v["received"] += 1
                day["received"] = day.get("received", 0) + 1
                if a is not None:
                    v["responded"] += 1
                    minutes.setdefault(code, []).append(a)
            elif part == "d":
                v = values.setdefault(code, {"received": 0, "responded": 0, "sla_decided": 0, "sla_met": 0})
                v["sla_decided"] += int(a or 0)
                v["sla_met"] += int(b or 0)
            else:
                name = "responded" if part == "a" else "breached"
                day[name] = day.get(name, 0) + int(a)
        found = [(code, v, minutes.get(code, [])) for code, v in values.items()]
        totals = {m: sum(v[m] for v in values.values()) for m in ("received", "responded", "sla_decided", "sla_met")}
        found.append((TOTAL, totals, [m for ms in minutes.values() for m in ms]))
        return found

    def _percentiles(self, query: BoardQuery, histograms: dict[str, list[int]]) -> dict[str, dict[str, int]]:
        """Exact nearest-rank median and p90 per agency and in total: the histogram's bucket, then its minutes."""
        wanted: dict[str, list[tuple[str, int, int]]] = {}
        for code, histogram in histograms.items():
            n = sum(histogram)
            if not n:
                continue
            for name, numerator, denominator in _PERCENTILES:
                bucket, rank = nearest_rank(histogram, percentile_target(n, numerator, denominator))
                wanted.setdefault(code, []).append((name, bucket, rank))
        if not wanted:
            return {}
        # The rank-th smallest answer at or above the bucket's lower bound, read from the index
        # ordered by minutes (LIMIT 1 OFFSET rank - 1): only the bucket's entries are looked
        # at, none leaves the database. One statement for every agency and the totals.
        targets = [(code, name, bucket, rank) for code, items in wanted.items() for name, bucket, rank in items]
        params: dict[str, Any] = {"g": query.government_code, "s": query.start, "e": query.end}
        if query.agency_codes:
            params["scope"] = sorted(query.agency_codes)
        if self.session.get_bind().dialect.name == "postgresql":
            # The targets as arrays: one statement text whatever their number, planned once as
            # one correlated subquery (the UNION ALL of one subquery per target below took the
            # server longer to plan than to run: 4-8 ms for 30 targets, EXPLAIN ANALYZE).
            params["i"] = list(range(len(targets)))
            params["agency"] = [None if code == TOTAL else code for code, _, _, _ in targets]
            params["lo"] = [BUCKETS[bucket] for _, _, bucket, _ in targets]
            params["r"] = [rank - 1 for _, _, _, rank in targets]
            statement = _pg_percentiles(bool(query.agency_codes))
        else:
            statement = self._sqlite_percentiles(query, targets, params)
        found = dict(tuple(r) for r in self.session.execute(statement, params))
        out: dict[str, dict[str, int]] = {}
        for i, (code, name, bucket, rank) in enumerate(targets):
            value = found.get(i)
            if value is None or bucket_of(value) != bucket:
                raise RuntimeError(
                    f"board read model out of step with the complaints: agency {code!r} has no answer"
                    f" of rank {rank} in bucket {bucket} (found {value})"
                )
            out.setdefault(code, {})[name] = value
        return out

    @staticmethod
    def _sqlite_percentiles(query: BoardQuery, targets: list[tuple[str, str, int, int]], params: dict[str, Any]) -> Any:
        """The percentile lookups as a UNION ALL of one subquery per target (SQLite plans each in microseconds)."""
        for i, (code, _, bucket, rank) in enumerate(targets):
            if code != TOTAL:
                params[f"a{i}"] = code
            params[f"lo{i}"], params[f"r{i}"] = BUCKETS[bucket], rank - 1
        return _sqlite_percentile_statement(tuple(code == TOTAL for code, _, _, _ in targets), bool(query.agency_codes))

    def _trend(
        self,
        query: BoardQuery,
        now: dt.datetime,
        whole_days: dict[dt.date, dict[str, int]],
        live: list[_Unmarked],
        inner: BoardQuery,
        edge_days: dict[dt.date, dict[str, int]],
    ) -> list[Any]:
        days: dict[dt.date, dict[str, int]] = {}

        def add(counts: dict[dt.date, dict[str, int]]) -> None:
            for day, values in counts.items():
                target = days.setdefault(day, {})
                for name, n in values.items():
                    target[name] = target.get(name, 0) + int(n or 0)

        add(whole_days)
        add(self._unmarked_breached(live, inner))
        add(edge_days)
        return wib_days(query, now, days)


@functools.cache
def _edges_statement(sqlite: bool, count: int, scoped: bool) -> Any:
    """The partial days' statement for `count` ends, built once (parsing the text for its binds cost ~1 ms)."""
    plus = "+" if sqlite else ""  # deadlines lead the join
    scope = " AND c.agency_code IN :scope" if scoped else ""
    kinds = ", ".join(f"'{k}'" for k in _SLA_KINDS)
    stamps = ["now"]
    deadlines = "FROM sla_deadline d JOIN complaint c ON c.ticket_id = d.ticket_id"
    parts = []
    for i in range(count):
        stamps += [f"s{i}", f"e{i}"]
        # (Unary plus on SQLite: the partial indexes "not merged" must not lead; receipt time should.)
        where = f"c.government_code = :g AND {plus}c.merged_into IS NULL{scope}"
        where += f" AND c.received_at >= :s{i} AND c.received_at < :e{i}"
        by_deadline = f"{plus}c.government_code = :g AND {plus}c.merged_into IS NULL{scope}"
        parts += [
            f"SELECT {i} AS edge, 'r' AS part, c.agency_code AS agency, c.first_response_minutes AS a, NULL AS b"
            f" FROM complaint c WHERE {where}",
            f"SELECT {i}, 'd', c.agency_code,"
            " SUM(CASE WHEN d.met_at IS NOT NULL OR d.due_at < COALESCE(d.cancelled_at, :now) THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN d.met_at IS NOT NULL AND d.met_at <= d.due_at THEN 1 ELSE 0 END)"
            f" FROM complaint c JOIN sla_deadline d ON d.ticket_id = c.ticket_id AND d.kind IN ({kinds})"
            f" WHERE {where} GROUP BY {plus}c.agency_code",
            f"SELECT {i}, 'a', NULL, count(*), NULL {deadlines}"
            f" WHERE d.kind = 'first_response' AND d.met_at >= :s{i} AND d.met_at < :e{i} AND {by_deadline}",
            f"SELECT {i}, 'b', NULL, count(*), NULL {deadlines}"
            f" WHERE d.due_at >= :s{i} AND d.due_at < :e{i} AND d.due_at < :now AND {plus}d.kind IN ({kinds})"
            " AND (d.met_at IS NULL OR d.met_at > d.due_at)"
            f" AND (d.cancelled_at IS NULL OR d.cancelled_at > d.due_at) AND {by_deadline}",
        ]
    return text(" UNION ALL ".join(parts)).bindparams(
        *(bindparam(name, type_=UtcDateTime()) for name in stamps),
        *([bindparam("scope", expanding=True)] if scope else []),
    )


@functools.cache
def _fold_statement() -> Any:
    """PostgreSQL: move the shard rows of past days into shard 0, adding their measures."""
    measures = ", ".join(MEASURES)
    sums = ", ".join(f"sum({m})" for m in MEASURES)
    added = ", ".join(f"{m} = complaint_board_day.{m} + excluded.{m}" for m in MEASURES)
    return text(
        f"WITH moved AS (DELETE FROM complaint_board_day WHERE shard <> 0 AND day < :before"
        f" RETURNING government_code, agency_code, day, {measures})"
        f" INSERT INTO complaint_board_day (government_code, agency_code, day, shard, {measures})"
        f" SELECT government_code, agency_code, day, 0, {sums} FROM moved"
        " GROUP BY government_code, agency_code, day ORDER BY government_code, agency_code, day"
        f" ON CONFLICT (government_code, agency_code, day, shard) DO UPDATE SET {added}"
    )


@functools.cache
def _day_sums(scoped: bool) -> Any:
    """The whole days' sums: per agency (agency, NULL, counters, histogram) and per day (NULL, day, trend, NULLs).

    One statement, one round trip, for what were two; built once (37 sums are costly to build).
    """
    t = complaint_board_day
    where = [t.c.government_code == bindparam("g"), t.c.day >= bindparam("first"), t.c.day < bindparam("last")]
    if scoped:
        where.append(t.c.agency_code.in_(bindparam("scope", expanding=True)))
    width = len(_BUCKET_COLUMNS)
    per_agency = (
        select(
            t.c.agency_code,
            cast(null(), Date).label("day"),
            *(func.sum(t.c[m]) for m in _COUNTERS),
            *(func.sum(t.c[m]) for m in _BUCKET_COLUMNS),
        )
        .where(*where)
        .group_by(t.c.agency_code)
    )
    per_day = (
        select(
            cast(null(), String).label("agency_code"),
            t.c.day,
            func.sum(t.c.received),
            func.sum(t.c.answered),
            func.sum(t.c.breached),
            *(cast(null(), Integer) for _ in range(width + 1)),
        )
        .where(*where)
        .group_by(t.c.day)
    )
    return union_all(per_agency, per_day)


@functools.lru_cache(maxsize=256)  # a shape per count of agencies and totals: few
def _sqlite_percentile_statement(totals: tuple[bool, ...], scoped: bool) -> Any:
    """SQLite: one subquery per target (`totals[i]`: the target is the totals'), built once per shape.

    Written as text: a SQLAlchemy expression of dozens of subqueries costs more to build
    and key for the cache than the database takes to answer it.
    """
    scope = " AND agency_code IN :scope" if scoped else ""
    parts = []
    for i, total in enumerate(totals):
        agency = "" if total else f" AND agency_code = :a{i}"
        parts.append(
            f"SELECT {i} AS i, (SELECT first_response_minutes FROM complaint"
            f" WHERE government_code = :g AND merged_into IS NULL{scope}{agency}"
            f" AND first_response_minutes >= :lo{i} AND received_at >= :s AND received_at < :e"
            f" ORDER BY first_response_minutes LIMIT 1 OFFSET :r{i}) AS minutes"
        )
    return text(" UNION ALL ".join(parts)).bindparams(
        bindparam("s", type_=UtcDateTime()),
        bindparam("e", type_=UtcDateTime()),
        *([bindparam("scope", expanding=True)] if scoped else []),
    )


@functools.cache
def _pg_percentiles(scoped: bool) -> Any:
    """PostgreSQL: the percentile lookups for the targets given as arrays (i, agency or NULL for the totals, lo, r)."""
    where = "c.government_code = :g AND c.merged_into IS NULL AND c.received_at >= :s AND c.received_at < :e"
    pick = " AND c.first_response_minutes >= t.lo ORDER BY c.first_response_minutes LIMIT 1 OFFSET t.r"
    scope = " AND c.agency_code = ANY(CAST(:scope AS text[]))" if scoped else ""
    arrays = "CAST(:i AS int[]), CAST(:agency AS text[]), CAST(:lo AS int[]), CAST(:r AS int[])"
    targets = f"unnest({arrays}) AS t(i, agency, lo, r)"
    return text(
        f"SELECT t.i, (SELECT c.first_response_minutes FROM complaint c WHERE {where}"
        f" AND c.agency_code = t.agency{pick}) FROM {targets} WHERE t.agency IS NOT NULL"
        f" UNION ALL SELECT t.i, (SELECT c.first_response_minutes FROM complaint c WHERE {where}{scope}{pick})"
        f" FROM {targets} WHERE t.agency IS NULL"
    ).bindparams(bindparam("s", type_=UtcDateTime()), bindparam("e", type_=UtcDateTime()))


@functools.cache
def _open_now(scoped: bool) -> Any:
    """Per agency with complaints open now: open, overdue (marked) and its oldest open complaint, in one statement.

    The oldest is the first entry of the agency's part of the partial index (open, not
    merged): two correlated LIMIT 1 lookups per agency (its ticket and its receipt time),
    one statement text whatever the number of agencies (one subquery per agency in a
    UNION ALL cost PostgreSQL more to plan than to run).
    """
    scope = " AND agency_code IN :scope" if scoped else ""
    oldest = (
        "FROM complaint c WHERE c.government_code = :g AND c.agency_code = o.agency_code"
        f" AND c.{OPEN_UNMERGED.replace(' AND status', ' AND c.status')}"
        " ORDER BY c.received_at, c.ticket_id LIMIT 1"
    )
    statement = text(
        f"SELECT o.agency_code, o.n, o.late, (SELECT c.ticket_id {oldest}), (SELECT c.received_at {oldest})"
        " FROM (SELECT agency_code, sum(open) AS n, sum(overdue) AS late FROM complaint_board_open"
        f" WHERE government_code = :g{scope} GROUP BY agency_code HAVING sum(open) > 0) o"
    )
    return statement.bindparams(bindparam("scope", expanding=True)) if scoped else statement


def _bounds(bucket: int) -> tuple[int, int | None]:
    return BUCKETS[bucket], BUCKETS[bucket + 1] if bucket + 1 < len(BUCKETS) else None


def _whole_days(query: BoardQuery) -> tuple[dt.date, dt.date]:
    """The first and the day after the last whole WIB day inside [start, end)."""
    start = query.start.astimezone(JAKARTA)
    first = start.date() if start.time() == dt.time(0) else start.date() + dt.timedelta(days=1)
    last = query.end.astimezone(JAKARTA).date()
    return first, max(first, last)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=JAKARTA).astimezone(dt.UTC)


def _narrow(query: BoardQuery, start: dt.datetime, end: dt.datetime) -> BoardQuery | None:
    if start >= end:
        return None
    return BoardQuery(query.government_code, start, end, query.agency_codes, query.open_only)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
