"""JSON shapes of e-budgeting's routes: budget plans (RKA → DPA), versions and diffs, price search, the SPP queue.

Money is whole rupiah as JSON integers. Enum values are the lower-case names without their
proto prefix ("draft", "shift", "ls_pihak_ketiga").
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from google.protobuf import timestamp_pb2
from grms.budgeting.v1 import budget_plan_pb2, prices_pb2, treasury_pb2
from grms.common.v1 import money_pb2
from pydantic import BaseModel, Field

__all__ = [
    "PLAN_STATE_VALUES",
    "REVISION_KIND_VALUES",
    "SPP_STATE_VALUES",
    "BudgetLineIn",
    "BudgetLineOut",
    "BudgetPlanIn",
    "BudgetPlanList",
    "BudgetPlanOut",
    "CashPlanIn",
    "CashPlanOut",
    "CashPlanSetOut",
    "CashPlansOut",
    "DiffOut",
    "LineNoteIn",
    "PaymentRequestList",
    "PaymentRequestOut",
    "PlanVersionOut",
    "RejectIn",
    "ReturnIn",
    "ReviseIn",
    "StandardPriceList",
    "StandardPriceOut",
    "cash_plan_out",
    "line_input",
    "payment_request_out",
    "plan_out",
    "standard_price_out",
    "version_out",
]

PlanState = Literal["draft", "submitted", "verified", "returned", "approved"]
RevisionKind = Literal["shift", "amendment"]
SppState = Literal["requested", "ordered", "disbursed", "rejected"]

PLAN_STATE_VALUES: dict[str, int] = {
    s: budget_plan_pb2.BudgetPlanState.Value(f"BUDGET_PLAN_STATE_{s.upper()}")
    for s in PlanState.__args__  # type: ignore[attr-defined]
}
REVISION_KIND_VALUES: dict[str, int] = {
    k: budget_plan_pb2.RevisionKind.Value(f"REVISION_KIND_{k.upper()}")
    for k in RevisionKind.__args__  # type: ignore[attr-defined]
}
SPP_STATE_VALUES: dict[str, int] = {
    s: treasury_pb2.PaymentRequestState.Value(f"PAYMENT_REQUEST_STATE_{s.upper()}")
    for s in SppState.__args__  # type: ignore[attr-defined]
}


def _name(enum: Any, value: int, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower() if value else ""


def _time(stamp: timestamp_pb2.Timestamp) -> dt.datetime | None:
    return stamp.ToDatetime(dt.UTC) if stamp.seconds or stamp.nanos else None


def _rupiah(m: money_pb2.Money) -> int:
    return int(m.rupiah)


class BudgetPlanIn(BaseModel):
    """A new, empty draft plan (RKA) of an agency for one sub-activity and year."""

    government_code: str = Field(pattern=r"^\d{2}(\.\d{2})?$", examples=["33"])
    agency_code: str = Field(min_length=1, max_length=40, examples=["1.02.0.00.0.00.01.0000"])
    sub_activity_code: str = Field(min_length=1, max_length=30, examples=["1.02.02.2.01.0001"])
    fiscal_year: int = Field(ge=2000, le=2100, examples=[2026])


class BudgetLineIn(BaseModel):
    """A budget line (rincian belanja) as a planner writes it; the service checks every rule."""

    account_code: str = Field(max_length=40, examples=["5.1.02.01.01.0024"])
    standard_item_code: str = Field("", max_length=60, examples=["1.1.12.01.03.0005"])
    specification: str = Field("", max_length=1000, examples=["Kertas HVS A4 70 gram"])
    volume: str = Field(max_length=200, examples=["10 orang x 2 kali"])
    unit: str = Field(max_length=50, examples=["rim"])
    unit_price: int = Field(ge=0, le=2**63 - 1, examples=[50_000])
    funding_source: str = Field(max_length=100, examples=["PAD"])
    tags: list[str] = Field(default_factory=list, max_length=20)


def line_input(body: BudgetLineIn) -> budget_plan_pb2.BudgetLineInput:
    """The line as its message."""
    return budget_plan_pb2.BudgetLineInput(
        account_code=body.account_code,
        standard_item_code=body.standard_item_code,
        specification=body.specification,
        volume=body.volume,
        unit=body.unit,
        unit_price=money_pb2.Money(rupiah=body.unit_price),
        funding_source=body.funding_source,
        tags=body.tags,
    )


class BudgetLineOut(BaseModel):
    number: int
    account_code: str
    standard_item_code: str
    specification: str
    volume: str
    unit: str
    unit_price: int
    amount: int
    funding_source: str
    tags: list[str]
    review_note: str


class BudgetPlanOut(BaseModel):
    """A plan; `lines` is empty in lists (see `line_count`). `version` is also its ETag."""

    id: str
    government_code: str
    agency_code: str
    sub_activity_code: str
    fiscal_year: int
    state: str
    version: int
    total: int
    line_count: int
    revision: int
    revision_kind: str
    approved_total: int
    review_note: str
    output_indicators: list[str]
    lines: list[BudgetLineOut]
    create_time: dt.datetime | None
    update_time: dt.datetime | None


def plan_out(p: budget_plan_pb2.BudgetPlan) -> BudgetPlanOut:
    """The plan message as JSON."""
    return BudgetPlanOut(
        id=p.id,
        government_code=p.government_code,
        agency_code=p.agency_code,
        sub_activity_code=p.sub_activity_code,
        fiscal_year=p.fiscal_year,
        state=_name(budget_plan_pb2.BudgetPlanState, p.state, "BUDGET_PLAN_STATE_"),
        version=p.version,
        total=_rupiah(p.total),
        line_count=p.line_count,
        revision=p.revision,
        revision_kind=_name(budget_plan_pb2.RevisionKind, p.revision_kind, "REVISION_KIND_"),
        approved_total=_rupiah(p.approved_total),
        review_note=p.review_note,
        output_indicators=list(p.output_indicators),
        lines=[
            BudgetLineOut(
                number=line.number,
                account_code=line.account_code,
                standard_item_code=line.standard_item_code,
                specification=line.specification,
                volume=line.volume,
                unit=line.unit,
                unit_price=_rupiah(line.unit_price),
                amount=_rupiah(line.amount),
                funding_source=line.funding_source,
                tags=list(line.tags),
                review_note=line.review_note,
            )
            for line in p.lines
        ],
        create_time=_time(p.create_time),
        update_time=_time(p.update_time),
    )


class BudgetPlanList(BaseModel):
    budget_plans: list[BudgetPlanOut]
    next_page_token: str


class LineNoteIn(BaseModel):
    line_number: int = Field(ge=1)
    note: str = Field(max_length=2000)


class ReturnIn(BaseModel):
    """TAPD's reasons: a note on the plan, notes on single lines, or both."""

    note: str = Field("", max_length=2000)
    line_notes: list[LineNoteIn] = Field(default_factory=list, max_length=5000)


class ReviseIn(BaseModel):
    """Open a revision of a DPA: a shift within it (pergeseran) or an amendment (perubahan)."""

    kind: RevisionKind
    reason: str = Field(max_length=2000)


class PlanVersionOut(BaseModel):
    version: int
    state: str
    action: str
    actor: str
    create_time: dt.datetime | None
    total: int
    line_count: int


def version_out(v: budget_plan_pb2.BudgetPlanVersion) -> PlanVersionOut:
    """A snapshot's metadata as JSON."""
    return PlanVersionOut(
        version=v.version,
        state=_name(budget_plan_pb2.BudgetPlanState, v.state, "BUDGET_PLAN_STATE_"),
        action=v.action,
        actor=v.actor,
        create_time=_time(v.create_time),
        total=_rupiah(v.total),
        line_count=v.line_count,
    )


class FieldChangeOut(BaseModel):
    field: str
    old: Any
    new: Any


class LineDiffOut(BaseModel):
    number: int
    kind: Literal["added", "removed", "changed"]
    changes: list[FieldChangeOut]


class DiffOut(BaseModel):
    from_version: int
    to_version: int
    from_total: int
    to_total: int
    lines: list[LineDiffOut]


def diff_lines(lines: Any) -> list[LineDiffOut]:
    """The diff messages as JSON (field values decoded from their JSON text)."""
    return [
        LineDiffOut(
            number=d.number,
            kind=_name(budget_plan_pb2.LineChangeKind, d.kind, "LINE_CHANGE_KIND_"),  # type: ignore[arg-type]
            changes=[
                FieldChangeOut(field=c.field, old=json.loads(c.old_json), new=json.loads(c.new_json)) for c in d.changes
            ],
        )
        for d in lines
    ]


class StandardPriceOut(BaseModel):
    group: str
    code: str
    name: str
    specification: str
    unit: str
    price: int
    account_codes: list[str]


def standard_price_out(s: prices_pb2.StandardPrice) -> StandardPriceOut:
    """The item as JSON."""
    return StandardPriceOut(
        group=_name(prices_pb2.StandardPriceGroup, s.group, "STANDARD_PRICE_GROUP_"),
        code=s.code,
        name=s.name,
        specification=s.specification,
        unit=s.unit,
        price=_rupiah(s.price),
        account_codes=list(s.account_codes),
    )


class StandardPriceList(BaseModel):
    standard_prices: list[StandardPriceOut]
    next_page_token: str


class PaymentStepOut(BaseModel):
    state: str
    actor: str
    time: dt.datetime | None
    note: str


class PaymentRequestOut(BaseModel):
    """An SPP and what became of it (SPM, SP2D or rejection). `version` is also its ETag."""

    id: str
    number: str
    government_code: str
    agency_code: str
    plan_id: str
    fiscal_year: int
    line_number: int
    kind: str
    amount: int
    description: str
    beneficiary_name: str
    contract_reference: str
    state: str
    version: int
    spm_number: str
    sp2d_number: str
    rejection_reason: str
    history: list[PaymentStepOut]
    create_time: dt.datetime | None


def payment_request_out(r: treasury_pb2.PaymentRequest) -> PaymentRequestOut:
    """The payment request as JSON."""
    state = "PAYMENT_REQUEST_STATE_"
    return PaymentRequestOut(
        id=r.id,
        number=r.number,
        government_code=r.government_code,
        agency_code=r.agency_code,
        plan_id=r.plan_id,
        fiscal_year=r.fiscal_year,
        line_number=r.line_number,
        kind=_name(treasury_pb2.PaymentKind, r.kind, "PAYMENT_KIND_"),
        amount=_rupiah(r.amount),
        description=r.description,
        beneficiary_name=r.beneficiary.name,
        contract_reference=r.contract_reference,
        state=_name(treasury_pb2.PaymentRequestState, r.state, state),
        version=r.version,
        spm_number=r.spm_number,
        sp2d_number=r.sp2d_number,
        rejection_reason=r.rejection_reason,
        history=[
            PaymentStepOut(
                state=_name(treasury_pb2.PaymentRequestState, h.state, state),
                actor=h.actor,
                time=_time(h.time),
                note=h.note,
            )
            for h in r.history
        ],
        create_time=_time(r.create_time),
    )


class PaymentRequestList(BaseModel):
    payment_requests: list[PaymentRequestOut]
    next_page_token: str


class RejectIn(BaseModel):
    reason: str = Field(max_length=2000)


class CashPlanIn(BaseModel):
    """The monthly cash plan (anggaran kas) of a DPA line, or of the whole plan (line_number 0)."""

    line_number: int = Field(0, ge=0, le=2**31 - 1)
    months: list[int] = Field(min_length=12, max_length=12, description="Twelve amounts in rupiah, January first")


class CashPlanOut(BaseModel):
    line_number: int
    months: list[int]
    total: int


def cash_plan_out(c: treasury_pb2.CashPlan) -> CashPlanOut:
    """A cash plan as JSON."""
    months = [_rupiah(m) for m in c.months]
    return CashPlanOut(line_number=c.line_number, months=months, total=sum(months))


class CashPlansOut(BaseModel):
    """The cash plans in force (what SPDs are checked against) and those proposed with an open revision."""

    cash_plans: list[CashPlanOut]
    proposed_cash_plans: list[CashPlanOut]


class CashPlanSetOut(BaseModel):
    """After setting a cash plan: those in force, or (proposed) those the open revision would put in force."""

    proposed: bool
    cash_plans: list[CashPlanOut]
