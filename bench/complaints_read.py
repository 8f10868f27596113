"""(g) the SLA scan over 1,000,000 open deadlines and (h) the governor's board with a year of demo data.

(h) loads the demo year (~24,000 complaints, DOMAIN §6) through the service's own path
(`seed_demo_complaints`: the domain lives each complaint, the repository's bulk insert
stores it and its contribution to the board's per-day sums) into a migrated SQLite file and,
when a server answers on 127.0.0.1:5432, a scratch PostgreSQL database (ANALYZEd after the
load, as autovacuum would). It then times `complaint_board` — the use case over the read
model (adapters/board.py) and one page of the list — for the last 30 days and for the whole
year, beside, in the same run, the same board computed from the raw rows at query time
(adapters/board_raw.py: what the board did before its read model; fewer runs, it is slow)
and a raw `SELECT count(*)` over the same period. Both boards must be equal. Target: p99 < 50 ms.
It also times the gateway's share of GET /api/v1/complaints/board for the year's board: the
service's protobuf answer parsed, mapped to the JSON schema and serialized once
(`model_dump_json`, what the route does) beside what FastAPI did when the route returned the
model (dump, validate again against `response_model`, encode, `json.dumps`).

(g) fills `sla_deadline` with 1,000,000 open deadlines (250,000 complaints × 4) whose next
check is spread over the next 30 days, 0.1 % of them due now, and times the scheduler's scan
(`due_for_sla`: the due ones, most overdue first, batch 500) beside the raw full scan that
finds the same rows without the index. Target: < 2 s.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_complaints.adapters.board import SqlComplaintBoard
from grms_complaints.adapters.board_raw import RawComplaintBoard
from grms_complaints.adapters.calendar import sla_policy
from grms_complaints.adapters.repository import SqlComplaintRepository
from grms_complaints.adapters.tables import complaint, reference
from grms_complaints.adapters.wire import board_to_pb
from grms_complaints.bootstrap import MIGRATIONS, SERVICE, unit_of_work_factory
from grms_complaints.service_layer import handlers
from grms_complaints.service_layer.ports import BoardQuery
from grms_kit.clock import ManualClock
from grms_kit.db import Database
from grms_kit.identity import Identity, Role
from grms_kit.migrations import upgrade
from grms_kit.paging import Page
from sqlalchemy import func, insert, select, text

from bench.common import Report, drop_pg, percentiles, scratch_pg

try:  # the CLI's demo reference data: the 48 provincial agencies
    from grms_cli.demo_data import provincial_agencies
except ImportError:  # pragma: no cover - the CLI is part of the dev install
    provincial_agencies = None  # type: ignore[assignment]

QUERIES = 200
RAW_QUERIES = 20
DEADLINES = 1_000_000
ADMIN = Identity(sub="bench", roles=frozenset({Role.ADMIN}), government="33")
OFFICER = Identity(sub="bench-officer", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33")
NOW = dt.datetime(2026, 6, 30, 3, 0, tzinfo=dt.UTC)


def _agencies() -> dict[str, str]:
    if provincial_agencies is not None:
        return {a.code: a.name for a in provincial_agencies()}
    return {f"AG{i:02d}": f"Dinas {i}" for i in range(48)}


def _board(url: str) -> dict[str, Any]:
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
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    for days in (30, 365):
        query = BoardQuery("33", NOW - dt.timedelta(days=days), NOW)
        times = []
        for _ in range(QUERIES):
            t = time.perf_counter()
            handlers.complaint_board(query, Page(size=50), uow=uow(), actor=OFFICER)
            times.append((time.perf_counter() - t) * 1000)
        raw_times = []
        with db.session() as session:
            raw = RawComplaintBoard(session)
            for _ in range(RAW_QUERIES):
                t = time.perf_counter()
                raw_board = raw.read(query, Page(size=50), NOW)
                raw_times.append((time.perf_counter() - t) * 1000)
            if SqlComplaintBoard(session).read(query, Page(size=50), NOW) != raw_board:
                raise AssertionError(f"the read model's board differs from the raw rows' board ({days} days, {url})")
            baseline = []
            for _ in range(QUERIES):
                t = time.perf_counter()
                session.execute(
                    select(func.count()).where(
                        complaint.c.government_code == "33", complaint.c.received_at >= query.start
                    )
                ).scalar_one()
                baseline.append((time.perf_counter() - t) * 1000)
        out[f"{days}d"] = {
            "board_ms": percentiles(times),
            "raw_board_ms": percentiles(raw_times),
            "baseline_count_ms": percentiles(baseline),
        }
        if days == 365:
            view = handlers.complaint_board(query, Page(size=50), uow=uow(), actor=OFFICER)
            out["gateway_json"] = _gateway_json(board_to_pb(view).SerializeToString())
    db.dispose()
    return out


def _gateway_json(wire: bytes) -> dict[str, Any]:
    """The gateway's share of the board's JSON: now (serialized once) and as FastAPI did with a returned model."""
    from grms_gateway.schemas.complaint_board import BoardOut, board_out

    first, last = (NOW - dt.timedelta(days=365)).date(), NOW.date()

    def once() -> bytes:
        return board_out("33", first, last, pb.GetComplaintBoardResponse.FromString(wire)).model_dump_json().encode()

    def twice() -> bytes:
        model = board_out("33", first, last, pb.GetComplaintBoardResponse.FromString(wire))
        again = BoardOut.model_validate(model.model_dump())  # FastAPI: response_model validation
        return json.dumps(again.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")).encode()

    if json.loads(once()) != json.loads(twice()):
        raise AssertionError("the board's JSON differs between the two serializations")
    figures: dict[str, Any] = {"bytes": len(once())}
    for name, fn in (("once_ms", once), ("fastapi_model_ms", twice)):
        times = []
        for _ in range(QUERIES):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        figures[name] = percentiles(times)
    return figures


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
    """(h): the board with a year of demo data, SQLite then PostgreSQL."""
    data: dict[str, Any] = {"load_average": list(os.getloadavg())}
    pg = scratch_pg("grms_bench_board")
    targets = [("sqlite", f"sqlite:///{workdir / 'complaints-board.db'}")]
    if pg is not None:
        targets.append(("postgresql", pg.replace("postgresql://", "postgresql+psycopg://")))
    else:
        data["postgresql"] = {"ran": False, "reason": "no PostgreSQL at 127.0.0.1:5432"}
    try:
        for kind, url in targets:
            figures = data[kind] = _board(url)
            report.section(f"(h) Governor's board: {figures['complaints']:,} demo complaints ({kind})")
            report.line(
                "demo year through seed_demo_complaints",
                f"{figures['seed_per_s']:,.0f} complaints/s",
                f"{figures['seed_seconds']:.1f} s",
            )
            for days in (30, 365):
                f = figures[f"{days}d"]
                board, raw, base = f["board_ms"], f["raw_board_ms"], f["baseline_count_ms"]
                report.line(
                    f"complaint_board, last {days} days: p50 / p99",
                    f"{board['p50']:.1f} / {board['p99']:.1f} ms",
                    f"target p99 < 50 ms; from raw rows {raw['p50']:.0f} / {raw['p99']:.0f} ms"
                    f" (x{raw['p50'] / board['p50']:.0f} at p50); count(*) p99 {base['p99']:.2f} ms",
                )
            g = figures["gateway_json"]
            report.line(
                "gateway JSON of the year's board: p50 / p99",
                f"{g['once_ms']['p50']:.2f} / {g['once_ms']['p99']:.2f} ms",
                f"{g['bytes']:,} bytes; as a returned model (validated again) "
                f"{g['fastapi_model_ms']['p50']:.2f} / {g['fastapi_model_ms']['p99']:.2f} ms",
            )
    finally:
        if pg is not None:
            drop_pg("grms_bench_board")
    data["load_average_after"] = list(os.getloadavg())
    report.line(
        "load average (1, 5, 15 min) before / after",
        " ".join(f"{x:.2f}" for x in data["load_average"]),
        " ".join(f"{x:.2f}" for x in data["load_average_after"]),
    )
    return data
