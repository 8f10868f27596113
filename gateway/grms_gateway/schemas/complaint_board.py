"""Schemas of the governor's complaint board (GET /api/v1/complaints/board) and their protobuf mapping.

The board never carries identity: the reporter is a pseudonymous reference, empty for an
anonymous complaint and, for a confidential one, for everyone but complaints officers and admins.
"""

from __future__ import annotations

import datetime as dt

from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from pydantic import BaseModel

from grms_gateway.schemas.complaints import enum_name, timestamp

__all__ = ["AgencyBoardOut", "BoardComplaintOut", "BoardDayOut", "BoardOut", "board_complaint_out", "board_out"]


class AgencyBoardOut(BaseModel):
    agency_code: str
    received: int
    open: int
    overdue: int
    responded: int
    median_first_response_hours: float | None
    p90_first_response_hours: float | None
    sla_compliance_percent: float | None
    sla_decided: int
    oldest_open_ticket_id: str | None
    oldest_open_receive_time: dt.datetime | None


class BoardDayOut(BaseModel):
    date: dt.date
    received: int
    responded: int
    breached: int


class BoardComplaintOut(BaseModel):
    ticket_id: str
    complaint_class: str
    category_code: str
    channel: str
    status: str
    title: str
    reporter_reference: str
    anonymous: bool
    confidential: bool
    agency_code: str
    receive_time: dt.datetime | None
    first_response_minutes: int | None
    resolution_minutes: int | None
    next_due_time: dt.datetime | None
    overdue: bool


class BoardOut(BaseModel):
    government_code: str
    start: dt.date
    end: dt.date
    as_of_time: dt.datetime | None
    agencies: list[AgencyBoardOut]
    totals: AgencyBoardOut
    trend: list[BoardDayOut]
    complaints: list[BoardComplaintOut]
    next_page_token: str


def _agency(row: pb.AgencyBoardRow) -> AgencyBoardOut:
    answered = row.responded > 0
    return AgencyBoardOut(
        agency_code=row.agency_code,
        received=row.received,
        open=row.open,
        overdue=row.overdue,
        responded=row.responded,
        median_first_response_hours=row.median_first_response_hours if answered else None,
        p90_first_response_hours=row.p90_first_response_hours if answered else None,
        sla_compliance_percent=row.sla_compliance_percent if row.sla_decided else None,
        sla_decided=row.sla_decided,
        oldest_open_ticket_id=row.oldest_open_ticket_id or None,
        oldest_open_receive_time=timestamp(row.oldest_open_receive_time, row.HasField("oldest_open_receive_time")),
    )


def board_complaint_out(c: pb.BoardComplaint) -> BoardComplaintOut:
    """One line of the board or the inbox."""
    return BoardComplaintOut(
        ticket_id=c.ticket_id,
        complaint_class=enum_name(complaint_pb2.ComplaintClass, c.complaint_class, "COMPLAINT_CLASS_"),
        category_code=c.category_code,
        channel=enum_name(complaint_pb2.ComplaintChannel, c.channel, "COMPLAINT_CHANNEL_"),
        status=enum_name(complaint_pb2.ComplaintStatus, c.status, "COMPLAINT_STATUS_"),
        title=c.title,
        reporter_reference=c.reporter_reference,
        anonymous=c.anonymous,
        confidential=c.confidential,
        agency_code=c.agency_code,
        receive_time=timestamp(c.receive_time, c.HasField("receive_time")),
        first_response_minutes=c.first_response_minutes or None,
        resolution_minutes=c.resolution_minutes or None,
        next_due_time=timestamp(c.next_due_time, c.HasField("next_due_time")),
        overdue=c.overdue,
    )


def board_out(government_code: str, start: dt.date, end: dt.date, b: pb.GetComplaintBoardResponse) -> BoardOut:
    """The board's JSON from the service's answer; `end` is the last day included."""
    return BoardOut(
        government_code=government_code,
        start=start,
        end=end,
        as_of_time=timestamp(b.as_of_time, b.HasField("as_of_time")),
        agencies=[_agency(r) for r in b.agencies],
        totals=_agency(b.totals),
        trend=[
            BoardDayOut(
                date=dt.date(d.date.year, d.date.month, d.date.day),
                received=d.received,
                responded=d.responded,
                breached=d.breached,
            )
            for d in b.trend
        ],
        complaints=[board_complaint_out(c) for c in b.complaints],
        next_page_token=b.page.next_page_token,
    )
