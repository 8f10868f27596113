"""The FY2025 demo budget: its figures, and its load into a REAL budgeting service (SQLite, NATS) over gRPC."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grms.budgeting.v1 import budget_plan_pb2, treasury_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms.common.v1 import paging_pb2
from grms_budgeting import bootstrap
from grms_budgeting.config import Settings
from grms_budgeting.domain.budget import parse_volume
from grms_cli import demo_budget, demo_data
from grms_cli.seed import admin_token, seed
from grms_cli.seed_budget import seed_budget
from grms_kit.testing import NatsServer, free_port

SECRET = "demo-budget-test-secret-0123456789abcdef"


def test_the_catalogue_has_the_provinces_shape_and_is_deterministic() -> None:
    subs = demo_budget.sub_activities()
    assert len(subs) == demo_budget.SUB_ACTIVITY_COUNT == 3_000
    per_agency = Counter(s.agency_code for s in subs)
    assert len(per_agency) == 48 and set(per_agency.values()) == {62, 63}
    assert sum(s.ceiling for s in subs) == sum(demo_budget.agency_ceilings().values()) == 23_100_000_000_000
    assert demo_budget.agency_ceilings()[demo_budget.EDUCATION] == 8_810_000_000_000
    assert len({(s.agency_code, s.code) for s in subs}) == 3_000
    codes = dict(demo_budget.nomenclature())
    for s in subs:
        parts = s.code.split(".")
        assert len(parts) == 6 and codes[s.code] == s.name
        assert all(".".join(parts[:n]) in codes for n in (1, 2, 3, 5))
    demo_budget.sub_activities.cache_clear()
    assert demo_budget.sub_activities() == subs


def test_lines_stay_under_ceilings_and_standard_prices_and_add_up_to_about_the_year() -> None:
    prices = {p.code: p for p in demo_budget.standard_prices()}
    assert len(prices) == 600 and len({p.name for p in prices.values()}) == 40
    lines = total = 0
    for sub, plan_lines in demo_budget.iter_lines():
        amount = sum(line.amount for line in plan_lines)
        assert sub.ceiling * 989 // 1000 <= amount <= sub.ceiling, sub
        for line in plan_lines:
            factors = parse_volume(line.volume, "volume")
            assert line.amount == line.unit_price * math.prod(f.quantity for f in factors)
            if line.standard_item_code:
                item = prices[line.standard_item_code]
                assert line.unit_price <= item.price and line.account_code == item.account_code
            else:
                assert not line.account_code.startswith(("5.1.02.", "5.2."))
        lines += len(plan_lines)
        total += amount
    assert 95_000 <= lines <= 105_000
    assert 22_900_000_000_000 <= total <= 23_100_000_000_000


def test_the_cash_plan_follows_the_realisation_curve() -> None:
    months = demo_budget.cash_plan(1_000_000_000)
    assert len(months) == 12 and sum(months) == 1_000_000_000 and min(months) >= 0
    running = 0
    for month, share in enumerate(demo_budget.REALISATION_CURVE[:-1]):
        running += months[month]
        assert running == 1_000_000_000 * share // 100
    assert months[3] == 30_000_000  # April: 8 % − 5 %
    paid = demo_budget.realisation(1_000_000_000)
    assert sum(paid) == 940_000_000 and sum(paid[:4]) == 80_000_000  # 94 % by December, 8 % by April
    assert all(sum(paid[: m + 1]) <= sum(months[: m + 1]) for m in range(12))


@pytest.fixture
def budgeting(nats_server: NatsServer, tmp_path: Path) -> Iterator[str]:
    """The real budgeting service on its own event loop in a thread; its gRPC address."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'budgeting.db'}",
        grpc_port=free_port(),
        nats_url=nats_server.url,
        auth_secret=SECRET,
        var_dir=tmp_path,
    )
    runtime = bootstrap.build(settings)
    loop = asyncio.new_event_loop()
    stop: list[asyncio.Event] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        stop.append(asyncio.Event())
        loop.run_until_complete(runtime.run(stop[0]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not runtime.ready.is_set():
        assert time.monotonic() < deadline, "budgeting did not start"
        time.sleep(0.05)
    yield settings.grpc_address
    loop.call_soon_threadsafe(stop[0].set)
    thread.join(30)


def test_the_seed_loads_approved_dpas_over_grpc_and_a_second_run_skips_them(
    budgeting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two agencies' sub-activities (125 DPAs) keep the test short; the full year is measured in the report.
    two = tuple(
        s for s in demo_budget.sub_activities() if s.agency_code in {"4.01.0.00.0.00.01.0000", "1.02.0.00.0.00.01.0000"}
    )
    monkeypatch.setattr(demo_budget, "sub_activities", lambda: two)
    seed(budgeting, SECRET)
    first = seed_budget(budgeting, SECRET)
    expected_lines = sum(len(demo_budget.lines_of(s)) for s in two)
    assert (first.plans_loaded, first.lines_loaded, first.prices_created) == (len(two), expected_lines, 600)
    again = seed_budget(budgeting, SECRET)
    assert (again.plans_loaded, again.plans_existing, again.changed) == (0, len(two), False)

    metadata = [("authorization", f"Bearer {admin_token(SECRET)}")]
    with grpc.insecure_channel(budgeting) as channel:
        stub = pb_grpc.BudgetingServiceStub(channel)
        listed = stub.ListBudgetPlans(
            pb.ListBudgetPlansRequest(
                government_code="33", fiscal_year=2025, state=budget_plan_pb2.BUDGET_PLAN_STATE_APPROVED
            ),
            metadata=metadata,
            timeout=10,
        )
        assert len(listed.budget_plans) == 100 and listed.page.next_page_token
        plan = listed.budget_plans[0]
        sub = next(s for s in two if (s.agency_code, s.code) == (plan.agency_code, plan.sub_activity_code))
        assert plan.total.rupiah == sum(line.amount for line in demo_budget.lines_of(sub)) <= sub.ceiling
        versions = stub.ListBudgetPlanVersions(
            pb.ListBudgetPlanVersionsRequest(plan_id=plan.id), metadata=metadata, timeout=10
        )
        assert [v.action for v in versions.versions] == ["submit", "verify", "approve"]
        paid, token = [], ""
        while True:  # every SPP of the agency, page by page
            queue = stub.ListPaymentRequests(
                pb.ListPaymentRequestsRequest(
                    government_code="33",
                    agency_code=plan.agency_code,
                    page=paging_pb2.PageRequest(page_size=500, page_token=token),
                ),
                metadata=metadata,
                timeout=10,
            )
            paid += [r for r in queue.payment_requests if r.plan_id == plan.id]
            token = queue.page.next_page_token
            if not token:
                break
        assert sum(r.amount.rupiah for r in paid) == sum(demo_budget.realisation(plan.total.rupiah))
        assert {r.state for r in paid} == {treasury_pb2.PAYMENT_REQUEST_STATE_DISBURSED}
        audit = stub.ListAuditEntries(pb.ListAuditEntriesRequest(plan_id=plan.id), metadata=metadata, timeout=10)
        # create, the loaded lines as one import_lines entry, submit, verify, approve
        assert audit.first_broken_seq == 0 and [e.action for e in audit.entries] == [
            "create",
            "import_lines",
            "submit",
            "verify",
            "approve",
        ]
        assert json.loads(audit.entries[1].new_json)["lines"] == plan.line_count
    assert demo_data.PROVINCE_CODE == "33"
