"""(g) the SLA scan over 1,000,000 open deadlines and (h) the governor's board with a year of demo data.

(h) loads the demo year (~24,000 complaints, DOMAIN §6) through the service's own path
(`seed_demo_complaints`: the domain lives each complaint, the repository's bulk insert
stores it) into a migrated SQLite file, then times `complaint_board` — the use case with
its five SQL aggregates and one page of the list — for the last 30 days and for the whole
year, beside a raw baseline in the same run: one `SELECT count(*)` over the same period
with the same index. Target: p99 < 50 ms.

(g) fills `sla_deadline` with 1,000,000 open deadlines (250,000 complaints × 4) whose next
check is spread over the next 30 days, 0.1 % of them due now, and times the scheduler's scan
(`due_for_sla`: the due ones, most overdue first, batch 500) beside the raw full scan that
finds the same rows without the index. Target: < 2 s.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from grms_complaints.adapters.calendar import sla_policy
from grms_complaints.adapters.repository import SqlComplaintRepository
from grms_complaints.adapters.tables import reference
from grms_complaints.bootstrap import MIGRATIONS, SERVICE, unit_of_work_factory
from grms_complaints.service_layer import handlers
from grms_complaints.service_layer.ports import BoardQuery
from grms_kit.clock import ManualClock
from grms_kit.db import Database
from grms_kit.identity import Identity, Role
from grms_kit.migrations import upgrade
from grms_kit.paging import Page
from sqlalchemy import insert

from bench.common import Report, percentiles

try:  # the CLI's demo reference data: the 48 provincial agencies
    from grms_cli.demo_data import provincial_agencies
except ImportError:  # pragma: no cover - the CLI is part of the dev install
    provincial_agencies = None  # type: ignore[assignment]

QUERIES = 200
DEADLINES = 1_000_000
ADMIN = Identity(sub="bench", roles=frozenset({Role.ADMIN}), government="33")
OFFICER = Identity(sub="bench-officer", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33")
NOW = dt.datetime(2026, 6, 30, 3, 0, tzinfo=dt.UTC)


def _agencies() -> dict[str, str]:
    if provincial_agencies is not None:
        return {a.code: a.name for a in provincial_agencies()}
    return {f"AG{i:02d}": f"Dinas {i}" for i in range(48)}


def _board(workdir: Path) -> dict[str, Any]:
    url = f"sqlite:///{workdir / 'complaints-board.db'}"
    upgrade(url, MIGRATIONS, SERVICE)
    db = Database(url)
    with db.session() as session, session.begin():
        session.execute(insert(reference.government).values(code="33", name="Jawa Tengah", payload=b"", synced_at=NOW))
        session.execute(
            insert(reference.agency),
            [
                {"government_code": "33", "code": code, "name": name, "version": 1, "payload": b"", "synced_at": NOW}
                for code, name in _agencies().items()
            ],
        )
    uow = unit_of_work_factory(db, ManualClock(NOW))
    started = time.perf_counter()
    added = handlers.seed_demo_complaints(handlers.SeedDemoComplaints("33"), uow=uow(), sla=sla_policy(), actor=ADMIN)
    seed_seconds = time.perf_counter() - started
    out: dict[str, Any] = {"complaints": added, "seed_seconds": seed_seconds, "seed_per_s": added / seed_seconds}
    raw = sqlite3.connect(str(workdir / "complaints-board.db"))
    for days in (30, 365):
        query = BoardQuery("33", NOW - dt.timedelta(days=days), NOW)
        times = []
        for _ in range(QUERIES):
            t = time.perf_counter()
            handlers.complaint_board(query, Page(size=50), uow=uow(), actor=OFFICER)
            times.append((time.perf_counter() - t) * 1000)
        baseline = []
        start_text = query.start.strftime("%Y-%m-%d %H:%M:%S.%f")
        for _ in range(QUERIES):
            t = time.perf_counter()
            raw.execute(
                "SELECT count(*) FROM complaint WHERE government_code = ? AND received_at >= ?", ("33", start_text)
            ).fetchone()
            baseline.append((time.perf_counter() - t) * 1000)
        out[f"{days}d"] = {"board_ms": percentiles(times), "baseline_count_ms": percentiles(baseline)}
    raw.close()
    db.dispose()
    return out


def _sla_scan(workdir: Path) -> dict[str, Any]:
    path = workdir / "complaints-sla.db"
    url = f"sqlite:///{path}"
    upgrade(url, MIGRATIONS, SERVICE)
    rng = random.Random(7)
    conn = sqlite3.connect(str(path))
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    complaints = DEADLINES // 4
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO complaint (ticket_id, pin_hash, reporter_ref, government_code, complaint_class, category_code,"
        " channel, title, description, address, anonymous, confidential, status, agency_code, rejection_note,"
        " reopen_count, version, received_at, updated_at, recorded_by)"
        " VALUES (?, 'x', ?, '33', 'pengaduan', 'lainnya', 'web', 't', 'd', 'a', 0, 0, 'received', '', '',"
        " 0, 1, ?, ?, '')",
        ((f"T{i:015d}", f"R{i:031d}", NOW.strftime(fmt), NOW.strftime(fmt)) for i in range(complaints)),
    )

    def rows() -> Any:
        for i in range(complaints):
            for kind in ("first_response", "verification", "follow_up", "resolution"):
                due = rng.random() < 0.001
                check = (
                    NOW - dt.timedelta(minutes=rng.uniform(1, 600))
                    if due
                    else NOW + dt.timedelta(minutes=rng.uniform(1, 30 * 24 * 60))
                )
                text = check.strftime(fmt)
                yield (f"T{i:015d}", kind, text, text, text, text)

    conn.executemany(
        "INSERT INTO sla_deadline (ticket_id, kind, round, started_at, due_at, warn_at, escalation_level,"
        " next_check_at) VALUES (?, ?, 0, ?, ?, ?, 0, ?)",
        rows(),
    )
    conn.execute("COMMIT")
    load_seconds = time.perf_counter() - started
    db = Database(url)
    scans, raw_scans = [], []
    found = 0
    for _ in range(5):
        with db.session() as session:
            t = time.perf_counter()
            found = len(SqlComplaintRepository(session).due_for_sla(NOW, 500))
            scans.append(time.perf_counter() - t)
        t = time.perf_counter()
        # The same question without the index: every deadline looked at.
        conn.execute(
            "SELECT ticket_id, next_check_at FROM sla_deadline NOT INDEXED"
            " WHERE next_check_at IS NOT NULL AND next_check_at <= ? ORDER BY next_check_at LIMIT 2000",
            (NOW.strftime(fmt),),
        ).fetchall()
        raw_scans.append(time.perf_counter() - t)
    total = conn.execute("SELECT count(*) FROM sla_deadline WHERE next_check_at IS NOT NULL").fetchone()[0]
    conn.close()
    db.dispose()
    return {
        "open_deadlines": total,
        "load_seconds": load_seconds,
        "due_tickets_found": found,
        "scan_seconds": {"min": min(scans), "median": sorted(scans)[2], "max": max(scans)},
        "full_scan_seconds": {"min": min(raw_scans), "median": sorted(raw_scans)[2], "max": max(raw_scans)},
    }


def run_g(report: Report, workdir: Path) -> dict[str, Any]:
    """(g): the scheduler's scan over 1,000,000 open deadlines."""
    data = _sla_scan(workdir)
    report.section(f"(g) SLA scan: {data['open_deadlines']:,} open deadlines, 0.1 % due (SQLite)")
    scan, full = data["scan_seconds"], data["full_scan_seconds"]
    report.line(
        "due_for_sla (index on next_check_at, batch 500)",
        f"{scan['median'] * 1000:,.1f} ms",
        f"target < 2 s; {data['due_tickets_found']} tickets; full scan {full['median'] * 1000:,.0f} ms "
        f"(×{full['median'] / scan['median']:,.0f})",
    )
    return data


def run_h(report: Report, workdir: Path) -> dict[str, Any]:
    """(h): the board with a year of demo data."""
    data = _board(workdir)
    report.section(f"(h) Governor's board: {data['complaints']:,} demo complaints (SQLite)")
    report.line(
        "demo year through seed_demo_complaints",
        f"{data['seed_per_s']:,.0f} complaints/s",
        f"{data['seed_seconds']:.1f} s",
    )
    for days in (30, 365):
        board, base = data[f"{days}d"]["board_ms"], data[f"{days}d"]["baseline_count_ms"]
        report.line(
            f"complaint_board, last {days} days: p50 / p99",
            f"{board['p50']:.1f} / {board['p99']:.1f} ms",
            f"target p99 < 50 ms; raw count(*) p99 {base['p99']:.2f} ms",
        )
    return data
