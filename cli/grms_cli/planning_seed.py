"""Load the planning demo (grms_cli.planning_demo) into a running planning service over its gRPC API.

Each sub-activity is planned the way a planner does it: created, given its output indicator,
given the suggested default F1 of its kind of work, marked planned; then the packages of the
RUP are added. A sub-activity that already exists (ALREADY_EXISTS) is left as it is, so the
seed can run again after an interruption.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
from grms.common.v1 import money_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import planning_service_pb2_grpc as pb_grpc
from grms.planning.v1 import procurement_pb2, sub_activity_pb2
from grms_kit.identity import Identity, Role, TokenCodec

from grms_cli import planning_demo
from grms_cli.config import CliError, read_suite_file

__all__ = [
    "PlanningSeedResult",
    "create_request",
    "indicator_request",
    "package_request",
    "planning_address",
    "seed_planning",
]

_TYPES = {
    "barang": procurement_pb2.PROCUREMENT_TYPE_GOODS,
    "pekerjaan_konstruksi": procurement_pb2.PROCUREMENT_TYPE_WORKS,
    "jasa_konsultansi": procurement_pb2.PROCUREMENT_TYPE_CONSULTING,
    "jasa_lainnya": procurement_pb2.PROCUREMENT_TYPE_OTHER_SERVICES,
}
_CURVES = {
    "construction": sub_activity_pb2.CURVE_SHAPE_CONSTRUCTION,
    "goods": sub_activity_pb2.CURVE_SHAPE_GOODS,
    "services": sub_activity_pb2.CURVE_SHAPE_SERVICES,
}


@dataclass
class PlanningSeedResult:
    sub_activities_created: int = 0
    sub_activities_existing: int = 0
    packages_created: int = 0


def create_request(s: planning_demo.DemoSubActivity, fiscal_year: int) -> pb.CreateSubActivityRequest:
    """CreateSubActivity for a demo sub-activity of the province."""
    return pb.CreateSubActivityRequest(
        government_code=planning_demo.demo_data.PROVINCE_CODE,
        agency_code=s.agency_code,
        fiscal_year=fiscal_year,
        code=s.code,
        name=s.name,
        budget=money_pb2.Money(rupiah=s.budget),
        locations=[sub_activity_pb2.Location(government_code="33", village_code=s.village_code)],
        funding_sources=[s.funding_source],
        tags=list(s.tags),
    )


def indicator_request(s: planning_demo.DemoSubActivity, sub_activity_id: str) -> pb.AddIndicatorRequest:
    """AddIndicator: the sub-activity's output indicator."""
    return pb.AddIndicatorRequest(
        sub_activity_id=sub_activity_id,
        indicator=sub_activity_pb2.Indicator(
            level=sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
            kind=sub_activity_pb2.INDICATOR_KIND_OUTPUT,
            name=s.indicator_name,
            unit=s.indicator_unit,
            target=s.indicator_target,
            formula=sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
        ),
    )


def suggest_request(s: planning_demo.DemoSubActivity, sub_activity_id: str) -> pb.SuggestMonthlyPlanRequest:
    """SuggestMonthlyPlan with the default curve of the sub-activity's kind of work."""
    return pb.SuggestMonthlyPlanRequest(sub_activity_id=sub_activity_id, shape=_CURVES[s.curve])  # type: ignore[arg-type]


def package_request(p: planning_demo.DemoPackage, sub_activity_id: str) -> pb.CreateProcurementPackageRequest:
    """CreateProcurementPackage for a demo package."""
    request = pb.CreateProcurementPackageRequest(
        sub_activity_id=sub_activity_id,
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
        contract_schedule=procurement_pb2.MonthRange(start_month=p.contract[0], end_month=p.contract[1]),
        use_schedule=procurement_pb2.MonthRange(start_month=p.use[0], end_month=p.use[1]),
    )
    if p.selection is not None:
        request.selection_schedule.CopyFrom(
            procurement_pb2.MonthRange(start_month=p.selection[0], end_month=p.selection[1])
        )
    return request


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
    return TokenCodec(secret).issue(Identity(sub="grms-seed-planning", roles=frozenset({Role.ADMIN}), government="33"))


def seed_planning(
    address: str,
    secret: str,
    *,
    fiscal_year: int = planning_demo.FISCAL_YEAR,
    advance: Callable[[str], None] = lambda _what: None,
    timeout: float = 10.0,
    wait_for_agencies: float = 120.0,
    agencies: int | None = None,
) -> PlanningSeedResult:
    """Plan the demo province-year at planning `address`; existing sub-activities are skipped.

    `agencies` limits the seed to the first that many agencies (tests, quick demos).
    """
    result = PlanningSeedResult()
    metadata = [("authorization", f"Bearer {_token(secret)}")]
    subs = planning_demo.catalogue()
    demo_packages = planning_demo.packages(subs)
    if agencies is not None:
        kept = list(dict.fromkeys(s.agency_code for s in subs))[:agencies]
        subs = [s for s in subs if s.agency_code in kept]
    by_key: dict[tuple[str, str], str] = {}
    with grpc.insecure_channel(address) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise CliError(f"planning at {address} is unreachable (no connection within {timeout:.0f}s)") from None
        stub = pb_grpc.PlanningServiceStub(channel)
        deadline = time.monotonic() + wait_for_agencies
        for s in subs:
            while True:
                try:
                    created = stub.CreateSubActivity(create_request(s, fiscal_year), metadata=metadata, timeout=timeout)
                    break
                except grpc.RpcError as exc:
                    code = exc.code()  # type: ignore[attr-defined]
                    if code == grpc.StatusCode.ALREADY_EXISTS:
                        created = None
                        break
                    # The agencies reach planning through budgeting's events; wait for the copy.
                    if code == grpc.StatusCode.FAILED_PRECONDITION and time.monotonic() < deadline:
                        time.sleep(0.5)
                        continue
                    raise CliError(f"planning {s.agency_code}/{s.code}: {code.name}: {exc.details()}") from None  # type: ignore[attr-defined]
            if created is None:
                result.sub_activities_existing += 1
                advance(f"{s.code} (exists)")
                continue
            sub_id = created.sub_activity.id
            stub.AddIndicator(indicator_request(s, sub_id), metadata=metadata, timeout=timeout)
            months = stub.SuggestMonthlyPlan(suggest_request(s, sub_id), metadata=metadata, timeout=timeout).months
            planned = stub.SetMonthlyPlan(
                pb.SetMonthlyPlanRequest(sub_activity_id=sub_id, months=months, expected_version=2),
                metadata=metadata,
                timeout=timeout,
            )
            stub.MarkSubActivityPlanned(
                pb.MarkSubActivityPlannedRequest(sub_activity_id=sub_id, expected_version=planned.sub_activity.version),
                metadata=metadata,
                timeout=timeout,
            )
            by_key[(s.agency_code, s.code)] = sub_id
            result.sub_activities_created += 1
            advance(s.code)
        for p in demo_packages:
            sub_id = by_key.get((p.agency_code, p.sub_activity_code))
            if sub_id is None:  # not planned by this run: another agency, or planned (with its packages) earlier
                continue
            stub.CreateProcurementPackage(package_request(p, sub_id), metadata=metadata, timeout=timeout)
            result.packages_created += 1
            advance(p.name)
    return result
