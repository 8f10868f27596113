"""(i) RKA import of 150,000 lines from XLSX and from CSV beside raw bulk inserts; (k) FDP export memory;
(l) approving a plan of 5,000 lines.

Every case runs in a child process of its own (`python -m bench.budget_bulk <case> …`), so
its peak RSS (`ru_maxrss`) is that case's alone; the child prints one JSON line.

(i) The raw baseline is SQLAlchemy Core `executemany` of the same 150,000 rows into
`budget_line` of a migrated SQLite database, one transaction. The import cases parse the
file (read_rka / read_rka_csv) and run the real use case (`import_budget_lines`: every line
checked against accounts and the e-HSB, one version, one audit entry (digest of every line) on the
plan's hash chain) through the real SQL unit of work. Targets: < 10 s, < 500 MB peak RSS.
Beside wall time each case reports its process's CPU time, which a machine shared with other
work does not inflate (wall times there drift 2× between runs of the same code).

(k) The approved budget of a year is written straight into the tables (10,000 and 100,000
lines), then the open-data path runs in-process: the servicer's StreamApprovedBudgetLines
(500-line batches as protobuf) into the gateway's CSV writer, bytes counted and dropped.
Constant memory means the 100k peak is about the 10k peak.

(l) A plan of 5,000 lines (imported, submitted and verified as set-up) is approved through the
real use case and SQL unit of work: the line and price checks, the ceilings, the DPA in force
(`dpa_amount`) on every line, the snapshot of the whole plan and the audit link, one
transaction. Beside it, the raw floor of the same writes: one UPDATE of the 5,000 lines and one
INSERT of a snapshot as large, in one transaction. SQLite, and PostgreSQL when it answers.
Target: < 1 s.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import RUNS, Report, drop_pg, scratch_pg, summary

IMPORT_LINES = 150_000
EXPORT_SIZES = (10_000, 100_000)
YEAR = 2026
AGENCY = "1.02.0.00.0.00.01.0000"
SUB = "1.02.02.2.01.0001"
HEADER = ["Kode Rekening", "Kode Standar Harga", "Uraian", "Volume", "Satuan", "Harga Satuan", "Sumber Dana", "Label"]
ITEMS = [(f"1.1.12.01.03.{i:04d}", "5.1.02.01.01.0024", 55_000 + 1_000 * i) for i in range(1, 21)]
TARGET_SECONDS = 10.0
TARGET_MB = 500.0
APPROVE_LINES = 5_000
APPROVE_TARGET_SECONDS = 1.0


def _rows(n: int) -> list[list[Any]]:
    return [
        ["5.1.02.01.01.0024", ITEMS[i % 20][0], f"Kertas HVS A4 baris {i}", f"{1 + i % 50} rim x {1 + i % 4} kali",
         "rim", 50_000 + (i % 5) * 100, "PAD", "ATK"]
        for i in range(n)
    ]  # fmt: skip


def write_inputs(workdir: Path) -> tuple[Path, Path]:
    """The 150,000-line workbook and CSV file the import cases read."""
    from openpyxl import Workbook

    rows = _rows(IMPORT_LINES)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("RKA")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    xlsx = workdir / "rka-150k.xlsx"
    book.save(xlsx)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = workdir / "rka-150k.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    return xlsx, path


def _database(path: Path | str) -> Any:
    """A migrated budgeting database (a SQLite file, or a URL) with the province, Dinkes, the codes, 20 prices
    and an empty plan."""
    from grms_budgeting.bootstrap import MIGRATIONS, unit_of_work_factory
    from grms_budgeting.domain.budget import PriceGroup
    from grms_budgeting.domain.codes import NomenclatureRow
    from grms_budgeting.service_layer import budget, handlers
    from grms_kit.clock import SystemClock
    from grms_kit.db import Database
    from grms_kit.identity import Identity, Role
    from grms_kit.migrations import upgrade

    url = path if isinstance(path, str) else f"sqlite:///{path}"
    upgrade(url, MIGRATIONS, "budgeting")
    db = Database(url)
    uow = unit_of_work_factory(db, SystemClock())
    admin = Identity(sub="bench", roles=frozenset({Role.ADMIN}), government="33")
    tapd = Identity(sub="bench-tapd", roles=frozenset({Role.TAPD}), government="33")
    handlers.register_government(handlers.RegisterGovernment("33", "Provinsi Jawa Tengah"), uow=uow(), actor=admin)
    handlers.register_agency(handlers.RegisterAgency("33", AGENCY, "Dinas Kesehatan"), uow=uow(), actor=admin)
    codes = ["1", "1.02", "1.02.02", "1.02.02.2.01", SUB]
    budget.import_nomenclature(YEAR, [NomenclatureRow(c, f"Nomenklatur {c}", True, True) for c in codes],
                               uow=uow(), actor=admin)  # fmt: skip
    accounts = ["5", "5.1", "5.1.02", "5.1.02.01", "5.1.02.01.01", "5.1.02.01.01.0024"]
    budget.import_account_codes(YEAR, [(c, f"Rekening {c}") for c in accounts], uow=uow(), actor=admin)
    for code, account, price in ITEMS:
        cmd = budget.CreateStandardPrice("33", YEAR, PriceGroup.SSH, code, "Kertas HVS", "A4", "rim", price, [account])
        budget.create_standard_price(cmd, uow=uow(), actor=tapd)
    plan = budget.create_budget_plan(budget.CreateBudgetPlan("33", AGENCY, SUB, YEAR), uow=uow(), actor=admin,
                                     request_id="bench")  # fmt: skip
    return db, uow, admin, plan.id


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def case_raw(workdir: Path) -> dict[str, float]:
    """Core executemany of 150,000 budget_line rows in one transaction."""
    from grms_budgeting.adapters.tables import budget_line
    from sqlalchemy import insert

    db, _, _, plan_id = _database(workdir / f"raw-{uuid.uuid4().hex}.db")
    rows = [
        {"plan_id": plan_id, "number": i + 1, "account_code": r[0], "standard_item_code": r[1],
         "specification": r[2], "volume": r[3], "factors": [[1, "rim"]], "unit": r[4], "unit_price": r[5],
         "amount": r[5], "funding_source": r[6], "tags": [r[7]]}
        for i, r in enumerate(_rows(IMPORT_LINES))
    ]  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    with db.engine.begin() as conn:
        conn.execute(insert(budget_line), rows)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu, "peak_mb": _peak_mb()}


def case_import(workdir: Path, kind: str, source: Path) -> dict[str, float]:
    """Parse the file and run import_budget_lines through the SQL unit of work."""
    from grms_budgeting.adapters.xlsx import read_rka, read_rka_csv
    from grms_budgeting.service_layer import budget

    _, uow, admin, plan_id = _database(workdir / f"{kind}-{uuid.uuid4().hex}.db")
    data = source.read_bytes()
    started, cpu = time.perf_counter(), time.process_time()
    reader = read_rka_csv if kind == "csv" else read_rka
    rows, letters = reader(data, max_rows=IMPORT_LINES)
    parsed = time.perf_counter()
    plan, count = budget.import_budget_lines(
        budget.ImportBudgetLines(plan_id, None, rows, letters), uow=uow(), actor=admin, request_id="bench"
    )
    assert count == IMPORT_LINES and len(plan.lines) == IMPORT_LINES
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "cpu_seconds": time.process_time() - cpu,  # this process's CPU: what a loaded machine does not inflate
        "parse_seconds": parsed - started,
        "peak_mb": _peak_mb(),
    }


def _approved_year(path: Path, lines: int) -> Any:
    """A database whose approved plans of YEAR hold `lines` lines (100 per plan), written straight into the tables."""
    from grms_budgeting.adapters.tables import budget_line, budget_plan
    from sqlalchemy import insert

    db, _, _, _ = _database(path)
    now = dt.datetime.now(dt.UTC)
    per_plan = 100
    with db.engine.begin() as conn:
        for p in range(lines // per_plan):
            plan_id = str(uuid.UUID(int=p + 1))
            conn.execute(insert(budget_plan).values(
                id=plan_id, government_code="33", agency_code=AGENCY, sub_activity_code=f"{SUB}.{p:05d}",
                fiscal_year=YEAR, state="approved", version=5, next_line_number=per_plan + 1,
                total=per_plan * 55_000, review_note="", line_notes={}, created_at=now, updated_at=now,
                line_count=per_plan, revision=0, approved_total=per_plan * 55_000,
            ))  # fmt: skip
            conn.execute(insert(budget_line), [
                {"plan_id": plan_id, "number": n, "account_code": "5.1.02.01.01.0024",
                 "standard_item_code": ITEMS[n % 20][0], "specification": f"Kertas HVS A4 baris {n}",
                 "volume": "1 rim", "factors": [[1, "rim"]], "unit": "rim", "unit_price": 55_000, "amount": 55_000,
                 "funding_source": "PAD", "tags": []}
                for n in range(1, per_plan + 1)
            ])  # fmt: skip
    return db


def case_export(workdir: Path, lines: int) -> dict[str, float]:
    """Stream a year of `lines` approved lines: servicer batches → gateway CSV chunks, counted and dropped."""
    from grms.budgeting.v1 import budgeting_service_pb2 as pb
    from grms_budgeting.bootstrap import unit_of_work_factory
    from grms_budgeting.entrypoints.grpc_api import BudgetingApi
    from grms_gateway.routes.open_data import CSV_FIELDS, _csv_chunk
    from grms_kit.clock import SystemClock

    db = _approved_year(workdir / f"export-{lines}-{uuid.uuid4().hex}.db", lines)
    api = BudgetingApi(db, unit_of_work_factory(db, SystemClock()))
    before = _peak_mb()

    async def stream() -> tuple[int, int]:
        sent = len(_csv_chunk([CSV_FIELDS]).encode())
        count = 0
        request = pb.StreamApprovedBudgetLinesRequest(government_code="33", fiscal_year=YEAR)
        async for batch in api.StreamApprovedBudgetLines(request, None):  # type: ignore[arg-type]
            chunk = _csv_chunk([[getattr(line, name) for name in CSV_FIELDS] for line in batch.lines])
            sent += len(chunk.encode())
            count += len(batch.lines)
        return count, sent

    started = time.perf_counter()
    count, sent = asyncio.run(stream())
    assert count == lines, (count, lines)
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "setup_peak_mb": before, "bytes": sent}


def case_approve(workdir: Path, url: str) -> dict[str, float]:
    """Approve a verified plan of APPROVE_LINES lines; then the raw floor of its writes."""
    from grms_budgeting.adapters.tables import budget_line, budget_plan_version, sub_activity_output
    from grms_budgeting.adapters.xlsx import read_rka_csv
    from grms_budgeting.service_layer import budget
    from grms_kit.identity import Identity, Role
    from sqlalchemy import insert, select, update

    db, uow, admin, plan_id = _database(url or workdir / f"approve-{uuid.uuid4().hex}.db")
    tapd = Identity(sub="bench-tapd", roles=frozenset({Role.TAPD}), government="33")
    for sub in ("", SUB):
        budget.set_ceiling(budget.SetCeiling("33", YEAR, AGENCY, sub, 10**13, False), uow=uow(), actor=admin)
    with db.engine.begin() as conn:  # what planning's SubActivityPlanned brings (set-up, not measured)
        conn.execute(
            insert(sub_activity_output).values(
                government_code="33", fiscal_year=YEAR, agency_code=AGENCY, sub_activity_code=SUB,
                planning_id=str(uuid.uuid4()), indicators=[["Jumlah fasilitas", "10", "unit"]], version=1,
                updated_at=dt.datetime.now(dt.UTC),
            )
        )  # fmt: skip
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *_rows(APPROVE_LINES)])
    rows, letters = read_rka_csv(text.getvalue().encode())
    budget.import_budget_lines(
        budget.ImportBudgetLines(plan_id, None, rows, letters), uow=uow(), actor=admin, request_id="bench"
    )
    budget.submit_budget_plan(budget.PlanTransition(plan_id), uow=uow(), actor=admin, request_id="bench")
    budget.verify_budget_plan(budget.PlanTransition(plan_id), uow=uow(), actor=tapd, request_id="bench")
    started = time.perf_counter()
    plan = budget.approve_budget_plan(budget.PlanTransition(plan_id), uow=uow(), actor=tapd, request_id="bench")
    approve = time.perf_counter() - started
    assert plan.state.value == "approved" and len(plan.lines) == APPROVE_LINES
    with db.engine.connect() as conn:
        content = conn.execute(
            select(budget_plan_version.c.content).where(budget_plan_version.c.plan_id == plan_id)
            .order_by(budget_plan_version.c.version.desc()).limit(1)
        ).scalar_one()  # fmt: skip
    started = time.perf_counter()
    with db.engine.begin() as conn:
        line = budget_line.c
        conn.execute(
            update(budget_line).where(line.plan_id == plan_id).values(dpa_amount=line.amount, dpa_account_code="")
        )
        conn.execute(
            insert(budget_plan_version).values(
                plan_id=plan_id, version=10**6, state="approved", action="bench", actor="bench",
                created_at=dt.datetime.now(dt.UTC), total=0, line_count=APPROVE_LINES, content=content,
            )
        )  # fmt: skip
    raw = time.perf_counter() - started
    db.dispose()
    return {"seconds": approve, "raw_seconds": raw}


def _child(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.budget_bulk", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.budget_bulk {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_import(report: Report, workdir: Path, runs: int = RUNS) -> dict[str, Any]:
    """(i): raw inserts, CSV import and XLSX import of 150,000 lines, each `runs` times in fresh children."""
    xlsx, csv_path = write_inputs(workdir)
    out: dict[str, Any] = {"lines": IMPORT_LINES}
    for name, args in (("raw", ["raw", str(workdir)]), ("csv", ["csv", str(workdir), str(csv_path)]),
                       ("xlsx", ["xlsx", str(workdir), str(xlsx)])):  # fmt: skip
        results = [_child(*args) for _ in range(runs)]
        out[name] = {
            "seconds": summary([r["seconds"] for r in results]),
            "cpu_seconds": summary([r["cpu_seconds"] for r in results]),
            "peak_mb": summary([r["peak_mb"] for r in results]),
        }
        if "parse_seconds" in results[0]:
            out[name]["parse_seconds"] = summary([r["parse_seconds"] for r in results])
    raw = out["raw"]["seconds"]["median"]
    raw_cpu = out["raw"]["cpu_seconds"]["median"]
    report.section(f"(i) RKA import of {IMPORT_LINES:,} lines — SQLite, child process per run")
    report.line(
        "raw Core executemany (baseline)",
        f"{raw:.2f} s",
        f"cpu {raw_cpu:.2f} s; peak {out['raw']['peak_mb']['median']:.0f} MB",
    )
    for name in ("csv", "xlsx"):
        secs, peak = out[name]["seconds"], out[name]["peak_mb"]["median"]
        ok = secs["median"] < TARGET_SECONDS and peak < TARGET_MB
        report.line(
            f"{name.upper()} parse + checked import",
            f"{secs['median']:.2f} s",
            f"min {secs['min']:.2f} / max {secs['max']:.2f}; parse {out[name]['parse_seconds']['median']:.2f} s; "
            f"{secs['median'] / raw:.1f}× raw; cpu {out[name]['cpu_seconds']['median']:.2f} s "
            f"({out[name]['cpu_seconds']['median'] / raw_cpu:.1f}× raw); peak {peak:.0f} MB; "
            f"target <{TARGET_SECONDS:.0f} s <{TARGET_MB:.0f} MB "
            f"{'met' if ok else 'MISSED'}",
        )
    return out


def run_export(report: Report, workdir: Path, runs: int = RUNS) -> dict[str, Any]:
    """(k): the FDP lines of 10,000 and 100,000 approved lines streamed; peak RSS of each."""
    out: dict[str, Any] = {}
    for size in EXPORT_SIZES:
        results = [_child("export", str(workdir), str(size)) for _ in range(runs)]
        out[str(size)] = {
            "seconds": summary([r["seconds"] for r in results]),
            "peak_mb": summary([r["peak_mb"] for r in results]),
            "bytes": results[0]["bytes"],
        }
    report.section("(k) Fiscal Data Package lines streamed (servicer batches → gateway CSV), child per run")
    small, large = (out[str(s)] for s in EXPORT_SIZES)
    for size in EXPORT_SIZES:
        figures = out[str(size)]
        report.line(
            f"{size:,} lines",
            f"{figures['peak_mb']['median']:.0f} MB peak",
            f"{figures['seconds']['median']:.2f} s, {figures['bytes'] / 1e6:.1f} MB of CSV",
        )
    ratio = large["peak_mb"]["median"] / small["peak_mb"]["median"]
    report.line("peak RSS 100k / 10k", f"{ratio:.2f}×", "constant memory ≈ 1.0× (10× the lines)")
    out["peak_ratio"] = ratio
    return out


def run_approve(report: Report, workdir: Path, runs: int = RUNS) -> dict[str, Any]:
    """(l): approving a verified 5,000-line plan, `runs` times in fresh children, on SQLite and PostgreSQL."""
    out: dict[str, Any] = {"lines": APPROVE_LINES}
    report.section(f"(l) approving a plan of {APPROVE_LINES:,} lines — use case + SQL unit of work, child per run")
    for dialect in ("sqlite", "postgresql"):
        results = []
        for run in range(runs):
            url = ""
            if dialect == "postgresql":
                name = f"bench_approve_{run}"
                url = scratch_pg(name) or ""
                if not url:
                    break
            try:
                results.append(_child("approve", str(workdir), url))
            finally:
                if url:
                    drop_pg(name)
        if not results:
            report.line(f"{dialect}: approve", "skipped", "no PostgreSQL server answered")
            continue
        seconds, raw = summary([r["seconds"] for r in results]), summary([r["raw_seconds"] for r in results])
        out[dialect] = {"seconds": seconds, "raw_seconds": raw}
        report.line(
            f"{dialect}: approve {APPROVE_LINES:,} lines",
            f"{seconds['median'] * 1000:.0f} ms",
            f"min {seconds['min'] * 1000:.0f} / max {seconds['max'] * 1000:.0f} ms; raw writes "
            f"{raw['median'] * 1000:.0f} ms ({seconds['median'] / raw['median']:.1f}× raw); "
            f"target <{APPROVE_TARGET_SECONDS:.0f} s {'met' if seconds['max'] < APPROVE_TARGET_SECONDS else 'MISSED'}",
        )
    return out


def main() -> None:
    """Child entry: `<case> <workdir> [<file>|<lines>|<database url>]`; prints one JSON line."""
    case, workdir = sys.argv[1], Path(sys.argv[2])
    if case == "raw":
        result = case_raw(workdir)
    elif case in ("csv", "xlsx"):
        result = case_import(workdir, case, Path(sys.argv[3]))
    elif case == "export":
        result = case_export(workdir, int(sys.argv[3]))
    elif case == "approve":
        result = case_approve(workdir, sys.argv[3])
    else:
        raise SystemExit(f"unknown case {case}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
