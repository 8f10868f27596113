"""Recurring complaints over real NATS, gRPC and a database: complaints' events in, a proposal out."""

from __future__ import annotations

import asyncio
import datetime as dt

import grpc
import nats
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grms.complaints.v1 import events_pb2 as complaint_events
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import proposal_pb2
from grms_kit.events import Envelope
from grms_kit.messaging import ensure_stream
from grms_kit.testing import NatsServer
from grms_planning.adapters.tables import complaint_cluster, proposal
from sqlalchemy import select

from .test_grpc_api import PLANNER, _count, _violations, service  # noqa: F401

VILLAGE = "33.74.01.1001"


def _received(
    ticket: str, category: str, village: str, *, confidential: bool = False
) -> complaint_events.ComplaintReceived:
    at = Timestamp()
    at.FromDatetime(dt.datetime(2025, 3, 4, 2, 0, tzinfo=dt.UTC))
    return complaint_events.ComplaintReceived(
        ticket_id=ticket,
        government_code="33",
        category_code=category,
        confidential=confidential,
        receive_time=at,
        title="" if confidential else "Jalan berlubang",
        village_code=village,
        latitude=-6.99 if village else 0,
        longitude=110.42 if village else 0,
    )


async def test_recurring_complaints_are_offered_and_proposed_once(service, nats_server: NatsServer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    stub, runtime = service
    events = [_received(f"LG-{i}", "jalan_rusak", VILLAGE) for i in range(6)]
    events += [_received("LG-10", "pendidikan", VILLAGE), _received("LG-11", "jalan_rusak", "", confidential=True)]
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "complaints")
        for event in events:
            envelope = Envelope.wrap(event, source="grms-complaints", government="33", time=dt.datetime.now(dt.UTC))
            await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
    finally:
        await nc.close()

    request = pb.ListRecurringComplaintsRequest(government_code="33", year=2025)
    for _ in range(200):  # the consumer counts within moments
        listed = await stub.ListRecurringComplaints(request, metadata=PLANNER, timeout=5)
        if listed.clusters and listed.clusters[0].complaint_count == 6:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the complaints were never counted")
    assert listed.threshold == 5
    assert [(c.village_code, c.category_code, c.complaint_count) for c in listed.clusters] == [
        (VILLAGE, "jalan_rusak", 6)
    ]
    assert listed.clusters[0].proposal_category == proposal_pb2.PROPOSAL_CATEGORY_INFRASTRUCTURE
    assert _count(runtime, complaint_cluster) == 2  # the confidential complaint had no village: not clustered

    proposed = await stub.ProposeFromComplaints(
        pb.ProposeFromComplaintsRequest(
            government_code="33", year=2025, village_code=VILLAGE, category_code="jalan_rusak"
        ),
        metadata=PLANNER,
        timeout=5,
    )
    public_id = proposed.proposal.proposal.public_id
    assert proposed.cluster.proposal_public_id == public_id
    tracked = (await stub.GetPublicProposal(pb.GetPublicProposalRequest(public_id=public_id), timeout=5)).proposal
    assert tracked.status == proposal_pb2.PROPOSAL_STATUS_UNDER_REVIEW and tracked.village_code == VILLAGE

    with pytest.raises(grpc.aio.AioRpcError) as again:
        await stub.ProposeFromComplaints(
            pb.ProposeFromComplaintsRequest(
                government_code="33", year=2025, village_code=VILLAGE, category_code="jalan_rusak"
            ),
            metadata=PLANNER,
            timeout=5,
        )
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as below:
        await stub.ProposeFromComplaints(
            pb.ProposeFromComplaintsRequest(
                government_code="33", year=2025, village_code=VILLAGE, category_code="pendidikan"
            ),
            metadata=PLANNER,
            timeout=5,
        )
    assert below.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.ProposeFromComplaints(
            pb.ProposeFromComplaintsRequest(government_code="33", year=2025, village_code="33.74", category_code="x"),
            metadata=PLANNER,
            timeout=5,
        )
    assert "village_code" in _violations(bad.value)
    with runtime.db.engine.connect() as conn:
        stored = conn.execute(select(proposal.c.public_id, proposal.c.proposer_contact)).all()
    assert [tuple(r) for r in stored] == [(public_id, "")]
    listed = await stub.ListRecurringComplaints(request, metadata=PLANNER, timeout=5)
    assert listed.clusters[0].proposal_public_id == public_id
