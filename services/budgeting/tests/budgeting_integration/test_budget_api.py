"""e-budgeting over real gRPC, a real database (SQLite and PostgreSQL) and real NATS."""

from __future__ import annotations

import asyncio
import json

import grpc
import nats
import pytest
from grms.budgeting.v1 import budget_plan_pb2, codes_pb2, events_pb2, prices_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms.common.v1 import money_pb2
from grms_budgeting.adapters.budget_repository import verify_audit_chain
from grms_budgeting.adapters.tables import audit_entry
from grms_kit.identity import Role
from grms_kit.testing import NatsServer
from sqlalchemy import update

from . import test_grpc_api as base

# The same in-process runtime fixture the reference-data tests use.
service = base.service
ADMIN, bearer, _violations = base.ADMIN, base.bearer, base._violations

YEAR = 2026
AGENCY = "1.02.0.00.0.00.01.0000"
SUB = "1.02.02.2.01.0001"
ATK = "5.1.02.01.01.0024"
PLANNER = bearer(sub="operator", roles=frozenset({Role.PLANNER}), government="33", agencies=frozenset({AGENCY}))
HEAD = bearer(sub="kepala", roles=frozenset({Role.AGENCY_HEAD}), government="33", agencies=frozenset({AGENCY}))
TAPD = bearer(sub="tapd", roles=frozenset({Role.TAPD}), government="33")


def rp(value: int) -> money_pb2.Money:
    return money_pb2.Money(rupiah=value)


async def _reference_data(stub: pb_grpc.BudgetingServiceStub, *, sub_ceiling: int = 10_000_000) -> None:
    await stub.RegisterAgency(
        pb.RegisterAgencyRequest(government_code="33", code=AGENCY, name="Dinas Kesehatan"), metadata=ADMIN, timeout=5
    )
    codes = [
        ("1", "URUSAN PEMERINTAHAN WAJIB YANG BERKAITAN DENGAN PELAYANAN DASAR"),
        ("1.02", "URUSAN PEMERINTAHAN BIDANG KESEHATAN"),
        ("1.02.02", "PROGRAM PEMENUHAN UPAYA KESEHATAN"),
        ("1.02.02.2.01", "Penyediaan Fasilitas Pelayanan Kesehatan"),
        (SUB, "Pembangunan Rumah Sakit beserta Sarana dan Prasarana Pendukungnya"),
    ]
    reply = await stub.ImportNomenclature(
        pb.ImportNomenclatureRequest(
            fiscal_year=YEAR,
            codes=[
                codes_pb2.NomenclatureCode(code=c, name=n, for_province=True, for_regency_city=True) for c, n in codes
            ],
        ),
        metadata=ADMIN,
        timeout=5,
    )
    assert reply.imported_count == 5
    accounts = [
        ("5", "BELANJA DAERAH"),
        ("5.1", "BELANJA OPERASI"),
        ("5.1.02", "Belanja Barang dan Jasa"),
        ("5.1.02.01", "Belanja Barang"),
        ("5.1.02.01.01", "Belanja Barang Pakai Habis"),
        ("5.1.02.01.001.00024", "Belanja Alat/Bahan untuk Kegiatan Kantor-Alat Tulis Kantor"),
    ]
    await stub.ImportAccountCodes(
        pb.ImportAccountCodesRequest(
            fiscal_year=YEAR, accounts=[codes_pb2.AccountCode(code=c, name=n) for c, n in accounts]
        ),
        metadata=ADMIN,
        timeout=5,
    )
    created = await stub.CreateStandardPrice(
        pb.CreateStandardPriceRequest(
            standard_price=prices_pb2.StandardPrice(
                government_code="33",
                fiscal_year=YEAR,
                group=prices_pb2.STANDARD_PRICE_GROUP_SSH,
                code="1.1.12.01.03.0005",
                name="Kertas HVS",
                specification="A4 70 gram",
                unit="rim",
                price=rp(55_000),
                account_codes=[ATK],
            )
        ),
        metadata=TAPD,
        timeout=5,
    )
    assert list(created.standard_price.account_codes) == ["5.1.02.01.001.00024"]
    for sub, amount in ((SUB, sub_ceiling), ("", 50_000_000)):
        await stub.SetCeiling(
            pb.SetCeilingRequest(
                government_code="33", fiscal_year=YEAR, agency_code=AGENCY, sub_activity_code=sub, amount=rp(amount)
            ),
            metadata=TAPD,
            timeout=5,
        )


def paper(volume: str = "10 rim", price: int = 50_000) -> budget_plan_pb2.BudgetLineInput:
    return budget_plan_pb2.BudgetLineInput(
        account_code=ATK,
        standard_item_code="1.1.12.01.03.0005",
        specification="Kertas HVS A4 70 gram",
        volume=volume,
        unit="rim",
        unit_price=rp(price),
        funding_source="PAD",
    )


async def _plan(stub: pb_grpc.BudgetingServiceStub) -> budget_plan_pb2.BudgetPlan:
    reply = await stub.CreateBudgetPlan(
        pb.CreateBudgetPlanRequest(government_code="33", agency_code=AGENCY, sub_activity_code=SUB, fiscal_year=YEAR),
        metadata=PLANNER,
        timeout=5,
    )
    return reply.budget_plan


async def _code_of(call) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code()


async def test_a_plan_from_draft_to_approved_with_role_checks_and_its_event(service, nats_server: NatsServer) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    await _reference_data(stub)
    plan = await _plan(stub)
    plan = (
        await stub.AddBudgetLine(
            pb.AddBudgetLineRequest(plan_id=plan.id, expected_version=1, line=paper()), metadata=PLANNER, timeout=5
        )
    ).budget_plan
    line = paper("10 orang x 2 kali", 40_000)
    plan = (
        await stub.AddBudgetLine(
            pb.AddBudgetLineRequest(plan_id=plan.id, expected_version=2, line=line), metadata=PLANNER, timeout=5
        )
    ).budget_plan
    assert [(ln.number, ln.amount.rupiah) for ln in plan.lines] == [(1, 500_000), (2, 800_000)]
    assert [(f.quantity, f.unit) for f in plan.lines[1].factors] == [(10, "orang"), (2, "kali")]
    assert (plan.total.rupiah, plan.version) == (1_300_000, 3)

    submit = pb.SubmitBudgetPlanRequest(plan_id=plan.id)
    assert (
        await _code_of(stub.SubmitBudgetPlan(submit, metadata=PLANNER, timeout=5)) == grpc.StatusCode.PERMISSION_DENIED
    )
    plan = (await stub.SubmitBudgetPlan(submit, metadata=HEAD, timeout=5)).budget_plan
    assert plan.state == budget_plan_pb2.BUDGET_PLAN_STATE_SUBMITTED
    verify = pb.VerifyBudgetPlanRequest(plan_id=plan.id)
    assert await _code_of(stub.VerifyBudgetPlan(verify, metadata=HEAD, timeout=5)) == grpc.StatusCode.PERMISSION_DENIED
    approve = pb.ApproveBudgetPlanRequest(plan_id=plan.id)
    with pytest.raises(grpc.aio.AioRpcError) as early:
        await stub.ApproveBudgetPlan(approve, metadata=TAPD, timeout=5)
    assert early.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "is submitted" in early.value.details()
    await stub.VerifyBudgetPlan(verify, metadata=TAPD, timeout=5)
    plan = (await stub.ApproveBudgetPlan(approve, metadata=TAPD, timeout=5)).budget_plan
    assert (plan.state, plan.version) == (budget_plan_pb2.BUDGET_PLAN_STATE_APPROVED, 6)
    edit = pb.AddBudgetLineRequest(plan_id=plan.id, line=paper())
    assert await _code_of(stub.AddBudgetLine(edit, metadata=PLANNER, timeout=5)) == grpc.StatusCode.FAILED_PRECONDITION

    versions = (
        await stub.ListBudgetPlanVersions(pb.ListBudgetPlanVersionsRequest(plan_id=plan.id), metadata=TAPD, timeout=5)
    ).versions
    assert [(v.version, v.action, v.total.rupiah, v.line_count) for v in versions] == [
        (4, "submit", 1_300_000, 2),
        (5, "verify", 1_300_000, 2),
        (6, "approve", 1_300_000, 2),
    ]
    got = (await stub.GetBudgetPlan(pb.GetBudgetPlanRequest(plan_id=plan.id), metadata=PLANNER, timeout=5)).budget_plan
    # Only a read names the sub-activity's output indicators, as planning published them.
    assert list(got.output_indicators) == ["Jumlah rumah sakit yang dibangun: 1 unit"]
    del got.output_indicators[:]
    assert got == plan

    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.jetstream().subscribe("grms.budgeting.budget_plan_approved.v1", ordered_consumer=True)
        message = await sub.next_msg(timeout=10)
    finally:
        await nc.close()
    assert message.headers["ce-type"] == "grms.budgeting.v1.BudgetPlanApproved"
    assert message.headers["grms-government"] == "33"
    event = events_pb2.BudgetPlanApproved.FromString(message.data)
    assert (event.plan_id, event.agency_code, event.sub_activity_code, event.fiscal_year) == (
        plan.id,
        AGENCY,
        SUB,
        YEAR,
    )
    assert (event.version, event.total.rupiah, event.line_count) == (6, 1_300_000, 2)


async def test_over_ceiling_and_over_standard_price_are_refused(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    await _reference_data(stub, sub_ceiling=400_000)
    plan = await _plan(stub)
    with pytest.raises(grpc.aio.AioRpcError) as price:
        await stub.AddBudgetLine(
            pb.AddBudgetLineRequest(plan_id=plan.id, line=paper(price=60_000)), metadata=PLANNER, timeout=5
        )
    assert price.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(_violations(price.value)) == ["lines[1].unit_price"]
    assert "above the standard price Rp55,000" in _violations(price.value)["lines[1].unit_price"]
    await stub.AddBudgetLine(pb.AddBudgetLineRequest(plan_id=plan.id, line=paper()), metadata=PLANNER, timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as over:
        await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan.id), metadata=HEAD, timeout=5)
    assert over.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "above the sub-activity ceiling of Rp400,000 by Rp100,000" in over.value.details()
    found = await stub.SearchStandardPrices(
        pb.SearchStandardPricesRequest(government_code="33", fiscal_year=YEAR, query="hvs", account_code=ATK), timeout=5
    )
    assert [p.code for p in found.standard_prices] == ["1.1.12.01.03.0005"]


async def test_two_edits_at_one_version_one_wins_the_other_is_aborted(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    await _reference_data(stub)
    plan = await _plan(stub)
    calls = [
        stub.AddBudgetLine(
            pb.AddBudgetLineRequest(plan_id=plan.id, expected_version=1, line=paper(v)), metadata=PLANNER, timeout=10
        )
        for v in ("1 rim", "2 rim")
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].code() == grpc.StatusCode.ABORTED
    got = (await stub.GetBudgetPlan(pb.GetBudgetPlanRequest(plan_id=plan.id), metadata=PLANNER, timeout=5)).budget_plan
    assert (got.version, len(got.lines)) == (2, 1)


async def test_the_audit_chain_verifies_and_a_silent_update_is_named(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    await _reference_data(stub)
    plan = await _plan(stub)
    for volume in ("1 rim", "2 rim", "3 rim"):
        await stub.AddBudgetLine(
            pb.AddBudgetLineRequest(plan_id=plan.id, line=paper(volume)),
            metadata=[*PLANNER, ("x-request-id", f"req-{volume}")],
            timeout=5,
        )
    await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan.id), metadata=HEAD, timeout=5)
    listed = await stub.ListAuditEntries(pb.ListAuditEntriesRequest(plan_id=plan.id), metadata=TAPD, timeout=5)
    assert [(e.seq, e.action) for e in listed.entries] == [
        (1, "create"),
        (2, "add_line"),
        (3, "add_line"),
        (4, "add_line"),
        (5, "submit"),
    ]
    assert listed.first_broken_seq == 0
    assert listed.entries[2].request_id == "req-2 rim" and listed.entries[2].actor == "operator"
    assert listed.entries[2].prev_hash == listed.entries[1].hash
    assert verify_audit_chain(runtime.db) == {plan.id: None}

    forged = json.loads(listed.entries[2].new_json) | {"unit_price": 5_000}
    with runtime.db.engine.begin() as conn:
        conn.execute(
            update(audit_entry).where(audit_entry.c.plan_id == plan.id, audit_entry.c.seq == 3).values(new=forged)
        )
    assert verify_audit_chain(runtime.db, plan.id) == {plan.id: 3}
    listed = await stub.ListAuditEntries(pb.ListAuditEntriesRequest(plan_id=plan.id), metadata=TAPD, timeout=5)
    assert listed.first_broken_seq == 3


async def test_returned_plan_is_diffed_against_its_submission(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    await _reference_data(stub)
    plan = await _plan(stub)
    await stub.AddBudgetLine(pb.AddBudgetLineRequest(plan_id=plan.id, line=paper()), metadata=PLANNER, timeout=5)
    submitted = (
        await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan.id), metadata=HEAD, timeout=5)
    ).budget_plan
    returned = (
        await stub.ReturnBudgetPlan(
            pb.ReturnBudgetPlanRequest(
                plan_id=plan.id, note="Sesuaikan", line_notes=[pb.LineNote(line_number=1, note="Terlalu banyak")]
            ),
            metadata=TAPD,
            timeout=5,
        )
    ).budget_plan
    assert returned.state == budget_plan_pb2.BUDGET_PLAN_STATE_RETURNED
    assert returned.lines[0].review_note == "Terlalu banyak"
    edited = (
        await stub.UpdateBudgetLine(
            pb.UpdateBudgetLineRequest(
                plan_id=plan.id, expected_version=returned.version, line_number=1, line=paper("5 rim")
            ),
            metadata=PLANNER,
            timeout=5,
        )
    ).budget_plan
    assert edited.state == budget_plan_pb2.BUDGET_PLAN_STATE_DRAFT
    again = (
        await stub.SubmitBudgetPlan(pb.SubmitBudgetPlanRequest(plan_id=plan.id), metadata=HEAD, timeout=5)
    ).budget_plan
    diff = await stub.DiffBudgetPlanVersions(
        pb.DiffBudgetPlanVersionsRequest(plan_id=plan.id, from_version=submitted.version, to_version=again.version),
        metadata=TAPD,
        timeout=5,
    )
    assert (diff.from_total.rupiah, diff.to_total.rupiah) == (500_000, 250_000)
    (line,) = diff.lines
    assert (line.number, line.kind) == (1, budget_plan_pb2.LINE_CHANGE_KIND_CHANGED)
    changes = {c.field: (c.old_json, c.new_json) for c in line.changes}
    assert changes["volume"] == ('"10 rim"', '"5 rim"') and changes["amount"] == ("500000", "250000")
