"""The `planning-budgeting-budget` consumer's handlers: budgeting's approved amounts into planning.

A durable consumer of its own (not a new subject on `planning-budgeting-reference`): a new
durable consumer starts at the beginning of GRMS_BUDGETING, so an upgraded deployment also
receives the approvals published before this code ran, whereas a subject added to the
existing consumer would only see approvals after its ack floor.
"""

from __future__ import annotations

from grms.budgeting.v1 import events_pb2
from grms_kit.consumer import EventContext, Handlers
from sqlalchemy.orm import Session

from grms_planning.adapters.repository import SqlApprovedBudgetRepository
from grms_planning.domain.budget_link import ApprovedBudget
from grms_planning.service_layer.budget_link import record_approved_budget

__all__ = ["budget_handlers"]


def _approved(session: Session, event: events_pb2.BudgetPlanApproved, ctx: EventContext) -> None:
    approval = ApprovedBudget(
        government_code=event.government_code,
        agency_code=event.agency_code,
        sub_activity_code=event.sub_activity_code,
        fiscal_year=event.fiscal_year,
        amount=event.total.rupiah,
        plan_id=event.plan_id,
        plan_version=event.version,
        approved_at=ctx.time,
    )
    record_approved_budget(approval, budgets=SqlApprovedBudgetRepository(session))


def budget_handlers() -> Handlers:
    """The handlers of budgeting's plan events that planning applies."""
    handlers = Handlers(source="budgeting")
    handlers.on(events_pb2.BudgetPlanApproved)(_approved)
    return handlers
