"""Planning's wire format: domain objects and events as grms.planning.v1 protobuf messages."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from google.protobuf.message import Message
from grms.planning.v1 import events_pb2, procurement_pb2, proposal_pb2, stage_pb2, sub_activity_pb2
from grms_kit.errors import InvalidArgument
from grms_kit.wire import money, timestamp

from grms_planning.domain.curves import CurveShape
from grms_planning.domain.model import (
    DomainEvent,
    Indicator,
    IndicatorFormula,
    IndicatorKind,
    IndicatorLevel,
    MonthlyPlan,
    SCurvePoint,
    SubActivity,
    SubActivityPlanned,
    SubActivityStatus,
)
from grms_planning.domain.procurement import (
    MonthRange,
    ProcurementMode,
    ProcurementPackage,
    ProcurementPlanned,
    ProcurementType,
    SelectionMethod,
    SplitFinding,
)
from grms_planning.domain.proposal import Proposal, ProposalCategory, ProposalStatus, ProposalStatusChanged
from grms_planning.domain.recurring import CATEGORY_OF_COMPLAINT, ComplaintCluster
from grms_planning.domain.stages import ItemDiff, Stage, StageBook, StageKind

__all__ = [
    "CATEGORIES",
    "CURVE_SHAPES",
    "FORMULAS",
    "KINDS",
    "LEVELS",
    "METHODS",
    "MODES",
    "PROPOSAL_STATUSES",
    "TYPES",
    "cluster_to_pb",
    "enum_from_pb",
    "event_to_message",
    "finding_to_pb",
    "money",
    "month_range_from_pb",
    "monthly_plan_to_pb",
    "package_to_pb",
    "proposal_to_pb",
    "public_proposal_to_pb",
    "s_curve_to_pb",
    "stage_book_to_pb",
    "stage_diff_to_pb",
    "stage_to_pb",
    "sub_activity_to_pb",
]

E = TypeVar("E")

STATUSES = {
    SubActivityStatus.DRAFT: sub_activity_pb2.SUB_ACTIVITY_STATUS_DRAFT,
    SubActivityStatus.PLANNED: sub_activity_pb2.SUB_ACTIVITY_STATUS_PLANNED,
}
LEVELS = {
    IndicatorLevel.PROGRAM: sub_activity_pb2.INDICATOR_LEVEL_PROGRAM,
    IndicatorLevel.ACTIVITY: sub_activity_pb2.INDICATOR_LEVEL_ACTIVITY,
    IndicatorLevel.SUB_ACTIVITY: sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY,
}
KINDS = {
    IndicatorKind.OUTPUT: sub_activity_pb2.INDICATOR_KIND_OUTPUT,
    IndicatorKind.OUTCOME: sub_activity_pb2.INDICATOR_KIND_OUTCOME,
}
FORMULAS = {
    IndicatorFormula.INCREASING: sub_activity_pb2.INDICATOR_FORMULA_INCREASING,
    IndicatorFormula.DECREASING: sub_activity_pb2.INDICATOR_FORMULA_DECREASING,
    IndicatorFormula.PERCENTAGE: sub_activity_pb2.INDICATOR_FORMULA_PERCENTAGE,
}
CURVE_SHAPES = {
    CurveShape.CONSTRUCTION: sub_activity_pb2.CURVE_SHAPE_CONSTRUCTION,
    CurveShape.GOODS: sub_activity_pb2.CURVE_SHAPE_GOODS,
    CurveShape.SERVICES: sub_activity_pb2.CURVE_SHAPE_SERVICES,
}
TYPES = {
    ProcurementType.GOODS: procurement_pb2.PROCUREMENT_TYPE_GOODS,
    ProcurementType.WORKS: procurement_pb2.PROCUREMENT_TYPE_WORKS,
    ProcurementType.CONSULTING: procurement_pb2.PROCUREMENT_TYPE_CONSULTING,
    ProcurementType.OTHER_SERVICES: procurement_pb2.PROCUREMENT_TYPE_OTHER_SERVICES,
}
MODES = {
    ProcurementMode.PROVIDER: procurement_pb2.PROCUREMENT_MODE_PROVIDER,
    ProcurementMode.SELF_MANAGED: procurement_pb2.PROCUREMENT_MODE_SELF_MANAGED,
}
METHODS = {
    SelectionMethod.E_PURCHASING: procurement_pb2.SELECTION_METHOD_E_PURCHASING,
    SelectionMethod.PENGADAAN_LANGSUNG: procurement_pb2.SELECTION_METHOD_PENGADAAN_LANGSUNG,
    SelectionMethod.PENUNJUKAN_LANGSUNG: procurement_pb2.SELECTION_METHOD_PENUNJUKAN_LANGSUNG,
    SelectionMethod.TENDER_CEPAT: procurement_pb2.SELECTION_METHOD_TENDER_CEPAT,
    SelectionMethod.TENDER: procurement_pb2.SELECTION_METHOD_TENDER,
    SelectionMethod.SELEKSI: procurement_pb2.SELECTION_METHOD_SELEKSI,
}
CATEGORIES = {c: proposal_pb2.ProposalCategory.Value(f"PROPOSAL_CATEGORY_{c.name}") for c in ProposalCategory}
PROPOSAL_STATUSES = {s: proposal_pb2.ProposalStatus.Value(f"PROPOSAL_STATUS_{s.name}") for s in ProposalStatus}


STAGE_KINDS = {k: stage_pb2.StageKind.Value(f"STAGE_KIND_{k.name}") for k in StageKind}
ITEM_CHANGES = {
    "added": stage_pb2.ITEM_CHANGE_ADDED,
    "removed": stage_pb2.ITEM_CHANGE_REMOVED,
    "changed": stage_pb2.ITEM_CHANGE_CHANGED,
}


def enum_from_pb(mapping: dict[E, int], value: int, path: str) -> E:
    """The domain enum for a protobuf enum `value`; unspecified or unknown is InvalidArgument at `path`."""
    for domain, wire in mapping.items():
        if wire == value:
            return domain
    names = ", ".join(str(d) for d in mapping)
    raise InvalidArgument.field(path, f"must be one of: {names}")


def _pct(value: Decimal) -> str:
    return f"{value:.2f}"


def _indicator_to_pb(s: SubActivity, i: Indicator) -> sub_activity_pb2.Indicator:
    return sub_activity_pb2.Indicator(
        level=LEVELS[i.level],
        kind=KINDS[i.kind],
        name=i.name,
        unit=i.unit,
        target=format(i.target, "f"),
        formula=FORMULAS[i.formula],
        code=s.code_of(i.level),
    )


def monthly_plan_to_pb(plan: MonthlyPlan | None) -> list[sub_activity_pb2.MonthPlan]:
    """The twelve months of an F1 (none when there is no plan)."""
    if plan is None:
        return []
    return [
        sub_activity_pb2.MonthPlan(
            month=m.month, physical_percent=_pct(m.physical_percent), disbursement=money(m.disbursement)
        )
        for m in plan.months
    ]


def s_curve_to_pb(points: list[SCurvePoint]) -> list[sub_activity_pb2.SCurvePoint]:
    """The planned S-curve as messages."""
    return [
        sub_activity_pb2.SCurvePoint(
            month=p.month,
            physical_percent=_pct(p.physical_percent),
            cumulative_disbursement=money(p.cumulative_disbursement),
            financial_percent=_pct(p.financial_percent),
        )
        for p in points
    ]


def sub_activity_to_pb(s: SubActivity) -> sub_activity_pb2.SubActivity:
    """A SubActivity as its protobuf message."""
    return sub_activity_pb2.SubActivity(
        id=s.id,
        government_code=s.government_code,
        agency_code=s.agency_code,
        fiscal_year=s.fiscal_year,
        code=s.code,
        name=s.name,
        budget=money(s.budget),
        status=STATUSES[s.status],
        indicators=[_indicator_to_pb(s, i) for i in s.indicators],
        locations=[
            sub_activity_pb2.Location(
                government_code=loc.government_code,
                village_code=loc.village_code,
                latitude="" if loc.latitude is None else format(loc.latitude, "f"),
                longitude="" if loc.longitude is None else format(loc.longitude, "f"),
            )
            for loc in s.locations
        ],
        funding_sources=s.funding_sources,
        tags=s.tags,
        monthly_plan=monthly_plan_to_pb(s.monthly_plan),
        packaged=money(s.packaged),
        version=s.version,
        create_time=timestamp(s.created_at),
        update_time=timestamp(s.updated_at),
        approved_budget=None if s.approved_budget is None else money(s.approved_budget),
    )


def public_proposal_to_pb(p: Proposal) -> proposal_pb2.PublicProposal:
    """What anyone may see of a proposal: never the proposer's name or contact."""
    return proposal_pb2.PublicProposal(
        public_id=p.public_id,
        government_code=p.government_code,
        village_code=p.village_code,
        category=CATEGORIES[p.category],
        title=p.title,
        description=p.description,
        status=PROPOSAL_STATUSES[p.status],
        sub_activity_id=p.sub_activity_id,
        history=[
            proposal_pb2.ProposalChange(
                status=PROPOSAL_STATUSES[c.status], time=timestamp(c.at), note=c.note, sub_activity_id=c.sub_activity_id
            )
            for c in p.history
        ],
        create_time=timestamp(p.created_at),
        update_time=timestamp(p.updated_at),
    )


def proposal_to_pb(p: Proposal) -> proposal_pb2.Proposal:
    """The staff view of a proposal, with the proposer's data."""
    return proposal_pb2.Proposal(
        proposal=public_proposal_to_pb(p),
        proposer_name=p.proposer_name,
        proposer_contact=p.proposer_contact,
        version=p.version,
    )


def _range(value: MonthRange | None) -> procurement_pb2.MonthRange | None:
    return None if value is None else procurement_pb2.MonthRange(start_month=value.start, end_month=value.end)


def month_range_from_pb(message: procurement_pb2.MonthRange) -> MonthRange:
    """A MonthRange from its message (the domain checks the months)."""
    return MonthRange(message.start_month, message.end_month)


def package_to_pb(p: ProcurementPackage) -> procurement_pb2.ProcurementPackage:
    """A ProcurementPackage as its protobuf message."""
    return procurement_pb2.ProcurementPackage(
        id=p.id,
        sub_activity_id=p.sub_activity_id,
        government_code=p.government_code,
        agency_code=p.agency_code,
        fiscal_year=p.fiscal_year,
        sub_activity_code=p.sub_activity_code,
        account_code=p.account_code,
        mak=p.mak,
        name=p.name,
        procurement_type=TYPES[p.procurement_type],
        mode=MODES[p.mode],
        method=METHODS[p.method] if p.method else procurement_pb2.SELECTION_METHOD_UNSPECIFIED,
        value=money(p.value),
        domestic_product=p.domestic_product,
        small_business=p.small_business,
        selection_schedule=_range(p.selection),
        contract_schedule=_range(p.contract),
        use_schedule=_range(p.use),
        create_time=timestamp(p.created_at),
    )


def finding_to_pb(f: SplitFinding) -> procurement_pb2.SplitFinding:
    """A SplitFinding as its protobuf message."""
    return procurement_pb2.SplitFinding(
        government_code=f.government_code,
        agency_code=f.agency_code,
        sub_activity_code=f.sub_activity_code,
        account_code=f.account_code,
        procurement_type=TYPES[f.procurement_type],
        threshold=money(f.threshold),
        total=money(f.total),
        packages=[package_to_pb(p) for p in f.packages],
    )


def event_to_message(event: DomainEvent) -> tuple[Message, str]:
    """The integration event for a domain event, with its tenant (government code)."""
    if isinstance(event, SubActivityPlanned):
        s = event.sub_activity
        curve = s.monthly_plan.s_curve() if s.monthly_plan else []
        return (
            events_pb2.SubActivityPlanned(sub_activity=sub_activity_to_pb(s), s_curve=s_curve_to_pb(curve)),
            s.government_code,
        )
    if isinstance(event, ProcurementPlanned):
        return events_pb2.ProcurementPlanned(package=package_to_pb(event.package)), event.package.government_code
    if isinstance(event, ProposalStatusChanged):
        return events_pb2.ProposalStatusChanged(
            proposal=public_proposal_to_pb(event.proposal)
        ), event.proposal.government_code
    raise TypeError(f"no integration event for {type(event).__name__}")


def stage_to_pb(stage: Stage) -> stage_pb2.PlanningStage:
    """One stage, with its snapshot's counts and totals once closed."""
    out = stage_pb2.PlanningStage(
        number=stage.number,
        kind=STAGE_KINDS[stage.kind],  # type: ignore[arg-type]
        open_time=timestamp(stage.opened_at),
        opened_by=stage.opened_by,
        reason=stage.reason,
        closed_by=stage.closed_by,
    )
    if stage.closed_at is not None:
        out.close_time.CopyFrom(timestamp(stage.closed_at))
    if stage.snapshot is not None:
        out.sub_activity_count = stage.snapshot.sub_activity_count
        out.package_count = stage.snapshot.package_count
        out.total_budget.CopyFrom(money(stage.snapshot.total_budget))
        out.total_packaged.CopyFrom(money(stage.snapshot.total_packaged))
    return out


def stage_book_to_pb(book: StageBook) -> stage_pb2.StageBook:
    """An agency-year's stages."""
    return stage_pb2.StageBook(
        government_code=book.government_code,
        agency_code=book.agency_code,
        fiscal_year=book.fiscal_year,
        version=book.version,
        stages=[stage_to_pb(s) for s in book.stages],
        editable=book.current is not None,
    )


def stage_diff_to_pb(item: ItemDiff) -> stage_pb2.StageItemDiff:
    """One item of a stage diff."""
    return stage_pb2.StageItemDiff(
        change=ITEM_CHANGES[item.change],  # type: ignore[arg-type]
        entity=item.entity,
        sub_activity_code=item.sub_activity_code,
        key=item.key,
        fields=[stage_pb2.StageFieldChange(field=f.field, old_value=f.old, new_value=f.new) for f in item.fields],
    )


def cluster_to_pb(c: ComplaintCluster) -> proposal_pb2.ComplaintCluster:
    """A recurring-complaint cluster: counts and times only."""
    return proposal_pb2.ComplaintCluster(
        government_code=c.government_code,
        year=c.year,
        village_code=c.village_code,
        category_code=c.category_code,
        complaint_count=c.complaint_count,
        first_receive_time=timestamp(c.first_received_at),
        last_receive_time=timestamp(c.last_received_at),
        proposal_public_id=c.proposal_public_id,
        proposal_category=CATEGORIES[CATEGORY_OF_COMPLAINT.get(c.category_code, ProposalCategory.OTHER)],  # type: ignore[arg-type]
    )
