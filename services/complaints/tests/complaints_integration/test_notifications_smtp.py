"""Replies reach the complainant by e-mail through a real SMTP server (aiosmtpd), over real gRPC and a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import grpc
import pytest
from aiosmtpd.controller import Controller
from grms.complaints.v1 import complaint_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms.complaints.v1 import complaints_service_pb2_grpc as pb_grpc
from grms_complaints import bootstrap
from grms_complaints.adapters.tables import identity_access_log
from grms_complaints.config import Settings
from grms_kit.clock import ManualClock
from grms_kit.testing import NatsServer, free_port
from sqlalchemy import select

from .test_grpc_api import AGENCY, EMAIL, OFFICER, PHONE, SECRET, START, _publish_budgeting_facts, file_request


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def stub(
    database_url: str, nats_server: NatsServer, tmp_path: Path, smtp: tuple[Inbox, int]
) -> AsyncIterator[pb_grpc.ComplaintsServiceStub]:
    settings = Settings(
        database_url=database_url,
        grpc_port=free_port(),
        nats_url=nats_server.url,
        auth_secret=SECRET,
        var_dir=tmp_path,
        notify_interval=0.05,
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_sender="laporgub@jatengprov.go.id",
        smtp_starttls=False,
    )
    runtime = bootstrap.build(settings, clock=ManualClock(START))
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.wait_for(runtime.ready.wait(), 30)
    await _publish_budgeting_facts(nats_server.url)
    async with grpc.aio.insecure_channel(settings.grpc_address) as channel:
        client = pb_grpc.ComplaintsServiceStub(channel)
        for _ in range(200):
            try:
                await client.GetAgency(pb.GetAgencyRequest(government_code="33", code="DINKES"), timeout=5)
                break
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.05)
        client.runtime = runtime  # type: ignore[attr-defined]
        yield client
    stop.set()
    await asyncio.wait_for(task, 30)


async def test_a_public_reply_is_e_mailed_to_the_complainant_and_listed_on_tracking(
    stub: pb_grpc.ComplaintsServiceStub, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    filed = await stub.FileComplaint(file_request(channel=complaint_pb2.COMPLAINT_CHANNEL_WEB), timeout=5)
    t = filed.ticket_id
    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=t), metadata=OFFICER, timeout=5)
    await stub.AssignComplaint(
        pb.AssignComplaintRequest(ticket_id=t, agency_code="DINKES"), metadata=OFFICER, timeout=5
    )
    await stub.StartWork(pb.StartWorkRequest(ticket_id=t), metadata=AGENCY, timeout=5)
    reply = f"Jam buka puskesmas sudah diperbaiki; petugas kami di {PHONE}."
    await stub.RespondToComplaint(pb.RespondToComplaintRequest(ticket_id=t, text=reply), metadata=AGENCY, timeout=5)

    for _ in range(200):
        if inbox.messages:
            break
        await asyncio.sleep(0.05)
    [(recipients, mail)] = inbox.messages
    assert recipients == [EMAIL] and mail["From"] == "laporgub@jatengprov.go.id" and t in mail["Subject"]
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Jam buka puskesmas sudah diperbaiki" in body and PHONE not in body

    for _ in range(200):
        tracked = await stub.TrackComplaint(pb.TrackComplaintRequest(ticket_id=t, pin=filed.pin), timeout=5)
        if tracked.notifications and tracked.notifications[0].status == "sent":
            break
        await asyncio.sleep(0.05)
    [note] = tracked.notifications
    assert (note.kind, note.delivered_via, note.status) == ("reply", "smtp", "sent")
    assert note.send_time.ToDatetime(dt.UTC) >= START
    with stub.runtime.db.engine.connect() as conn:  # type: ignore[attr-defined]
        reads = conn.execute(select(identity_access_log.c.actor, identity_access_log.c.ticket_id)).all()
    assert [tuple(r) for r in reads] == [("notification-dispatcher", t)]  # reading the address is audited
