"""The `planning-complaints-recurring` consumer's handler: complaints' ComplaintReceived into clusters.

Only the government, village, category and receipt time are read; the event carries no
complainant identity, and planning stores no ticket or text (the inbox keeps the event id).
"""

from __future__ import annotations

import datetime as dt

from grms.complaints.v1 import events_pb2
from grms_kit.consumer import EventContext, Handlers
from sqlalchemy.orm import Session

from grms_planning.adapters.repository import SqlComplaintClusterRepository
from grms_planning.service_layer.recurring import record_complaint

__all__ = ["complaint_handlers"]


def _received(session: Session, event: events_pb2.ComplaintReceived, ctx: EventContext) -> None:
    received_at = event.receive_time.ToDatetime(dt.UTC) if event.HasField("receive_time") else ctx.time
    record_complaint(
        event.government_code,
        event.village_code.strip(),
        event.category_code,
        received_at,
        clusters=SqlComplaintClusterRepository(session),
    )


def complaint_handlers() -> Handlers:
    """The complaints events planning counts."""
    handlers = Handlers(source="complaints")
    handlers.on(events_pb2.ComplaintReceived)(_received)
    return handlers
