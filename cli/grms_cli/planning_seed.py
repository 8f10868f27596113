"""Load the planning demo (grms_cli.planning_demo) into a running planning service over its gRPC API.

One ImportSubActivities call per agency: its sub-activities with their output indicator, F1
and RUP packages, checked by the same domain rules as the single calls and stored in one
transaction. The F1 of each sub-activity adds up to the amount budgeting approved, so an
agency is imported only once planning has learned those amounts from budgeting's
BudgetPlanApproved events (ListApprovedBudgets); the seed waits for that, up to a deadline.
Sub-activities planning already has are left out, so the seed can run again after an
interruption and changes nothing on a later start.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import grpc
from grms.common.v1 import money_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import planning_service_pb2_grpc as pb_grpc
from grms.planning.v1 import procurement_pb2, sub_activity_pb2
from grms_kit.identity import Identity, Role, TokenCodec

from grms_cli import demo_data, planning_demo
from grms_cli.config import CliError, read_suite_file

__all__ = [
    "PlanningSeedResult",
    "import_request",
    "plan_of",
    "planning_address",
    "seed_planning",
]

_TYPES = {
    "barang": procurement_pb2.PROCUREMENT_TYPE_GOODS,
    "pekerjaan_konstruksi": procurement_pb2.PROCUREMENT_TYPE_WORKS,
    "jasa_konsultansi": procurement_pb2.PROCUREMENT_TYPE_CONSULTING,
    "jasa_lainnya": procurement_pb2.PROCUREMENT_TYPE_OTHER_SERVICES,
}
GOVERNMENT = demo_data.PROVINCE_CODE


@dataclass
class PlanningSeedResult:
    sub_activities_created: int = 0
    sub_activities_existing: int = 0
    monthly_rows: int = 0
    packages_created: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True when this run stored anything."""
        return bool(self.sub_activities_created)


def _month_range(months: tuple[int, int]) -> procurement_pb2.MonthRange:
    return procurement_pb2.MonthRange(start_month=months[0], end_month=months[1])


def _package(p: planning_demo.DemoPackage) -> pb.PackagePlan:
    plan = pb.PackagePlan(
        account_code=p.account_code,
        name=p.name,
        procurement_type=_TYPES[p.procurement_type],  # type: ignore[arg-type]
        mode=procurement_pb2.PROCUREMENT_MODE_SELF_MANAGED
        if p.mode == "swakelola"
        else procurement_pb2.PROCUREMENT_MODE_PROVIDER,
        method=procurement_pb2.SelectionMethod.Value(f"SELECTION_METHOD_{p.method.upper()}") if p.method else 0,  # type: ignore[arg-type]
        value=money_pb2.Money(rupiah=p.value),
        domestic_product=p.domestic_product,
        small_business=p.small_business,
        contract_schedule=_month_range(p.contract),
        use_schedule=_month_range(p.use),
    )
    if p.selection is not None:
        plan.selection_schedule.CopyFrom(_month_range(p.selection))
    return plan


def plan_of(s: planning_demo.DemoSubActivity, packages: Sequence[planning_demo.DemoPackage]) -> pb.SubActivityPlan:
    return pb.SubActivityPlan(
        code=s.code,
        name=s.name,
        budget=money_pb2.Money(rupiah=s.budget),
        locations=[sub_activity_pb2.Location(government_code=GOVERNMENT, village_code=s.village_code)],
        funding_sources=list(s.funding_sources),
        tags=list(s.tags),
        indicators=[
            sub_activity_pb2.Indicator(
                level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
                kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
                name=s.indicator_name,
                unit=s.indicator_unit,
                target=s.indicator_target,
                formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
            )
        ],
        months=[
            sub_activity_pb2.MonthPlan(month=m, physical_percent=percent, disbursement=money_pb2.Money(rupiah=money))
            for m, (percent, money) in enumerate(s.months, start=1)
        ],
        mark_planned=True,
        packages=[_package(p) for p in packages],
    )


def import_request(
    agency_code: str,
    subs: Sequence[planning_demo.DemoSubActivity],
    fiscal_year: int = planning_demo.FISCAL_YEAR,
) -> pb.ImportSubActivitiesRequest:
    """ImportSubActivities for `subs` of one agency, each with its packages of the demo."""
    by_sub: dict[str, list[planning_demo.DemoPackage]] = {}
    for p in planning_demo.packages():
        if p.agency_code == agency_code:
            by_sub.setdefault(p.sub_activity_code, []).append(p)
    return pb.ImportSubActivitiesRequest(
        government_code=GOVERNMENT,
        agency_code=agency_code,
        fiscal_year=fiscal_year,
        plans=[plan_of(s, by_sub.get(s.code, ())) for s in subs],
    )


def planning_address(target: str | None, var_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """The planning service's host:port: the option, else suite.json, else GRMS_PLANNING_GRPC_HOST/PORT."""
    if target:
        return target
    env = os.environ if env is None else env
    if "GRMS_PLANNING_GRPC_PORT" not in env:
        try:
            suite = read_suite_file(var_dir)
        except CliError:
            suite = {}
        for proc in suite.get("processes", []):
            if proc.get("name") == "planning" and proc.get("address"):
                return str(proc["address"])
    host = env.get("GRMS_PLANNING_GRPC_HOST") or "127.0.0.1"
    return f"{host}:{env.get('GRMS_PLANNING_GRPC_PORT', '50152')}"


def _token(secret: str) -> str:
    identity = Identity(sub="grms-seed-planning", roles=frozenset({Role.ADMIN}), government=GOVERNMENT)
    return TokenCodec(secret).issue(identity)


def _fail(what: str, exc: grpc.RpcError, address: str) -> CliError:
    code = exc.code()  # type: ignore[attr-defined]
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return CliError(f"planning at {address} is unreachable ({code.name}): {exc.details()}")  # type: ignore[attr-defined]
    return CliError(f"{what} failed: {code.name}: {exc.details()}")  # type: ignore[attr-defined]


def seed_planning(
    address: str,
    secret: str,
    *,
    fiscal_year: int = planning_demo.FISCAL_YEAR,
    advance: Callable[[str], None] = lambda _what: None,
    should_stop: Callable[[], bool] = lambda: False,
    timeout: float = 120.0,
    wait_for_budget: float = 600.0,
    poll: float = 0.5,
    agencies: int | None = None,
) -> PlanningSeedResult:
    """Plan the demo province-year at planning `address`, one import per agency; existing sub-activities are kept.

    Each agency waits (up to `wait_for_budget` seconds in all) until planning knows the agency
    and has learned the approved amount of each of its sub-activities; an approved amount that
    differs from the demo's is an error, not something to plan around. `agencies` limits the
    seed to the first that many agencies (tests, quick demos).
    """
    started = time.perf_counter()
    result = PlanningSeedResult()
    metadata = [("authorization", f"Bearer {_token(secret)}")]
    groups = [(code, list(subs)) for code, subs in groupby(planning_demo.catalogue(), key=lambda s: s.agency_code)]
    if agencies is not None:
        groups = groups[:agencies]
    deadline = time.monotonic() + wait_for_budget
    options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(address, options=options) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=min(timeout, 30.0))
        except grpc.FutureTimeoutError:
            raise CliError(f"planning at {address} is unreachable (no connection within 30s)") from None
        stub = pb_grpc.PlanningServiceStub(channel)
        for agency, subs in groups:
            if should_stop():
                break
            query = pb.ListApprovedBudgetsRequest(
                government_code=GOVERNMENT, fiscal_year=fiscal_year, agency_code=agency
            )
            while True:
                try:
                    known = stub.ListApprovedBudgets(query, metadata=metadata, timeout=timeout)
                except grpc.RpcError as exc:
                    raise _fail(f"reading the approved budgets of agency {agency}", exc, address) from None
                planned = set(known.planned_codes)
                approved = {a.sub_activity_code: a.amount.rupiah for a in known.approved_budgets}
                todo = [s for s in subs if s.code not in planned]
                missing = [s for s in todo if s.code not in approved]
                if not missing or should_stop():
                    break
                if time.monotonic() > deadline:
                    raise CliError(
                        f"planning has not learned budgeting's approved amounts of agency {agency} within "
                        f"{wait_for_budget:.0f}s ({len(todo) - len(missing)} of {len(todo)}): is the demo budget "
                        f"loaded (`grms seed-budget`) and planning consuming budgeting's events?"
                    )
                time.sleep(poll)
            if should_stop():
                break
            result.sub_activities_existing += len(subs) - len(todo)
            differing = [s for s in todo if approved[s.code] != s.approved]
            if differing:
                s = differing[0]
                raise CliError(
                    f"budgeting approved Rp {approved[s.code]:,} for {agency} {s.code}, not the demo's "
                    f"Rp {s.approved:,} ({len(differing)} sub-activities differ): the budget is not the demo's"
                )
            if not todo:
                advance(f"{agency} (planned already)")
                continue
            request = import_request(agency, todo, fiscal_year)
            while True:
                try:
                    reply = stub.ImportSubActivities(request, metadata=metadata, timeout=timeout)
                    break
                except grpc.RpcError as exc:
                    # The agency reaches planning through budgeting's reference events; wait for it.
                    if exc.code() == grpc.StatusCode.FAILED_PRECONDITION and time.monotonic() < deadline:  # type: ignore[attr-defined]
                        time.sleep(poll)
                        continue
                    raise _fail(f"importing the plans of agency {agency}", exc, address) from None
            result.sub_activities_created += reply.sub_activities
            result.monthly_rows += reply.monthly_rows
            result.packages_created += reply.packages
            advance(agency)
    result.seconds = time.perf_counter() - started
    return result
