"""Budgeting's wire format: domain objects and events as grms.budgeting.v1 protobuf messages."""

from __future__ import annotations

import datetime as dt
import uuid

from google.protobuf.message import Message
from grms.budgeting.v1 import (
    agency_pb2,
    budget_plan_pb2,
    codes_pb2,
    events_pb2,
    government_pb2,
    open_data_pb2,
    prices_pb2,
    treasury_pb2,
)
from grms_kit.errors import InvalidArgument
from grms_kit.wire import money, timestamp

from grms_budgeting.domain.anchor import AuditAnchor
from grms_budgeting.domain.audit import AuditEntry, canonical_json
from grms_budgeting.domain.budget import (
    BudgetPlan,
    BudgetPlanApproved,
    BudgetPlanReturned,
    BudgetPlanSubmitted,
    BudgetRevised,
    Ceiling,
    FieldChange,
    LineDiff,
    LineInput,
    PlanListing,
    PlanState,
    PlanVersion,
    PriceGroup,
    RevisionKind,
    StandardPrice,
)
from grms_budgeting.domain.codes import AccountCode, NomenclatureCode, NomenclatureLevel
from grms_budgeting.domain.model import (
    Agency,
    AgencyHead,
    AgencyRegistered,
    AgencyUpdated,
    ContactChannel,
    ContactKind,
    DomainEvent,
    Government,
    GovernmentLevel,
    GovernmentRegistered,
)
from grms_budgeting.domain.treasury import (
    Beneficiary,
    CashPlan,
    FundsDisbursed,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    SpendingAllotment,
)

__all__ = [
    "LEVELS",
    "PRICE_GROUPS",
    "account_code_to_pb",
    "agency_to_pb",
    "allotment_to_pb",
    "anchor_event_id",
    "audit_anchor_to_pb",
    "audit_entry_to_pb",
    "audit_head_anchored",
    "beneficiary_from_pb",
    "budget_plan_to_pb",
    "cash_plan_to_pb",
    "ceiling_to_pb",
    "contact_from_pb",
    "event_to_message",
    "government_to_pb",
    "head_from_pb",
    "line_diff_to_pb",
    "line_input_from_pb",
    "money",
    "nomenclature_code_to_pb",
    "payment_kind_from_pb",
    "payment_request_to_pb",
    "payment_state_from_pb",
    "plan_version_to_pb",
    "price_group_from_pb",
    "standard_price_to_pb",
]

LEVELS = {
    GovernmentLevel.PROVINCE: government_pb2.GOVERNMENT_LEVEL_PROVINCE,
    GovernmentLevel.REGENCY: government_pb2.GOVERNMENT_LEVEL_REGENCY,
    GovernmentLevel.CITY: government_pb2.GOVERNMENT_LEVEL_CITY,
}
KINDS = {
    ContactKind.EMAIL: agency_pb2.CONTACT_KIND_EMAIL,
    ContactKind.PHONE: agency_pb2.CONTACT_KIND_PHONE,
    ContactKind.WHATSAPP: agency_pb2.CONTACT_KIND_WHATSAPP,
}
KINDS_BACK = {v: k for k, v in KINDS.items()}


def government_to_pb(government: Government) -> government_pb2.Government:
    """A Government as its protobuf message."""
    return government_pb2.Government(
        code=government.code,
        name=government.name,
        level=LEVELS[government.level],
        parent_code=government.parent_code,
        create_time=timestamp(government.created_at),
    )


def agency_to_pb(agency: Agency) -> agency_pb2.Agency:
    """An Agency as its protobuf message."""
    return agency_pb2.Agency(
        government_code=agency.government_code,
        code=agency.code,
        name=agency.name,
        short_name=agency.short_name,
        head=agency_pb2.AgencyHead(name=agency.head.name, title=agency.head.title, nip=agency.head.nip)
        if agency.head
        else None,
        contacts=[
            agency_pb2.ContactChannel(
                kind=KINDS[c.kind], value=c.value, verified=c.verified, verify_time=timestamp(c.verified_at)
            )
            for c in agency.contacts
        ],
        version=agency.version,
        create_time=timestamp(agency.created_at),
        update_time=timestamp(agency.updated_at),
    )


def head_from_pb(message: agency_pb2.AgencyHead) -> AgencyHead | None:
    """An AgencyHead from its message; None when the message is empty."""
    if not (message.name or message.title or message.nip):
        return None
    return AgencyHead(name=message.name, title=message.title, nip=message.nip)


def contact_from_pb(message: agency_pb2.ContactChannel, index: int) -> ContactChannel:
    """A ContactChannel from its message; an unspecified kind is invalid."""
    kind = KINDS_BACK.get(message.kind)
    if kind is None:
        raise InvalidArgument.field(f"contacts[{index}].kind", "must be EMAIL, PHONE or WHATSAPP")
    return ContactChannel(kind=kind, value=message.value, verified=message.verified)


NOMENCLATURE_LEVELS = {
    NomenclatureLevel.AFFAIR: codes_pb2.NOMENCLATURE_LEVEL_AFFAIR,
    NomenclatureLevel.SECTOR: codes_pb2.NOMENCLATURE_LEVEL_SECTOR,
    NomenclatureLevel.PROGRAM: codes_pb2.NOMENCLATURE_LEVEL_PROGRAM,
    NomenclatureLevel.ACTIVITY: codes_pb2.NOMENCLATURE_LEVEL_ACTIVITY,
    NomenclatureLevel.SUB_ACTIVITY: codes_pb2.NOMENCLATURE_LEVEL_SUB_ACTIVITY,
}
PRICE_GROUPS = {
    PriceGroup.SSH: prices_pb2.STANDARD_PRICE_GROUP_SSH,
    PriceGroup.SBU: prices_pb2.STANDARD_PRICE_GROUP_SBU,
    PriceGroup.HSPK: prices_pb2.STANDARD_PRICE_GROUP_HSPK,
    PriceGroup.ASB: prices_pb2.STANDARD_PRICE_GROUP_ASB,
}
_PRICE_GROUPS_BACK = {v: k for k, v in PRICE_GROUPS.items()}
PLAN_STATES = {
    PlanState.DRAFT: budget_plan_pb2.BUDGET_PLAN_STATE_DRAFT,
    PlanState.SUBMITTED: budget_plan_pb2.BUDGET_PLAN_STATE_SUBMITTED,
    PlanState.VERIFIED: budget_plan_pb2.BUDGET_PLAN_STATE_VERIFIED,
    PlanState.RETURNED: budget_plan_pb2.BUDGET_PLAN_STATE_RETURNED,
    PlanState.APPROVED: budget_plan_pb2.BUDGET_PLAN_STATE_APPROVED,
}
_CHANGE_KINDS = {
    "added": budget_plan_pb2.LINE_CHANGE_KIND_ADDED,
    "removed": budget_plan_pb2.LINE_CHANGE_KIND_REMOVED,
    "changed": budget_plan_pb2.LINE_CHANGE_KIND_CHANGED,
}


def nomenclature_code_to_pb(code: NomenclatureCode) -> codes_pb2.NomenclatureCode:
    """A NomenclatureCode as its message."""
    return codes_pb2.NomenclatureCode(
        fiscal_year=code.fiscal_year,
        code=code.code,
        name=code.name,
        level=NOMENCLATURE_LEVELS[code.level],
        parent_code=code.parent_code,
        carries_budget_lines=code.carries_budget_lines,
        for_province=code.for_province,
        for_regency_city=code.for_regency_city,
    )


def account_code_to_pb(code: AccountCode) -> codes_pb2.AccountCode:
    """An AccountCode as its message."""
    return codes_pb2.AccountCode(
        fiscal_year=code.fiscal_year,
        code=code.code,
        display_code=code.display_code,
        name=code.name,
        level=code.level,
        parent_code=code.parent_code,
    )


def price_group_from_pb(value: int) -> PriceGroup:
    """The PriceGroup of an enum value; unspecified is invalid."""
    group = _PRICE_GROUPS_BACK.get(value)  # type: ignore[call-overload]
    if group is None:
        raise InvalidArgument.field("standard_price.group", "must be SSH, SBU, HSPK or ASB")
    return group


def standard_price_to_pb(price: StandardPrice) -> prices_pb2.StandardPrice:
    """A StandardPrice as its message."""
    return prices_pb2.StandardPrice(
        government_code=price.government_code,
        fiscal_year=price.fiscal_year,
        group=PRICE_GROUPS[price.group],
        code=price.code,
        name=price.name,
        specification=price.specification,
        unit=price.unit,
        price=money(price.price),
        account_codes=list(price.account_codes),
    )


def ceiling_to_pb(value: Ceiling) -> budget_plan_pb2.Ceiling:
    """A Ceiling as its message."""
    return budget_plan_pb2.Ceiling(
        government_code=value.government_code,
        fiscal_year=value.fiscal_year,
        agency_code=value.agency_code,
        sub_activity_code=value.sub_activity_code,
        amount=money(value.amount),
        locked=value.locked,
        version=value.version,
        update_time=timestamp(value.updated_at),
    )


def line_input_from_pb(message: budget_plan_pb2.BudgetLineInput) -> LineInput:
    """A LineInput from its message."""
    return LineInput(
        account_code=message.account_code,
        standard_item_code=message.standard_item_code,
        specification=message.specification,
        volume=message.volume,
        unit=message.unit,
        unit_price=message.unit_price.rupiah,
        funding_source=message.funding_source,
        tags=tuple(message.tags),
    )


REVISION_KINDS = {
    RevisionKind.SHIFT: budget_plan_pb2.REVISION_KIND_SHIFT,
    RevisionKind.AMENDMENT: budget_plan_pb2.REVISION_KIND_AMENDMENT,
}
_REVISION_KINDS_BACK = {v: k for k, v in REVISION_KINDS.items()}
_PLAN_STATES_BACK = {v: k for k, v in PLAN_STATES.items()}


def revision_kind_from_pb(value: int) -> RevisionKind:
    """The revision kind of a request; INVALID_ARGUMENT when unspecified or unknown."""
    kind = _REVISION_KINDS_BACK.get(value)  # type: ignore[call-overload]
    if kind is None:
        raise InvalidArgument.field("kind", "must be REVISION_KIND_SHIFT (pergeseran) or REVISION_KIND_AMENDMENT")
    return kind


def plan_state_from_pb(value: int) -> PlanState | None:
    """A state filter: None for unspecified; INVALID_ARGUMENT when unknown."""
    if value == budget_plan_pb2.BUDGET_PLAN_STATE_UNSPECIFIED:
        return None
    state = _PLAN_STATES_BACK.get(value)  # type: ignore[call-overload]
    if state is None:
        raise InvalidArgument.field("state", f"unknown budget plan state {value}")
    return state


def plan_listing_to_pb(p: PlanListing) -> budget_plan_pb2.BudgetPlan:
    """A plan without lines, as lists return it."""
    return budget_plan_pb2.BudgetPlan(
        id=p.id,
        government_code=p.government_code,
        agency_code=p.agency_code,
        sub_activity_code=p.sub_activity_code,
        fiscal_year=p.fiscal_year,
        state=PLAN_STATES[p.state],
        version=p.version,
        total=money(p.total),
        create_time=timestamp(p.created_at),
        update_time=timestamp(p.updated_at),
        line_count=p.line_count,
        revision=p.revision,
        revision_kind=REVISION_KINDS.get(p.revision_kind, 0) if p.revision_kind else 0,  # type: ignore[arg-type]
        approved_total=money(p.approved_total),
    )


def budget_plan_to_pb(plan: BudgetPlan, outputs: list[str] | None = None) -> budget_plan_pb2.BudgetPlan:
    """A BudgetPlan with its lines (and its sub-activity's output indicators, when known) as its message."""
    return budget_plan_pb2.BudgetPlan(
        id=plan.id,
        government_code=plan.government_code,
        agency_code=plan.agency_code,
        sub_activity_code=plan.sub_activity_code,
        fiscal_year=plan.fiscal_year,
        state=PLAN_STATES[plan.state],
        version=plan.version,
        lines=[
            budget_plan_pb2.BudgetLine(
                number=line.number,
                account_code=line.account_code,
                standard_item_code=line.standard_item_code,
                specification=line.specification,
                volume=line.volume,
                factors=[budget_plan_pb2.VolumeFactor(quantity=f.quantity, unit=f.unit) for f in line.factors],
                unit=line.unit,
                unit_price=money(line.unit_price),
                amount=money(line.amount),
                funding_source=line.funding_source,
                tags=list(line.tags),
                review_note=plan.line_notes.get(line.number, ""),
            )
            for line in (plan.lines[n] for n in sorted(plan.lines))
        ],
        total=money(plan.total),
        review_note=plan.review_note,
        create_time=timestamp(plan.created_at),
        update_time=timestamp(plan.updated_at),
        line_count=len(plan.lines),
        revision=plan.revision,
        revision_kind=REVISION_KINDS[plan.revision_kind] if plan.revision_kind else 0,  # type: ignore[arg-type]
        approved_total=money(plan.approved_total),
        output_indicators=outputs or [],
    )


def plan_version_to_pb(version: PlanVersion) -> budget_plan_pb2.BudgetPlanVersion:
    """A snapshot's metadata as its message."""
    return budget_plan_pb2.BudgetPlanVersion(
        plan_id=version.plan_id,
        version=version.version,
        state=PLAN_STATES[version.state],
        action=version.action,
        actor=version.actor,
        create_time=timestamp(version.created_at),
        total=money(version.total),
        line_count=version.line_count,
    )


def _field_change(change: FieldChange) -> budget_plan_pb2.FieldChange:
    return budget_plan_pb2.FieldChange(
        field=change.field, old_json=canonical_json(change.old), new_json=canonical_json(change.new)
    )


def line_diff_to_pb(diff: LineDiff) -> budget_plan_pb2.LineDiff:
    """A LineDiff as its message; values travel as JSON text."""
    return budget_plan_pb2.LineDiff(
        number=diff.number, kind=_CHANGE_KINDS[diff.kind], changes=[_field_change(c) for c in diff.changes]
    )


def audit_entry_to_pb(entry: AuditEntry) -> budget_plan_pb2.AuditEntry:
    """An audit entry as its message; old and new as canonical JSON text."""
    return budget_plan_pb2.AuditEntry(
        plan_id=entry.plan_id,
        seq=entry.seq,
        actor=entry.actor,
        agency_code=entry.agency_code,
        action=entry.action,
        old_json=canonical_json(entry.old),
        new_json=canonical_json(entry.new),
        create_time=timestamp(entry.at),
        request_id=entry.request_id,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


PAYMENT_KINDS = {
    PaymentKind.UP: treasury_pb2.PAYMENT_KIND_UP,
    PaymentKind.GU: treasury_pb2.PAYMENT_KIND_GU,
    PaymentKind.TU: treasury_pb2.PAYMENT_KIND_TU,
    PaymentKind.LS_GAJI: treasury_pb2.PAYMENT_KIND_LS_GAJI,
    PaymentKind.LS_BARANG_JASA: treasury_pb2.PAYMENT_KIND_LS_BARANG_JASA,
    PaymentKind.LS_PIHAK_KETIGA: treasury_pb2.PAYMENT_KIND_LS_PIHAK_KETIGA,
}
_PAYMENT_KINDS_BACK = {v: k for k, v in PAYMENT_KINDS.items()}
PAYMENT_STATES = {
    PaymentState.REQUESTED: treasury_pb2.PAYMENT_REQUEST_STATE_REQUESTED,
    PaymentState.ORDERED: treasury_pb2.PAYMENT_REQUEST_STATE_ORDERED,
    PaymentState.DISBURSED: treasury_pb2.PAYMENT_REQUEST_STATE_DISBURSED,
    PaymentState.REJECTED: treasury_pb2.PAYMENT_REQUEST_STATE_REJECTED,
}
_PAYMENT_STATES_BACK = {v: k for k, v in PAYMENT_STATES.items()}


def payment_kind_from_pb(value: int) -> PaymentKind:
    """The PaymentKind of an enum value; unspecified is invalid."""
    kind = _PAYMENT_KINDS_BACK.get(value)  # type: ignore[call-overload]
    if kind is None:
        raise InvalidArgument.field("kind", "must be UP, GU, TU, LS_GAJI, LS_BARANG_JASA or LS_PIHAK_KETIGA")
    return kind


def payment_state_from_pb(value: int) -> PaymentState | None:
    """The PaymentState of an enum value; unspecified is None (any state)."""
    if value == treasury_pb2.PAYMENT_REQUEST_STATE_UNSPECIFIED:
        return None
    state = _PAYMENT_STATES_BACK.get(value)  # type: ignore[call-overload]
    if state is None:
        raise InvalidArgument.field("state", "unknown state")
    return state


def beneficiary_from_pb(message: treasury_pb2.Beneficiary, present: bool) -> Beneficiary | None:
    """A Beneficiary from its message, None when the field was not set."""
    if not present:
        return None
    return Beneficiary(message.name, message.bank, message.account_number)


def cash_plan_to_pb(value: CashPlan) -> treasury_pb2.CashPlan:
    """A CashPlan as its message."""
    return treasury_pb2.CashPlan(
        plan_id=value.plan_id, line_number=value.line_number, months=[money(m) for m in value.months]
    )


def allotment_to_pb(value: SpendingAllotment) -> treasury_pb2.SpendingAllotment:
    """An SPD as its message."""
    return treasury_pb2.SpendingAllotment(
        id=value.id,
        number=value.number,
        government_code=value.government_code,
        agency_code=value.agency_code,
        plan_id=value.plan_id,
        fiscal_year=value.fiscal_year,
        from_month=value.from_month,
        to_month=value.to_month,
        amount=money(value.amount),
        committed=money(value.committed),
        disbursed=money(value.disbursed),
        create_time=timestamp(value.created_at),
    )


def payment_request_to_pb(value: PaymentRequest) -> treasury_pb2.PaymentRequest:
    """A PaymentRequest with its history as its message."""
    b = value.beneficiary
    return treasury_pb2.PaymentRequest(
        id=value.id,
        number=value.number,
        government_code=value.government_code,
        agency_code=value.agency_code,
        plan_id=value.plan_id,
        fiscal_year=value.fiscal_year,
        line_number=value.line_number,
        allotment_id=value.allotment_id,
        kind=PAYMENT_KINDS[value.kind],
        amount=money(value.amount),
        description=value.description,
        beneficiary=treasury_pb2.Beneficiary(name=b.name, bank=b.bank, account_number=b.account_number) if b else None,
        contract_reference=value.contract_reference,
        external_request_id=value.external_request_id,
        state=PAYMENT_STATES[value.state],
        version=value.version,
        spm_number=value.spm_number,
        sp2d_number=value.sp2d_number,
        rejection_reason=value.rejection_reason,
        history=[
            treasury_pb2.PaymentStep(
                state=PAYMENT_STATES[PaymentState(h["state"])],
                actor=h["actor"],
                time=timestamp(dt.datetime.fromisoformat(h["at"])),
                note=h["note"],
            )
            for h in value.history
        ],
        create_time=timestamp(value.created_at),
        update_time=timestamp(value.updated_at),
    )


def event_to_message(event: DomainEvent) -> tuple[Message, str]:
    """The integration event for a domain event, with its tenant (government code)."""
    if isinstance(event, FundsDisbursed):
        return (
            events_pb2.FundsDisbursed(
                payment_request_id=event.payment_request_id,
                government_code=event.government_code,
                agency_code=event.agency_code,
                plan_id=event.plan_id,
                fiscal_year=event.fiscal_year,
                line_number=event.line_number,
                sub_activity_code=event.sub_activity_code,
                account_code=event.account_code,
                kind=PAYMENT_KINDS[event.kind],
                amount=money(event.amount),
                sp2d_number=event.sp2d_number,
                disburse_time=timestamp(event.disbursed_at),
            ),
            event.government_code,
        )
    if isinstance(event, GovernmentRegistered):
        return events_pb2.GovernmentRegistered(government=government_to_pb(event.government)), event.government.code
    if isinstance(event, AgencyRegistered):
        return events_pb2.AgencyRegistered(agency=agency_to_pb(event.agency)), event.agency.government_code
    if isinstance(event, AgencyUpdated):
        return (
            events_pb2.AgencyUpdated(agency=agency_to_pb(event.agency), changed_fields=event.changed_fields),
            event.agency.government_code,
        )
    if isinstance(event, BudgetRevised):
        p = event.plan
        revised = events_pb2.BudgetRevised(
            plan_id=p.plan_id,
            government_code=p.government_code,
            agency_code=p.agency_code,
            sub_activity_code=p.sub_activity_code,
            fiscal_year=p.fiscal_year,
            version=p.version,
            total=money(p.total),
            line_count=p.line_count,
            revision=event.revision,
            kind=REVISION_KINDS[event.kind],
            previous_total=money(event.previous_total),
        )
        return revised, p.government_code
    if isinstance(event, BudgetPlanSubmitted | BudgetPlanApproved | BudgetPlanReturned):
        p = event.plan
        common = {
            "plan_id": p.plan_id,
            "government_code": p.government_code,
            "agency_code": p.agency_code,
            "sub_activity_code": p.sub_activity_code,
            "fiscal_year": p.fiscal_year,
            "version": p.version,
            "total": money(p.total),
            "line_count": p.line_count,
        }
        message: Message
        if isinstance(event, BudgetPlanSubmitted):
            message = events_pb2.BudgetPlanSubmitted(**common)
        elif isinstance(event, BudgetPlanApproved):
            message = events_pb2.BudgetPlanApproved(**common)
        else:
            message = events_pb2.BudgetPlanReturned(**common, noted_lines=sorted(event.notes))
        return message, p.government_code
    raise TypeError(f"no integration event for {type(event).__name__}")


def audit_anchor_to_pb(anchor: AuditAnchor) -> open_data_pb2.AuditAnchor:
    """An AuditAnchor as its message (the day as "YYYY-MM-DD")."""
    return open_data_pb2.AuditAnchor(
        government_code=anchor.government_code,
        day=anchor.day.isoformat(),
        combined_hash=anchor.combined_hash,
        plan_count=anchor.plan_count,
        entry_count=anchor.entry_count,
        compute_time=timestamp(anchor.computed_at),
    )


# The anchor of a day is one fact: its event id is derived from government and day, so the
# outbox's unique key, JetStream's Nats-Msg-Id and the consumers' inboxes all drop a second copy.
_ANCHOR_NAMESPACE = uuid.UUID("3b0e6f0c-4f7d-5b8e-9c2a-7d1e5a6b9f40")


def anchor_event_id(government_code: str, day: dt.date) -> str:
    """The event id of the AuditHeadAnchored of `government_code` and `day` (UUIDv5)."""
    return str(uuid.uuid5(_ANCHOR_NAMESPACE, f"audit-anchor/{government_code}/{day.isoformat()}"))


def audit_head_anchored(anchor: AuditAnchor) -> events_pb2.AuditHeadAnchored:
    """The integration event of a newly stored anchor."""
    return events_pb2.AuditHeadAnchored(anchor=audit_anchor_to_pb(anchor))
