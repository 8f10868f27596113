"""The `budgeting-planning-indicators` consumer: planning's SubActivityPlanned events into the indicator rule's copy.

A durable JetStream pull consumer with an inbox (grms_kit.consumer): each event is applied
once, in the same transaction as its inbox row. Only output indicators of the sub-activity
level are kept — that is what "every sub-activity has an output indicator" asks for.
"""

from __future__ import annotations

from grms.planning.v1 import events_pb2, sub_activity_pb2
from grms_kit.consumer import EventContext, Handlers
from sqlalchemy.orm import Session

from grms_budgeting.adapters.budget_repository import SqlPlannedSubActivityRepository
from grms_budgeting.domain.indicators import OutputIndicator, PlannedSubActivity
from grms_budgeting.service_layer.indicators import record_planned_sub_activity

__all__ = ["planning_handlers"]


def _planned(session: Session, event: events_pb2.SubActivityPlanned, ctx: EventContext) -> None:
    s = event.sub_activity
    outputs = tuple(
        OutputIndicator(i.name, i.target, i.unit)
        for i in s.indicators
        if i.kind == sub_activity_pb2.INDICATOR_KIND_OUTPUT
        and i.level in (sub_activity_pb2.INDICATOR_LEVEL_SUB_ACTIVITY, sub_activity_pb2.INDICATOR_LEVEL_UNSPECIFIED)
    )
    value = PlannedSubActivity(
        government_code=s.government_code,
        fiscal_year=s.fiscal_year,
        agency_code=s.agency_code,
        sub_activity_code=s.code,
        planning_id=s.id,
        outputs=outputs,
        version=s.version,
        updated_at=ctx.time,
    )
    record_planned_sub_activity(value, planned=SqlPlannedSubActivityRepository(session))


def planning_handlers() -> Handlers:
    """The handlers of planning's events that budgeting applies."""
    handlers = Handlers(source="planning")
    handlers.on(events_pb2.SubActivityPlanned)(_planned)
    return handlers
