"""RKA workbooks over real gRPC (SQLite and PostgreSQL), and `grms budget import-lines/export` against it."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import grpc
import pytest
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms_cli.main import main
from openpyxl import Workbook, load_workbook

from . import test_budget_api as rka
from . import test_grpc_api as base

service = base.service
HEADER = ["Kode Rekening", "Kode Standar Harga", "Uraian", "Volume", "Satuan", "Harga Satuan", "Sumber Dana", "Label"]
ITEM = "1.1.12.01.03.0005"


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def paper(volume: str, price: object = 50_000) -> list[object]:
    return [rka.ATK, ITEM, "Kertas HVS A4 70 gram", volume, "rim", price, "PAD", "ATK"]


async def test_import_all_or_nothing_and_export_in_chunks(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    await rka._reference_data(stub)
    plan = await rka._plan(stub)
    bad = workbook([paper("10 rim"), paper("5 rim", 60_000), paper("dua rim"), ["5.1.02", ITEM, "x", "1 rim", "rim"]])
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ImportBudgetLines(
            pb.ImportBudgetLinesRequest(plan_id=plan.id, workbook=bad), metadata=rka.PLANNER, timeout=10
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(base._violations(refused.value)) == ["rows[5].F"]  # the reader: an empty price
    bad = workbook([paper("10 rim"), paper("5 rim", 60_000), paper("dua rim")])
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ImportBudgetLines(
            pb.ImportBudgetLinesRequest(plan_id=plan.id, workbook=bad), metadata=rka.PLANNER, timeout=10
        )
    assert sorted(base._violations(refused.value)) == ["rows[3].F", "rows[4].D"]
    got = (
        await stub.GetBudgetPlan(pb.GetBudgetPlanRequest(plan_id=plan.id), metadata=rka.PLANNER, timeout=5)
    ).budget_plan
    assert (len(got.lines), got.version) == (0, 1)

    rows = [paper(f"{n} rim") for n in range(1, 401)]
    reply = await stub.ImportBudgetLines(
        pb.ImportBudgetLinesRequest(plan_id=plan.id, expected_version=1, workbook=workbook(rows)),
        metadata=rka.PLANNER,
        timeout=20,
    )
    assert (reply.imported_count, reply.budget_plan.version, len(reply.budget_plan.lines)) == (400, 2, 400)
    assert reply.budget_plan.total.rupiah == 50_000 * sum(range(1, 401))
    stale = pb.ImportBudgetLinesRequest(plan_id=plan.id, expected_version=1, workbook=workbook(rows[:1]))
    with pytest.raises(grpc.aio.AioRpcError) as aborted:
        await stub.ImportBudgetLines(stale, metadata=rka.PLANNER, timeout=10)
    assert aborted.value.code() == grpc.StatusCode.ABORTED
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stub.ImportBudgetLines(
            pb.ImportBudgetLinesRequest(plan_id=plan.id, workbook=workbook(rows[:1])), metadata=rka.TAPD, timeout=10
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # The same lines as CSV append in one more version; both formats at once are refused.
    text = "Kode Rekening;Kode Standar Harga;Uraian;Volume;Satuan;Harga Satuan;Sumber Dana\n"
    text += f"{rka.ATK};{ITEM};Kertas HVS A4;2 rim;rim;50.000;PAD\n"
    from_csv = await stub.ImportBudgetLines(
        pb.ImportBudgetLinesRequest(plan_id=plan.id, expected_version=2, csv=text.encode()),
        metadata=rka.PLANNER,
        timeout=10,
    )
    assert (from_csv.imported_count, from_csv.budget_plan.version, from_csv.budget_plan.lines[-1].amount.rupiah) == (
        1,
        3,
        100_000,
    )
    with pytest.raises(grpc.aio.AioRpcError) as both:
        await stub.ImportBudgetLines(
            pb.ImportBudgetLinesRequest(plan_id=plan.id, csv=text.encode(), workbook=workbook(rows[:1])),
            metadata=rka.PLANNER,
            timeout=10,
        )
    assert both.value.code() == grpc.StatusCode.INVALID_ARGUMENT and list(base._violations(both.value)) == ["csv"]
    await stub.RemoveBudgetLine(
        pb.RemoveBudgetLineRequest(plan_id=plan.id, line_number=401), metadata=rka.PLANNER, timeout=5
    )

    parts = [m async for m in stub.ExportBudgetPlan(pb.ExportBudgetPlanRequest(plan_id=plan.id), metadata=rka.TAPD)]
    data = b"".join(p.chunk for p in parts)
    assert len(parts) > 1 and parts[0].total_size == len(data)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.max_row == 401 and sheet["D401"].value == "400 rim" and sheet["I401"].value == 20_000_000
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        async for _ in stub.ExportBudgetPlan(pb.ExportBudgetPlanRequest(plan_id="nope"), metadata=rka.TAPD):
            pass
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_the_cli_imports_and_exports_over_grpc(  # type: ignore[no-untyped-def]
    service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stub, runtime = service
    await rka._reference_data(stub)
    plan = await rka._plan(stub)
    monkeypatch.setenv("GRMS_AUTH_SECRET", base.SECRET)
    target = runtime.settings.grpc_address
    common = ["--target", target, "--var-dir", str(tmp_path)]

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([paper("10 rim"), paper("3 rim", 99_000)]))
    code = await asyncio.to_thread(main, ["budget", "import-lines", plan.id, str(bad), *common])
    captured = capsys.readouterr()
    assert code == 1 and "rows[3].F" in captured.err and "above the standard price" in captured.err

    good = tmp_path / "rka.xlsx"
    good.write_bytes(workbook([paper("10 rim"), paper("2 rim")]))
    code = await asyncio.to_thread(main, ["budget", "import-lines", plan.id, str(good), *common])
    assert code == 0 and "Imported 2 line(s)" in capsys.readouterr().out
    got = (
        await stub.GetBudgetPlan(pb.GetBudgetPlanRequest(plan_id=plan.id), metadata=rka.PLANNER, timeout=5)
    ).budget_plan
    assert [ln.volume for ln in got.lines] == ["10 rim", "2 rim"] and got.total.rupiah == 600_000

    out = tmp_path / "dpa.xlsx"
    code = await asyncio.to_thread(main, ["budget", "export", plan.id, str(out), *common])
    assert code == 0 and f"Wrote {out}" in capsys.readouterr().out
    rows = list(load_workbook(out).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert [(r[3], r[8]) for r in rows] == [("10 rim", 500_000), ("2 rim", 100_000)]

    assert await asyncio.to_thread(main, ["budget", "import-lines", plan.id, str(tmp_path / "none.xlsx"), *common]) == 2
    code = await asyncio.to_thread(main, ["budget", "export", "no-such-plan", str(out), *common])
    assert code == 1 and "NOT_FOUND" in capsys.readouterr().err
