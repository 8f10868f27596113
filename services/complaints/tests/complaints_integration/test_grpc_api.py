"""ComplaintsService over real gRPC, a real database (SQLite and PostgreSQL), real NATS and a manual clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import nats
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grms.budgeting.v1 import agency_pb2, government_pb2
from grms.budgeting.v1 import events_pb2 as budgeting_events
from grms.complaints.v1 import complaint_pb2, events_pb2
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms.complaints.v1 import complaints_service_pb2_grpc as pb_grpc
from grms_complaints import bootstrap
from grms_complaints.adapters.tables import (
    complainant,
    complaint,
    complaint_attachment,
    complaint_board_open,
    complaint_message,
    identity_access_log,
    messaging,
    sla_deadline,
)
from grms_complaints.adapters.wire import event_id_for
from grms_complaints.config import Settings
from grms_complaints.domain.pins import PinHasher, pin_pepper
from grms_complaints.domain.sla import JAKARTA
from grms_kit.clock import ManualClock
from grms_kit.events import Envelope
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.messaging import ensure_stream
from grms_kit.runtime import ServiceRuntime
from grms_kit.testing import NatsServer, free_port
from grpc_status import rpc_status
from sqlalchemy import event, func, select

from ..complaints_unit.images import jpeg, png

SECRET = "complaints-test-secret-0123456789abcdef"
NAME, NIK, PHONE, EMAIL = "Siti Rahayu", "3374015512900003", "081225550101", "siti.rahayu@example.id"
# Friday 9 May 2025, 16:00 WIB.
START = dt.datetime(2025, 5, 9, 16, 0, tzinfo=JAKARTA).astimezone(dt.UTC)


def bearer(**identity: object) -> list[tuple[str, str]]:
    token = TokenCodec(SECRET).issue(Identity(**identity))  # type: ignore[arg-type]
    return [("authorization", f"Bearer {token}")]


OFFICER = bearer(sub="officer-33", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33")
AGENCY = bearer(sub="dinkes", roles=frozenset({Role.AGENCY_HEAD}), government="33", agencies=frozenset({"DINKES"}))


async def _publish_budgeting_facts(url: str) -> None:
    """What budgeting would publish: the province and one agency (fresh ids, so never de-duplicated)."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_stream(js, "budgeting")
    facts = [
        budgeting_events.GovernmentRegistered(
            government=government_pb2.Government(code="33", name="Provinsi Jawa Tengah")
        ),
        budgeting_events.AgencyRegistered(
            agency=agency_pb2.Agency(government_code="33", code="DINKES", name="Dinas Kesehatan", version=1)
        ),
    ]
    for fact in facts:
        envelope = Envelope.wrap(
            fact,
            source="grms-budgeting",
            government="33",
            time=dt.datetime.now(dt.UTC),
            event_id=str(uuid.uuid4()),
        )
        await js.publish(envelope.subject, envelope.payload, headers=envelope.headers())
    await nc.close()


@pytest.fixture
async def service(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[tuple[pb_grpc.ComplaintsServiceStub, ServiceRuntime, ManualClock]]:
    settings = Settings(
        database_url=database_url,
        grpc_port=free_port(),
        nats_url=nats_server.url,
        auth_secret=SECRET,
        var_dir=tmp_path,
        sla_scan_interval=0.05,
        cuti_bersama=[dt.date(2025, 5, 13)],
    )
    clock = ManualClock(START)
    runtime = bootstrap.build(settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.wait_for(runtime.ready.wait(), 30)
    # The shared broker outlives each test: start from an empty stream.
    nc = await nats.connect(nats_server.url)
    await nc.jetstream().purge_stream("GRMS_COMPLAINTS")
    await nc.close()
    await _publish_budgeting_facts(nats_server.url)
    async with grpc.aio.insecure_channel(settings.grpc_address) as channel:
        stub = pb_grpc.ComplaintsServiceStub(channel)
        for _ in range(200):  # the replica consumer applies budgeting's facts
            try:
                await stub.GetAgency(pb.GetAgencyRequest(government_code="33", code="DINKES"), timeout=5)
                break
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the reference copy never received budgeting's agency")
        yield stub, runtime, clock
    stop.set()
    await asyncio.wait_for(task, 30)


def file_request(**changes: object) -> pb.FileComplaintRequest:
    values: dict[str, object] = {
        "government_code": "33",
        "complaint_class": complaint_pb2.COMPLAINT_CLASS_PENGADUAN,
        "category_code": "layanan_kesehatan",
        "channel": complaint_pb2.COMPLAINT_CHANNEL_WHATSAPP,
        "title": f"Puskesmas tutup, NIK saya {NIK}",
        "description": f"Puskesmas Candi tutup jam 10 pagi. Hubungi saya di {PHONE} atau {EMAIL}.",
        "location": complaint_pb2.Location(
            point=complaint_pb2.GeoPoint(latitude=-7.0051, longitude=110.4381), address="Jl. Candi, Semarang"
        ),
        "complainant": complaint_pb2.Complainant(name=NAME, nik=NIK, phone=PHONE, email=EMAIL),
    }
    values.update(changes)
    return pb.FileComplaintRequest(**values)  # type: ignore[arg-type]


async def stream_messages(url: str, count: int, timeout: float = 10) -> list:  # type: ignore[type-arg]
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().subscribe("grms.complaints.>", ordered_consumer=True)
        return [await sub.next_msg(timeout=timeout) for _ in range(count)]
    finally:
        await nc.close()


async def wait_for_type(url: str, ce_type: str, count: int, timeout: float = 15) -> list:  # type: ignore[type-arg]
    """The first `count` messages of `ce_type` on the stream, waiting for them to be relayed."""
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().subscribe("grms.complaints.>", ordered_consumer=True)
        found = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found) < count:
            msg = await sub.next_msg(timeout=max(0.1, deadline - loop.time()))
            if msg.headers["ce-type"] == ce_type:
                found.append(msg)
        return found
    finally:
        await nc.close()


def _violations(exc: grpc.aio.AioRpcError) -> set[str]:
    status = rpc_status.from_call(exc)
    assert status is not None
    out: set[str] = set()
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        assert detail.Unpack(bad)
        out.update(v.field for v in bad.field_violations)
    return out


async def test_file_verify_assign_respond_resolve_with_events_free_of_identity(service, nats_server) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, clock = service
    filed = await stub.FileComplaint(file_request(anonymous=True), timeout=5)
    ticket, pin = filed.ticket_id, filed.pin
    assert filed.status == complaint_pb2.COMPLAINT_STATUS_RECEIVED and len(pin) == 8
    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=ticket), metadata=OFFICER, timeout=5)
    clock.advance(dt.timedelta(hours=2))
    await stub.AssignComplaint(
        pb.AssignComplaintRequest(ticket_id=ticket, agency_code="DINKES"), metadata=OFFICER, timeout=5
    )
    await stub.StartWork(pb.StartWorkRequest(ticket_id=ticket), metadata=AGENCY, timeout=5)
    await stub.AddInternalNote(
        pb.AddInternalNoteRequest(ticket_id=ticket, text="Kepala puskesmas sudah ditegur"), metadata=AGENCY, timeout=5
    )
    clock.advance(dt.timedelta(hours=3))
    await stub.RespondToComplaint(
        pb.RespondToComplaintRequest(ticket_id=ticket, text=f"Sudah kami telepon di {PHONE}; jam buka diperbaiki."),
        metadata=AGENCY,
        timeout=5,
    )
    resolved = await stub.ResolveComplaint(pb.ResolveComplaintRequest(ticket_id=ticket), metadata=OFFICER, timeout=5)
    c = resolved.complaint
    assert c.status == complaint_pb2.COMPLAINT_STATUS_RESOLVED
    assert c.first_response_minutes == 300 and [a.agency_code for a in c.assignments] == ["DINKES"]
    assert [n.text for n in c.notes] == ["Kepala puskesmas sudah ditegur"]
    assert all(d.met_time.seconds for d in c.deadlines if d.kind != complaint_pb2.SLA_KIND_AUTO_CLOSE)

    tracked = await stub.TrackComplaint(pb.TrackComplaintRequest(ticket_id=ticket, pin=pin), timeout=5)
    assert tracked.status == complaint_pb2.COMPLAINT_STATUS_RESOLVED
    assert [r.text for r in tracked.replies] == [
        "Sudah kami telepon di [nomor telepon disembunyikan]; jam buka diperbaiki."
    ]
    assert NIK not in tracked.title

    messages = await stream_messages(nats_server.url, 4)
    assert [m.subject for m in messages] == [
        "grms.complaints.complaint_received.v1",
        "grms.complaints.complaint_assigned.v1",
        "grms.complaints.complaint_responded.v1",
        "grms.complaints.complaint_resolved.v1",
    ]
    for message in messages:
        wire = message.data + repr(sorted(message.headers.items())).encode()
        for secret in (NAME, NIK, PHONE, "+6281225550101", EMAIL):
            assert secret.encode() not in wire, (message.subject, secret)
        assert message.headers["Nats-Msg-Id"] == message.headers["ce-id"]
        assert message.headers["grms-government"] == "33"
    received = events_pb2.ComplaintReceived.FromString(messages[0].data)
    assert (received.ticket_id, received.anonymous, received.channel) == (
        ticket,
        True,
        complaint_pb2.COMPLAINT_CHANNEL_WHATSAPP,
    )
    assert received.title == "Puskesmas tutup, NIK saya [NIK disembunyikan]"
    responded = events_pb2.ComplaintResponded.FromString(messages[2].data)
    assert (responded.agency_code, responded.first_response_minutes) == ("DINKES", 300)

    identity = await stub.GetComplainantIdentity(
        pb.GetComplainantIdentityRequest(ticket_id=ticket, reason="Konfirmasi identitas untuk klarifikasi"),
        metadata=OFFICER,
        timeout=5,
    )
    assert (identity.complainant.name, identity.complainant.nik) == (NAME, NIK)
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stub.GetComplainantIdentity(
            pb.GetComplainantIdentityRequest(ticket_id=ticket, reason="Ingin tahu siapa pelapornya"),
            metadata=AGENCY,
            timeout=5,
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with runtime.db.engine.connect() as conn:
        log = conn.execute(select(identity_access_log)).all()
        row = conn.execute(select(complaint).where(complaint.c.ticket_id == ticket)).one()
    assert [(r.actor, r.ticket_id) for r in log] == [("officer-33", ticket)]
    assert NAME not in repr(tuple(row)) and pin not in row.pin_hash


async def test_callers_mistakes_get_their_status_codes_and_store_nothing(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, _ = service
    filed = await stub.FileComplaint(file_request(), timeout=5)
    ticket = filed.ticket_id

    for ticket_id, pin in [(ticket, "00000000" if filed.pin != "00000000" else "11111111"), ("A" * 16, filed.pin)]:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.TrackComplaint(pb.TrackComplaintRequest(ticket_id=ticket_id, pin=pin), timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert info.value.details() == "no complaint with this ticket and PIN"

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ResolveComplaint(pb.ResolveComplaintRequest(ticket_id=ticket), metadata=OFFICER, timeout=5)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "it is received" in (info.value.details() or "")

    with runtime.db.engine.connect() as conn:
        before = [conn.execute(select(func.count()).select_from(t)).scalar() for t in (complaint, complainant)]
        outbox_before = conn.execute(select(func.count()).select_from(messaging.outbox)).scalar()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        # The web form must give a location (free-text channels such as WhatsApp need not).
        await stub.FileComplaint(
            file_request(description="", location=None, channel=complaint_pb2.COMPLAINT_CHANNEL_WEB), timeout=5
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(info.value) == {"description", "location"}

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.AssignComplaint(
            pb.AssignComplaintRequest(ticket_id=ticket, agency_code="DINKES"), metadata=AGENCY, timeout=5
        )
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetComplaint(pb.GetComplaintRequest(ticket_id=ticket), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED

    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=ticket), metadata=OFFICER, timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.AssignComplaint(
            pb.AssignComplaintRequest(ticket_id=ticket, agency_code="NOPE"), metadata=OFFICER, timeout=5
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    tighten = pb.TightenConfidentialityRequest(ticket_id=ticket, confidential=True)
    tightened = await stub.TightenConfidentiality(tighten, metadata=OFFICER, timeout=5)
    assert tightened.complaint.confidential
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.TightenConfidentiality(
            pb.TightenConfidentialityRequest(ticket_id=ticket, confidential=False), metadata=OFFICER, timeout=5
        )
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED

    with runtime.db.engine.connect() as conn:
        after = [conn.execute(select(func.count()).select_from(t)).scalar() for t in (complaint, complainant)]
        outbox_after = conn.execute(select(func.count()).select_from(messaging.outbox)).scalar()
    assert after == before == [1, 1] and outbox_after == outbox_before


async def test_reopen_and_reject_over_grpc(service, nats_server) -> None:  # type: ignore[no-untyped-def]
    stub, _, _ = service
    first = await stub.FileComplaint(file_request(), timeout=5)
    rejected = await stub.RejectComplaint(
        pb.RejectComplaintRequest(
            ticket_id=first.ticket_id, reason=complaint_pb2.REJECTION_REASON_NOT_OUR_AUTHORITY, note="Wewenang BPJS"
        ),
        metadata=OFFICER,
        timeout=5,
    )
    assert rejected.complaint.status == complaint_pb2.COMPLAINT_STATUS_REJECTED
    second = await stub.FileComplaint(file_request(), timeout=5)
    t = second.ticket_id
    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=t), metadata=OFFICER, timeout=5)
    await stub.AssignComplaint(
        pb.AssignComplaintRequest(ticket_id=t, agency_code="DINKES"), metadata=OFFICER, timeout=5
    )
    await stub.StartWork(pb.StartWorkRequest(ticket_id=t), metadata=AGENCY, timeout=5)
    await stub.RespondToComplaint(
        pb.RespondToComplaintRequest(ticket_id=t, text="Sudah buka kembali."), metadata=AGENCY, timeout=5
    )
    reopened = await stub.ReopenComplaint(
        pb.ReopenComplaintRequest(ticket_id=t, pin=second.pin, reason="Masih tutup jam 10"), timeout=5
    )
    assert reopened.status == complaint_pb2.COMPLAINT_STATUS_IN_PROGRESS
    [message] = await wait_for_type(nats_server.url, "grms.complaints.v1.ComplaintReopened", 1)
    event = events_pb2.ComplaintReopened.FromString(message.data)
    assert (event.ticket_id, event.reopen_count, event.agency_code) == (t, 1, "DINKES")


async def test_sla_breaches_escalate_once_per_level_with_a_manual_clock(service, nats_server) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, clock = service
    filed = await stub.FileComplaint(file_request(), timeout=5)
    ticket = filed.ticket_id
    due = START + dt.timedelta(hours=24)  # first response: 24 clock hours, over the weekend

    clock.set(START + dt.timedelta(hours=18))  # 75 %
    [warning] = await wait_for_type(nats_server.url, "grms.complaints.v1.ComplaintSlaWarning", 1)
    warned = events_pb2.ComplaintSlaWarning.FromString(warning.data)
    assert (warned.ticket_id, warned.kind) == (ticket, complaint_pb2.SLA_KIND_FIRST_RESPONSE)

    clock.set(due)
    clock.advance(dt.timedelta(minutes=1))
    await wait_for_type(nats_server.url, "grms.complaints.v1.ComplaintSlaBreached", 1)
    clock.advance(dt.timedelta(hours=24))  # one period later: the agency head
    breaches = await wait_for_type(nats_server.url, "grms.complaints.v1.ComplaintSlaBreached", 2)
    # Let the scheduler run many more passes at the same time: nothing new may appear.
    await asyncio.sleep(0.5)
    with runtime.db.engine.connect() as conn:
        types = [r.type for r in conn.execute(select(messaging.outbox.c.type))]
        row = conn.execute(
            select(sla_deadline).where(sla_deadline.c.ticket_id == ticket, sla_deadline.c.kind == "first_response")
        ).one()
    assert types.count("grms.complaints.v1.ComplaintSlaBreached") == 2
    assert types.count("grms.complaints.v1.ComplaintSlaWarning") == 1
    assert (row.escalation_level, row.breached_at, row.met_at) == (2, due + dt.timedelta(minutes=1), None)
    events = [events_pb2.ComplaintSlaBreached.FromString(m.data) for m in breaches]
    assert [(e.escalation_level, e.overdue_minutes) for e in events] == [
        (complaint_pb2.ESCALATION_TARGET_AGENCY_LIAISON, 0),
        (complaint_pb2.ESCALATION_TARGET_AGENCY_HEAD, 24 * 60),
    ]
    # Deterministic ids: a redo would carry the same Nats-Msg-Id and be dropped by JetStream and inboxes.
    assert [m.headers["Nats-Msg-Id"] for m in breaches] == [
        event_id_for(f"{ticket}:first_response:0:escalate:{level}") for level in (1, 2)
    ]

    # A second process on the same database and clock (a restart while the old one drains, or a
    # second replica): both schedulers scan, and still no step is raised twice.
    settings = runtime.settings
    stop_event = asyncio.Event()
    again = bootstrap.build(settings.model_copy(update={"grpc_port": free_port()}), clock=clock)
    task = asyncio.create_task(again.run(stop_event))
    await asyncio.wait_for(again.ready.wait(), 30)
    clock.advance(dt.timedelta(hours=24))
    breaches = await wait_for_type(nats_server.url, "grms.complaints.v1.ComplaintSlaBreached", 3)
    await asyncio.sleep(0.5)
    stop_event.set()
    await asyncio.wait_for(task, 30)
    with runtime.db.engine.connect() as conn:
        types = [r.type for r in conn.execute(select(messaging.outbox.c.type))]
    assert types.count("grms.complaints.v1.ComplaintSlaBreached") == 3
    levels = [events_pb2.ComplaintSlaBreached.FromString(m.data).escalation_level for m in breaches]
    assert levels == [1, 2, 3]


async def test_a_delivery_filed_twice_is_one_row_and_concurrent_redeliveries_meet_at_the_constraint(
    service: tuple[pb_grpc.ComplaintsServiceStub, ServiceRuntime, ManualClock],
) -> None:
    stub, runtime, _ = service
    request = file_request(channel_message_id="wamid.HBgMNjI4MTIyNTU1", location=None)
    first = await stub.FileComplaint(request, timeout=5)
    # Redeliveries, some of them at the same moment: the unique constraint settles the race.
    again = await asyncio.gather(*(stub.FileComplaint(request, timeout=10) for _ in range(4)))
    assert first.pin and not first.duplicate_delivery
    assert {r.ticket_id for r in again} == {first.ticket_id}
    assert all(r.duplicate_delivery and r.pin == "" for r in again)
    with runtime.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(complaint)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(complainant)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(messaging.outbox)).scalar() == 1

    staff_view = await stub.GetComplaint(pb.GetComplaintRequest(ticket_id=first.ticket_id), metadata=OFFICER, timeout=5)
    assert staff_view.complaint.channel_message_id == "wamid.HBgMNjI4MTIyNTU1"

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.FileComplaint(file_request(channel=complaint_pb2.COMPLAINT_CHANNEL_HOTLINE), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    village_head = complaint_pb2.Submitter(
        name="Slamet Riyadi", village_code="33.74.01.1001", role=complaint_pb2.SUBMITTER_ROLE_KEPALA_DESA
    )
    walk_in = await stub.FileComplaint(
        file_request(channel=complaint_pb2.COMPLAINT_CHANNEL_WALK_IN, submitted_by=village_head),
        metadata=OFFICER,
        timeout=5,
    )
    entered = await stub.GetComplaint(pb.GetComplaintRequest(ticket_id=walk_in.ticket_id), metadata=OFFICER, timeout=5)
    assert entered.complaint.recorded_by == "officer-33" and entered.complaint.submitted_by == village_head


async def test_the_village_code_is_stored_returned_and_sent_to_planners_unless_rahasia(service, nats_server) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, _ = service
    place = complaint_pb2.Location(
        point=complaint_pb2.GeoPoint(latitude=-7.0051, longitude=110.4381),
        address="Jl. Candi, Semarang",
        village_code="33.74.01.1001",
    )
    public = await stub.FileComplaint(file_request(location=place), timeout=5)
    secret = await stub.FileComplaint(file_request(location=place, confidential=True), timeout=5)
    got = await stub.GetComplaint(pb.GetComplaintRequest(ticket_id=public.ticket_id), metadata=OFFICER, timeout=5)
    assert got.complaint.location.village_code == "33.74.01.1001"
    with runtime.db.engine.connect() as conn:
        stored = dict(conn.execute(select(complaint.c.ticket_id, complaint.c.village_code)).all())
    assert stored == {public.ticket_id: "33.74.01.1001", secret.ticket_id: "33.74.01.1001"}

    with pytest.raises(grpc.aio.AioRpcError) as bad:
        bad_place = complaint_pb2.Location(address="Jl. Candi", village_code="33.74.1001")
        await stub.FileComplaint(file_request(location=bad_place), timeout=5)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(bad.value) == {"location.village_code"}
    with runtime.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(complaint)).scalar() == 2

    received = [
        events_pb2.ComplaintReceived.FromString(m.data)
        for m in await wait_for_type(nats_server.url, "grms.complaints.v1.ComplaintReceived", 2)
    ]
    by_ticket = {r.ticket_id: r for r in received}
    shown, hidden = by_ticket[public.ticket_id], by_ticket[secret.ticket_id]
    assert (shown.village_code, shown.latitude, shown.longitude) == ("33.74.01.1001", -7.0051, 110.4381)
    assert (hidden.village_code, hidden.latitude, hidden.longitude) == ("", 0.0, 0.0)


JPEG = jpeg(b"\x11" * 4000)
PNG = png(b"\x22" * 4000)


async def test_photos_are_stored_once_by_hash_and_served_unless_rahasia(service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, _ = service
    jpeg, png = hashlib.sha256(JPEG).hexdigest(), hashlib.sha256(PNG).hexdigest()
    public = await stub.FileComplaint(file_request(photos=[JPEG]), timeout=5)
    secret = await stub.FileComplaint(file_request(photos=[JPEG, PNG], confidential=True), timeout=5)
    added = await stub.AddPhoto(pb.AddPhotoRequest(ticket_id=public.ticket_id, pin=public.pin, content=PNG), timeout=5)
    assert (added.attachment.sha256, added.attachment.media_type) == (png, "image/png")

    got = await stub.GetComplaint(pb.GetComplaintRequest(ticket_id=secret.ticket_id), metadata=OFFICER, timeout=5)
    assert [(a.sha256, a.size_bytes) for a in got.complaint.attachments] == [(jpeg, len(JPEG)), (png, len(PNG))]
    stored = sorted(p.name for p in (tmp_path / "complaint-photos").rglob("*") if p.is_file())
    assert stored == sorted([jpeg, png])  # three links, two files
    with runtime.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(complaint_attachment)).scalar() == 4

    served = await stub.GetPhoto(pb.GetPhotoRequest(ticket_id=public.ticket_id, sha256=png), timeout=5)
    assert served.content == PNG and served.attachment.added_by == ""
    listed = await stub.ListPublicComplaints(pb.ListPublicComplaintsRequest(government_code="33"), timeout=5)
    assert [(c.ticket_id, c.first_photo_sha256) for c in listed.complaints] == [(public.ticket_id, jpeg)]
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await stub.GetPhoto(pb.GetPhotoRequest(ticket_id=secret.ticket_id, sha256=jpeg), timeout=5)
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    staff = await stub.GetPhoto(
        pb.GetPhotoRequest(ticket_id=secret.ticket_id, sha256=jpeg), metadata=OFFICER, timeout=5
    )
    assert staff.content == JPEG

    with pytest.raises(grpc.aio.AioRpcError) as wrong_type:
        await stub.FileComplaint(file_request(photos=[b"%PDF-1.7 " + JPEG]), timeout=5)
    assert wrong_type.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(wrong_type.value) == {"photos[0]"}
    with pytest.raises(grpc.aio.AioRpcError) as too_big:
        big = JPEG + b"\x00" * (5 * 1024 * 1024)
        await stub.AddPhoto(pb.AddPhotoRequest(ticket_id=public.ticket_id, content=big), metadata=OFFICER, timeout=5)
    assert too_big.value.code() == grpc.StatusCode.INVALID_ARGUMENT and _violations(too_big.value) == {"content"}
    with runtime.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(complaint)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(complaint_attachment)).scalar() == 4


async def _resolve(stub, **changes: object) -> pb.FileComplaintResponse:  # type: ignore[no-untyped-def]
    filed = await stub.FileComplaint(file_request(**changes), timeout=5)
    t = filed.ticket_id
    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=t), metadata=OFFICER, timeout=5)
    await stub.AssignComplaint(
        pb.AssignComplaintRequest(ticket_id=t, agency_code="DINKES"), metadata=OFFICER, timeout=5
    )
    await stub.StartWork(pb.StartWorkRequest(ticket_id=t), metadata=AGENCY, timeout=5)
    await stub.RespondToComplaint(
        pb.RespondToComplaintRequest(ticket_id=t, text="Jam buka sudah diperbaiki."), metadata=AGENCY, timeout=5
    )
    await stub.ResolveComplaint(pb.ResolveComplaintRequest(ticket_id=t), metadata=OFFICER, timeout=5)
    return filed


async def test_rating_closes_once_and_unanswered_resolutions_close_themselves(service, nats_server) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, clock = service
    rated = await _resolve(stub)
    answer = await stub.RateComplaint(
        pb.RateComplaintRequest(ticket_id=rated.ticket_id, pin=rated.pin, score=5, comment="Terima kasih"), timeout=5
    )
    assert answer.status == complaint_pb2.COMPLAINT_STATUS_CLOSED and answer.rating.score == 5
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await stub.RateComplaint(pb.RateComplaintRequest(ticket_id=rated.ticket_id, pin=rated.pin, score=1), timeout=5)
    assert twice.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    [event] = await wait_for_type(nats_server.url, "grms.complaints.v1.ComplaintRated", 1)
    payload = events_pb2.ComplaintRated.FromString(event.data)
    assert (payload.ticket_id, payload.score, payload.agency_code) == (rated.ticket_id, 5, "DINKES")
    assert b"Terima kasih" not in event.data
    tracked = await stub.TrackComplaint(pb.TrackComplaintRequest(ticket_id=rated.ticket_id, pin=rated.pin), timeout=5)
    assert tracked.rating.score == 5

    silent = await _resolve(stub)
    got = await stub.GetComplaint(pb.GetComplaintRequest(ticket_id=silent.ticket_id), metadata=OFFICER, timeout=5)
    [auto_close] = [d for d in got.complaint.deadlines if d.kind == complaint_pb2.SLA_KIND_AUTO_CLOSE]
    clock.set(auto_close.due_time.ToDatetime(dt.UTC) + dt.timedelta(minutes=1))

    for _ in range(300):  # the scheduler runs every 0.05 s
        c = await stub.GetComplaint(pb.GetComplaintRequest(ticket_id=silent.ticket_id), metadata=OFFICER, timeout=5)
        if c.complaint.status == complaint_pb2.COMPLAINT_STATUS_CLOSED:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the resolved complaint never closed itself")
    assert c.complaint.notes[-1].text == "Ditutup otomatis: pelapor tidak menanggapi penyelesaian"
    with runtime.db.engine.connect() as conn:
        row = conn.execute(
            select(sla_deadline).where(
                sla_deadline.c.ticket_id == silent.ticket_id, sla_deadline.c.kind == "auto_close"
            )
        ).one()
    assert row.met_at is not None and row.next_check_at is None  # durable: a restart finds nothing to redo


ADMIN = bearer(sub="admin-33", roles=frozenset({Role.ADMIN}), government="33")


async def test_admins_edit_categories_with_versions_and_default_routing(service) -> None:  # type: ignore[no-untyped-def]
    stub, _, _ = service
    stunting = pb.Category(
        code="stunting", name="Stunting dan gizi", name_en="Stunting", group="kesehatan", default_agency_code="DINKES"
    )
    with pytest.raises(grpc.aio.AioRpcError) as officer:
        await stub.CreateCategory(
            pb.CreateCategoryRequest(government_code="33", category=stunting), metadata=OFFICER, timeout=5
        )
    assert officer.value.code() == grpc.StatusCode.PERMISSION_DENIED
    created = await stub.CreateCategory(
        pb.CreateCategoryRequest(government_code="33", category=stunting), metadata=ADMIN, timeout=5
    )
    assert (created.category.version, created.category.default_agency_code) == (1, "DINKES")
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await stub.CreateCategory(
            pb.CreateCategoryRequest(government_code="33", category=stunting), metadata=ADMIN, timeout=5
        )
    assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS
    renamed = pb.Category()
    renamed.CopyFrom(stunting)
    renamed.name = "Stunting, gizi buruk"
    updated = await stub.UpdateCategory(
        pb.UpdateCategoryRequest(government_code="33", category=renamed, expected_version=1), metadata=ADMIN, timeout=5
    )
    assert (updated.category.version, updated.category.name) == (2, "Stunting, gizi buruk")
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.UpdateCategory(
            pb.UpdateCategoryRequest(government_code="33", category=stunting, expected_version=1),
            metadata=ADMIN,
            timeout=5,
        )
    assert stale.value.code() == grpc.StatusCode.ABORTED
    listed = await stub.ListCategories(pb.ListCategoriesRequest(government_code="33"), timeout=5)
    assert {c.code: c.version for c in listed.categories}["stunting"] == 2
    assert "stunting" not in {c.code for c in (await stub.ListCategories(pb.ListCategoriesRequest())).categories}

    filed = await stub.FileComplaint(file_request(category_code="stunting"), timeout=5)
    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=filed.ticket_id), metadata=OFFICER, timeout=5)
    assigned = await stub.AssignComplaint(
        pb.AssignComplaintRequest(ticket_id=filed.ticket_id), metadata=OFFICER, timeout=5
    )
    assert assigned.complaint.agency_code == "DINKES"
    assert [(a.agency_code, a.actor) for a in assigned.complaint.assignments] == [("DINKES", "officer-33")]


async def test_duplicates_are_suggested_merged_and_follow_their_primary(service) -> None:  # type: ignore[no-untyped-def]
    stub, _, _ = service
    text = "Puskesmas Candi tutup jam 10 pagi padahal jadwal buka sampai jam 14, pasien terlantar."
    near = complaint_pb2.Location(point=complaint_pb2.GeoPoint(latitude=-7.0053, longitude=110.4383), address="Candi")
    primary = await stub.FileComplaint(file_request(description=text), timeout=5)
    duplicate = await stub.FileComplaint(file_request(description=text, location=near), timeout=5)
    staff = await stub.GetComplaint(pb.GetComplaintRequest(ticket_id=duplicate.ticket_id), metadata=OFFICER, timeout=5)
    assert [n.text.split(" (skor")[0] for n in staff.complaint.notes] == [f"Kemungkinan duplikat: {primary.ticket_id}"]

    found = await stub.ListDuplicateCandidates(
        pb.ListDuplicateCandidatesRequest(ticket_id=duplicate.ticket_id), metadata=OFFICER, timeout=5
    )
    [candidate] = found.candidates
    assert candidate.ticket_id == primary.ticket_id and candidate.score > 0.8 and 0 < candidate.distance_meters < 50

    with pytest.raises(grpc.aio.AioRpcError) as itself:
        await stub.MergeComplaints(
            pb.MergeComplaintsRequest(
                primary_ticket_id=primary.ticket_id, duplicate_ticket_id=primary.ticket_id, reason="Sama"
            ),
            metadata=OFFICER,
            timeout=5,
        )
    assert itself.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    merged = await stub.MergeComplaints(
        pb.MergeComplaintsRequest(
            primary_ticket_id=primary.ticket_id, duplicate_ticket_id=duplicate.ticket_id, reason="Puskesmas yang sama"
        ),
        metadata=OFFICER,
        timeout=5,
    )
    assert merged.duplicate.merged_into == primary.ticket_id

    t = primary.ticket_id
    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=t), metadata=OFFICER, timeout=5)
    await stub.AssignComplaint(
        pb.AssignComplaintRequest(ticket_id=t, agency_code="DINKES"), metadata=OFFICER, timeout=5
    )
    await stub.StartWork(pb.StartWorkRequest(ticket_id=t), metadata=AGENCY, timeout=5)
    await stub.RespondToComplaint(
        pb.RespondToComplaintRequest(ticket_id=t, text="Jadwal buka sudah ditegakkan."), metadata=AGENCY, timeout=5
    )
    tracked = await stub.TrackComplaint(
        pb.TrackComplaintRequest(ticket_id=duplicate.ticket_id, pin=duplicate.pin), timeout=5
    )
    assert tracked.merged_into == t and tracked.status == complaint_pb2.COMPLAINT_STATUS_RESPONDED
    assert [r.text for r in tracked.replies] == ["Jadwal buka sudah ditegakkan."]
    assert [n.kind for n in tracked.notifications] == ["merged", "reply"]
    listed = await stub.ListPublicComplaints(
        pb.ListPublicComplaintsRequest(government_code="33", ticket_ids=[duplicate.ticket_id]), timeout=5
    )
    assert listed.complaints[0].merged_into == t


async def test_the_governors_board_over_grpc(service) -> None:  # type: ignore[no-untyped-def]
    stub, _runtime, clock = service
    filed = await stub.FileComplaint(file_request(), timeout=5)
    clock.advance(dt.timedelta(minutes=1))
    hidden = await stub.FileComplaint(file_request(anonymous=True, confidential=True), timeout=5)
    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=filed.ticket_id), metadata=OFFICER, timeout=5)
    await stub.AssignComplaint(
        pb.AssignComplaintRequest(ticket_id=filed.ticket_id, agency_code="DINKES"), metadata=OFFICER, timeout=5
    )
    await stub.StartWork(pb.StartWorkRequest(ticket_id=filed.ticket_id), metadata=AGENCY, timeout=5)
    clock.advance(dt.timedelta(minutes=89))
    await stub.RespondToComplaint(
        pb.RespondToComplaintRequest(ticket_id=filed.ticket_id, text="Sudah ditangani."), metadata=AGENCY, timeout=5
    )
    clock.advance(dt.timedelta(hours=30))
    request = pb.GetComplaintBoardRequest(government_code="33")
    request.period.start_time.FromDatetime(START - dt.timedelta(days=1))
    request.period.end_time.FromDatetime(START + dt.timedelta(days=2))
    board = await stub.GetComplaintBoard(request, metadata=OFFICER, timeout=5)
    rows = {r.agency_code: r for r in board.agencies}
    assert rows["DINKES"].median_first_response_hours == 1.5 and rows["DINKES"].sla_compliance_percent == 100.0
    assert rows[""].overdue == 1 and rows[""].oldest_open_ticket_id == hidden.ticket_id
    assert board.totals.received == 2 and len(board.trend) == 3
    assert [c.ticket_id for c in board.complaints] == [hidden.ticket_id, filed.ticket_id]
    assert board.complaints[0].reporter_reference == "" and board.complaints[0].overdue
    assert board.complaints[1].reporter_reference.startswith("PLP-") and NIK not in board.complaints[1].title
    # The agency sees its own row only; a missing period is a field violation.
    mine = await stub.GetComplaintBoard(request, metadata=AGENCY, timeout=5)
    assert [r.agency_code for r in mine.agencies] == ["DINKES"]
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.GetComplaintBoard(pb.GetComplaintBoardRequest(government_code="33"), metadata=OFFICER, timeout=5)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(bad.value) == {"period.start_time", "period.end_time"}
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.GetComplaintBoard(request, timeout=5)
    assert anonymous.value.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


async def test_a_watch_token_follows_the_tracking_view_without_the_pin_for_thirty_minutes(service) -> None:  # type: ignore[no-untyped-def]
    stub, _runtime, clock = service
    filed = await stub.FileComplaint(file_request(), timeout=5)
    other = await stub.FileComplaint(file_request(), timeout=5)
    tracked = await stub.TrackComplaint(pb.TrackComplaintRequest(ticket_id=filed.ticket_id, pin=filed.pin), timeout=5)
    token = tracked.watch_token
    assert token and filed.pin not in token
    await stub.VerifyComplaint(pb.VerifyComplaintRequest(ticket_id=filed.ticket_id), metadata=OFFICER, timeout=5)
    watched = await stub.WatchComplaint(
        pb.WatchComplaintRequest(ticket_id=filed.ticket_id, watch_token=token), timeout=5
    )
    assert watched.tracked.status == complaint_pb2.COMPLAINT_STATUS_VERIFIED and NIK not in watched.tracked.title
    assert watched.tracked.watch_token == ""
    for ticket, bad in (
        (other.ticket_id, token),
        (filed.ticket_id, token[:-1] + ("1" if token.endswith("0") else "0")),
        (filed.ticket_id, "x"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.WatchComplaint(pb.WatchComplaintRequest(ticket_id=ticket, watch_token=bad), timeout=5)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    clock.advance(dt.timedelta(minutes=31))
    with pytest.raises(grpc.aio.AioRpcError) as expired:
        await stub.WatchComplaint(pb.WatchComplaintRequest(ticket_id=filed.ticket_id, watch_token=token), timeout=5)
    assert expired.value.code() == grpc.StatusCode.NOT_FOUND


async def test_pins_are_peppered_and_tracking_is_rate_limited_per_ticket(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, _ = service
    filed = await stub.FileComplaint(file_request(), timeout=5)
    ticket, pin = filed.ticket_id, filed.pin
    # The stored form is keyed by a pepper derived from the service's secret, and neither the
    # pepper nor the secret is anywhere in the database.
    pepper = pin_pepper(SECRET)
    with runtime.db.engine.connect() as conn:
        stored = conn.execute(select(complaint.c.pin_hash).where(complaint.c.ticket_id == ticket)).scalar_one()
        everything = [
            repr(tuple(row)) for table in complaint.metadata.sorted_tables for row in conn.execute(select(table))
        ]
    assert stored.startswith("hmac-sha256$") and pin not in stored
    assert PinHasher(pepper).verify(pin, stored)
    assert not PinHasher(pin_pepper("another-secret-0123456789abcdefghij")).verify(pin, stored)
    dump = "\n".join(everything)
    assert pepper.hex() not in dump and repr(pepper) not in dump and SECRET not in dump

    wrong = "00000000" if pin != "00000000" else "11111111"
    for _ in range(10):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.TrackComplaint(pb.TrackComplaintRequest(ticket_id=ticket, pin=wrong), timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.TrackComplaint(pb.TrackComplaintRequest(ticket_id=ticket, pin=pin), timeout=5)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    other = await stub.FileComplaint(file_request(), timeout=5)
    tracked = await stub.TrackComplaint(pb.TrackComplaintRequest(ticket_id=other.ticket_id, pin=other.pin), timeout=5)
    assert tracked.ticket_id == other.ticket_id


async def test_concurrent_filings_share_one_commit_and_a_bad_one_fails_alone(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, _ = service
    api = runtime.grpc_services[0][1]
    batches_before = api.intake.batches
    gate = threading.Event()
    # Hold the database threads so the filings below wait together and go in as one batch.
    holders = [asyncio.ensure_future(runtime.db.run(gate.wait, 10)) for _ in range(8)]
    await asyncio.sleep(0.05)
    good = [file_request(title=f"Jalan berlubang nomor {i}") for i in range(5)]
    webhook = file_request(channel_message_id="wamid.GROUP-COMMIT-1", location=None)
    bad = file_request(title="x")
    calls = [stub.FileComplaint(r, timeout=20) for r in [*good, webhook, bad, webhook]]
    pending = asyncio.gather(*calls, return_exceptions=True)
    for _ in range(400):  # until all eight have reached the service and wait for the database
        if api.intake.waiting == 8:
            break
        await asyncio.sleep(0.025)
    else:
        gate.set()
        pytest.fail(f"only {api.intake.waiting} of 8 filings reached the group commit within 10 s")
    gate.set()
    await asyncio.gather(*holders)
    results = await pending
    filed, failed, first, again = results[:5], results[6], results[5], results[7]
    assert all(isinstance(r, pb.FileComplaintResponse) and r.pin for r in filed)
    assert isinstance(failed, grpc.aio.AioRpcError) and failed.code() == grpc.StatusCode.INVALID_ARGUMENT
    # The same delivery twice in one batch: the later one finds the earlier's row.
    assert isinstance(first, pb.FileComplaintResponse) and isinstance(again, pb.FileComplaintResponse)
    assert {first.duplicate_delivery, again.duplicate_delivery} == {False, True}
    assert first.ticket_id == again.ticket_id
    assert api.intake.batches - batches_before == 1  # all eight waited together: one transaction
    with runtime.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(complaint)).scalar() == 6
        assert conn.execute(select(func.count()).select_from(complainant)).scalar() == 6
        received = conn.execute(
            select(func.count()).select_from(messaging.outbox).where(messaging.outbox.c.type.like("%ComplaintReceived"))
        ).scalar()
    assert received == 6  # one event per stored complaint, none for the bad one


async def test_a_batch_of_filings_writes_each_table_once(service) -> None:  # type: ignore[no-untyped-def]
    # Round trips: per filing only its checks; the rows nobody in the batch reads back by query
    # (complaints, identity, deadlines, outbox, board sums) go in one statement each.
    stub, runtime, _ = service
    api = runtime.grpc_services[0][1]
    await stub.FileComplaint(file_request(), timeout=5)  # categories and government cached
    statements: list[str] = []

    def record(conn, cursor, sql, *rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(sql.split()).upper())

    gate = threading.Event()
    holders = [asyncio.ensure_future(runtime.db.run(gate.wait, 10)) for _ in range(8)]
    await asyncio.sleep(0.05)
    requests = [file_request(title=f"Jalan rusak {i}") for i in range(6)]
    pending = asyncio.gather(*[stub.FileComplaint(r, timeout=20) for r in requests])
    for _ in range(400):
        if api.intake.waiting == 6:
            break
        await asyncio.sleep(0.025)
    event.listen(runtime.db.engine, "before_cursor_execute", record)
    gate.set()
    await asyncio.gather(*holders)
    filed = await pending
    event.remove(runtime.db.engine, "before_cursor_execute", record)
    assert all(f.pin for f in filed)

    def inserts(table: str) -> int:
        return sum(1 for s in statements if s.startswith(f"INSERT INTO {table.upper()} "))

    assert not [s for s in statements if "SAVEPOINT" in s]  # no savepoint per filing (kit.group_commit)
    # The complaint rows too, for filings without a delivery id (one with an id is inserted at
    # once, alone: its uniqueness must answer that filing — the concurrent-filings test above).
    for table in (
        "complaint",
        "complainant",
        "sla_deadline",
        "outbox_message",
        "complaint_board_day",
        "complaint_board_open",
    ):
        assert inserts(table) == 1, (table, [s for s in statements if table.upper() in s])
    with runtime.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(complainant)).scalar() == 7
        assert conn.execute(select(func.count()).select_from(messaging.outbox)).scalar() == 7
        tickets = conn.execute(select(func.count(func.distinct(sla_deadline.c.ticket_id)))).scalar()
        opened = conn.execute(select(func.sum(complaint_board_open.c.open))).scalar()
    assert tickets == 7 and opened == 7  # the batch's board deltas, summed, count every filing


def _traceparent(n: int) -> str:
    return f"00-{n:032x}-{n:016x}-01"


async def test_a_batch_call_files_each_item_alone_in_its_own_trace_and_one_transaction(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, _ = service
    api = runtime.grpc_services[0][1]
    webhook = file_request(channel_message_id="wamid.BATCH-1", location=None)
    filings = [
        file_request(title="Jalan berlubang satu"),
        file_request(title="x"),  # too short: INVALID_ARGUMENT with its field
        webhook,
        file_request(channel=99),  # not a channel: INVALID_ARGUMENT, before anything is written
        webhook,  # the same delivery again in the same batch: the earlier item's ticket
        file_request(title="Jalan berlubang dua"),
    ]
    items = [
        pb.FileComplaintsItem(filing=f, trace_context={"traceparent": _traceparent(i + 1)})
        for i, f in enumerate(filings)
    ]
    batches_before = api.intake.batches
    response = await stub.FileComplaints(pb.FileComplaintsRequest(items=items), timeout=10)
    assert api.intake.batches - batches_before == 1  # the whole call: one transaction, one commit
    outcomes = [r.WhichOneof("outcome") for r in response.results]
    assert outcomes == ["filed", "error", "filed", "error", "filed", "filed"]
    filed = [r.filed for r in response.results if r.HasField("filed")]
    assert all(f.pin for f in (filed[0], filed[3])) and filed[1].ticket_id == filed[2].ticket_id
    assert {filed[1].duplicate_delivery, filed[2].duplicate_delivery} == {False, True}
    for index, field in ((1, "title"), (3, "channel")):
        status = status_pb2.Status()
        assert response.results[index].error.Unpack(status)
        assert status.code == code_pb2.INVALID_ARGUMENT
        bad = error_details_pb2.BadRequest()
        assert status.details[0].Unpack(bad) and field in {v.field for v in bad.field_violations}
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            select(messaging.outbox.c.headers).where(messaging.outbox.c.type.like("%ComplaintReceived"))
        ).all()
    # Each stored filing's event stays in the trace of the request it came from.
    assert sorted(r.headers["traceparent"][3:35] for r in rows) == [f"{n:032x}" for n in (1, 3, 6)]


async def test_a_batch_call_of_too_many_items_is_refused_whole(service) -> None:  # type: ignore[no-untyped-def]
    stub, _, _ = service
    items = [pb.FileComplaintsItem(filing=file_request()) for _ in range(257)]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.FileComplaints(pb.FileComplaintsRequest(items=items), timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and _violations(refused.value) == {"items"}


async def test_a_batch_asks_the_duplicate_pool_once_and_sees_its_own_earlier_filings(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime, _ = service
    await stub.FileComplaint(file_request(title="Puskesmas Candi tutup pagi"), timeout=5)  # in the pool already
    statements: list[str] = []

    def record(conn, cursor, sql, *rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(sql.split()).upper())

    items = [pb.FileComplaintsItem(filing=file_request(title="Puskesmas Candi tutup pagi")) for _ in range(4)]
    event.listen(runtime.db.engine, "before_cursor_execute", record)
    response = await stub.FileComplaints(pb.FileComplaintsRequest(items=items), timeout=10)
    event.remove(runtime.db.engine, "before_cursor_execute", record)
    tickets = [r.filed.ticket_id for r in response.results]
    assert len(set(tickets)) == 4
    pool_queries = [s for s in statements if s.startswith("SELECT COMPLAINT.TICKET_ID") and "MERGED_INTO IS NULL" in s]
    assert len(pool_queries) == 1  # one place, one batch: one pool query, not four
    with runtime.db.engine.connect() as conn:
        notes = dict(
            conn.execute(
                select(complaint_message.c.ticket_id, func.count())
                .where(complaint_message.c.ticket_id.in_(tickets), complaint_message.c.text.like("Kemungkinan%"))
                .group_by(complaint_message.c.ticket_id)
            ).all()
        )
        listed = {
            r.ticket_id: r.text
            for r in conn.execute(select(complaint_message.c.ticket_id, complaint_message.c.text)).all()
            if r.ticket_id == tickets[3] and r.text.startswith("Kemungkinan")
        }
    assert all(notes.get(t) == 1 for t in tickets)  # each suggested, the first of the batch too
    # The last of the batch sees the three filed before it in the same transaction (and the older one).
    assert all(t in listed[tickets[3]] for t in tickets[:3])
