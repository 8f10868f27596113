"""Loads the FY2025 demo budget of Jawa Tengah into budgeting over gRPC: codes, prices, ceilings, approved DPAs.

Everything goes through budgeting's own API and rules: the codes and accounts as one import
each, the 600 standard prices and 3,048 ceilings one call each, and the 3,000 DPAs through
the bulk LoadApprovedPlans call in batches of one agency, so the year loads in seconds, not
the minutes 15,000 single edits would take. Each DPA is realised month by month on the
curve of DOMAIN.md §6.1 by SP2Ds (each publishing FundsDisbursed). Each step skips what exists, so a second run (or
a run after an interruption) changes nothing it need not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

import grpc
from grms.budgeting.v1 import budget_plan_pb2, budgeting_service_pb2, budgeting_service_pb2_grpc, codes_pb2, prices_pb2
from grms.common.v1 import money_pb2, paging_pb2

from grms_cli import demo_budget
from grms_cli.config import CliError
from grms_cli.seed import admin_token, tapd_token

__all__ = ["BudgetSeedResult", "budget_seed_steps", "seed_budget"]

_GROUPS = {
    "ssh": prices_pb2.STANDARD_PRICE_GROUP_SSH,
    "sbu": prices_pb2.STANDARD_PRICE_GROUP_SBU,
    "hspk": prices_pb2.STANDARD_PRICE_GROUP_HSPK,
    "asb": prices_pb2.STANDARD_PRICE_GROUP_ASB,
}
GOVERNMENT = "33"


@dataclass
class BudgetSeedResult:
    """What the budget seed created."""

    prices_created: int = 0
    ceilings_set: int = 0
    plans_loaded: int = 0
    plans_existing: int = 0
    lines_loaded: int = 0

    @property
    def changed(self) -> bool:
        """True when this run created anything."""
        return bool(self.prices_created or self.ceilings_set or self.plans_loaded)


def budget_seed_steps() -> int:
    """Progress steps of a full budget seed: prices, ceilings, one per agency's plans, plus the two imports."""
    agencies = {s.agency_code for s in demo_budget.sub_activities()}
    return 2 + len(demo_budget.standard_prices()) + len(demo_budget.sub_activities()) + 2 * len(agencies)


def _rp(value: int) -> money_pb2.Money:
    return money_pb2.Money(rupiah=value)


def _already(exc: grpc.RpcError) -> bool:
    """True for ALREADY_EXISTS, or an import refused only because its rows are stored already."""
    code = exc.code() if hasattr(exc, "code") else None
    if code == grpc.StatusCode.ALREADY_EXISTS:
        return True
    details = exc.details() if hasattr(exc, "details") else ""
    return code == grpc.StatusCode.INVALID_ARGUMENT and "already imported" in (details or "")


def _fail(what: str, exc: grpc.RpcError, address: str) -> CliError:
    code = exc.code() if hasattr(exc, "code") else None
    detail = exc.details() if hasattr(exc, "details") else str(exc)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return CliError(f"budgeting at {address} is unreachable ({code.name}): {detail}")
    return CliError(f"{what} failed: {code.name if code else 'ERROR'}: {detail}")


def _line(line: demo_budget.DemoLine) -> budget_plan_pb2.BudgetLineInput:
    return budget_plan_pb2.BudgetLineInput(
        account_code=line.account_code,
        standard_item_code=line.standard_item_code,
        specification=line.specification,
        volume=line.volume,
        unit=line.unit,
        unit_price=_rp(line.unit_price),
        funding_source=line.funding_source,
    )


def seed_budget(
    address: str,
    secret: str,
    *,
    advance: Callable[[str], None] = lambda _what: None,
    should_stop: Callable[[], bool] = lambda: False,
    timeout: float = 120.0,
) -> BudgetSeedResult:
    """Load the demo year at budgeting `address` (after the governments and agencies of `grms seed`)."""
    result = BudgetSeedResult()
    year = demo_budget.FISCAL_YEAR
    admin = [("authorization", f"Bearer {admin_token(secret)}")]
    tapd = [("authorization", f"Bearer {tapd_token(secret)}")]
    with grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]) as channel:
        stub = budgeting_service_pb2_grpc.BudgetingServiceStub(channel)
        try:
            loaded = stub.ListBudgetPlans(
                budgeting_service_pb2.ListBudgetPlansRequest(
                    government_code=GOVERNMENT, fiscal_year=year, page=paging_pb2.PageRequest(page_size=1)
                ),
                metadata=admin,
                timeout=timeout,
            )
        except grpc.RpcError as exc:
            raise _fail("reading the plans", exc, address) from None
        codes = demo_budget.nomenclature()
        steps: list[tuple[str, Callable[[], object]]] = [
            (
                f"{len(codes):,} nomenclature codes",
                lambda: stub.ImportNomenclature(
                    budgeting_service_pb2.ImportNomenclatureRequest(
                        fiscal_year=year,
                        codes=[
                            codes_pb2.NomenclatureCode(code=c, name=n, for_province=True, for_regency_city=True)
                            for c, n in codes
                        ],
                    ),
                    metadata=admin,
                    timeout=timeout,
                ),
            ),
            (
                "account codes",
                lambda: stub.ImportAccountCodes(
                    budgeting_service_pb2.ImportAccountCodesRequest(
                        fiscal_year=year,
                        accounts=[codes_pb2.AccountCode(code=c, name=n) for c, n in _account_tree()],
                    ),
                    metadata=admin,
                    timeout=timeout,
                ),
            ),
        ]
        fresh = not loaded.budget_plans
        for what, call in steps if fresh else []:
            try:
                call()
            except grpc.RpcError as exc:
                if not _already(exc):
                    raise _fail(f"importing {what}", exc, address) from None
            advance(what)
        if fresh:
            for price in demo_budget.standard_prices():
                if should_stop():
                    return result
                request = budgeting_service_pb2.CreateStandardPriceRequest(
                    standard_price=prices_pb2.StandardPrice(
                        government_code=GOVERNMENT,
                        fiscal_year=year,
                        group=_GROUPS[price.group],
                        code=price.code,
                        name=price.name,
                        specification=price.specification,
                        unit=price.unit,
                        price=_rp(price.price),
                        account_codes=[price.account_code],
                    )
                )
                try:
                    stub.CreateStandardPrice(request, metadata=tapd, timeout=timeout)
                    result.prices_created += 1
                except grpc.RpcError as exc:
                    if not _already(exc):
                        raise _fail(f"adding standard price {price.code}", exc, address) from None
                advance(price.code)
            for agency, ceiling in demo_budget.agency_ceilings().items():
                _ceiling(stub, tapd, year, agency, "", ceiling, address, timeout)
                result.ceilings_set += 1
            for sub in demo_budget.sub_activities():
                if should_stop():
                    return result
                _ceiling(stub, tapd, year, sub.agency_code, sub.code, sub.ceiling, address, timeout)
                result.ceilings_set += 1
                advance(f"pagu {sub.code}")
        for agency, subs in groupby(demo_budget.sub_activities(), key=lambda s: s.agency_code):
            if should_stop():
                return result
            plans = []
            for sub in subs:
                lines = demo_budget.lines_of(sub)
                total = sum(line.amount for line in lines)
                plans.append(
                    budgeting_service_pb2.ApprovedPlanInput(
                        agency_code=sub.agency_code,
                        sub_activity_code=sub.code,
                        lines=[_line(line) for line in lines],
                        cash_plan=[_rp(m) for m in demo_budget.cash_plan(total)],
                        disbursed_months=[_rp(m) for m in demo_budget.realisation(total)],
                    )
                )
            try:
                reply = stub.LoadApprovedPlans(
                    budgeting_service_pb2.LoadApprovedPlansRequest(
                        government_code=GOVERNMENT, fiscal_year=year, plans=plans
                    ),
                    metadata=admin,
                    timeout=timeout,
                )
            except grpc.RpcError as exc:
                raise _fail(f"loading the DPAs of agency {agency}", exc, address) from None
            result.plans_loaded += reply.loaded_count
            result.plans_existing += reply.skipped_count
            result.lines_loaded += reply.line_count
            advance(f"DPA {agency}")
    return result


def _ceiling(stub, metadata, year, agency, sub, amount, address, timeout) -> None:  # type: ignore[no-untyped-def]
    request = budgeting_service_pb2.SetCeilingRequest(
        government_code=GOVERNMENT, fiscal_year=year, agency_code=agency, sub_activity_code=sub, amount=_rp(amount)
    )
    try:
        stub.SetCeiling(request, metadata=metadata, timeout=timeout)
    except grpc.RpcError as exc:
        raise _fail(f"setting the ceiling of {agency} {sub}", exc, address) from None


def _account_tree() -> list[tuple[str, str]]:
    """The demo accounts with every parent level, parents first."""
    names = {"5": "BELANJA DAERAH", "5.1": "BELANJA OPERASI", "5.2": "BELANJA MODAL", "5.4": "BELANJA TRANSFER"}
    for code, name in demo_budget.ACCOUNTS:
        parts = code.split(".")
        for depth in range(1, len(parts)):
            names.setdefault(".".join(parts[:depth]), f"Rekening {'.'.join(parts[:depth])}")
        names[code] = name
    return sorted(names.items(), key=lambda kv: (kv[0].count("."), kv[0]))
