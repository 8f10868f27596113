"""BudgetingService over real gRPC, a real database (SQLite and PostgreSQL) and real NATS."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import nats
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grms.budgeting.v1 import agency_pb2, events_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as pb_grpc
from grms_budgeting import bootstrap
from grms_budgeting.adapters.tables import agency, audit_anchor, messaging
from grms_budgeting.config import Settings
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.runtime import ServiceRuntime
from grms_kit.testing import NatsServer, free_port
from grpc_status import rpc_status
from sqlalchemy import insert, select

from .planning_events import plan_sub_activity

SECRET = "budgeting-test-secret-0123456789abcdef"


def bearer(**identity: object) -> list[tuple[str, str]]:
    token = TokenCodec(SECRET).issue(Identity(**identity))  # type: ignore[arg-type]
    return [("authorization", f"Bearer {token}")]


ADMIN = bearer(sub="admin", roles=frozenset({Role.ADMIN}), government="33")


@pytest.fixture
async def service(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[tuple[pb_grpc.BudgetingServiceStub, ServiceRuntime]]:
    settings = Settings(
        database_url=database_url,
        grpc_port=free_port(),
        nats_url=nats_server.url,
        auth_secret=SECRET,
        var_dir=tmp_path,
    )
    runtime = bootstrap.build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    await asyncio.wait_for(runtime.ready.wait(), 30)
    # The shared broker outlives each test: start from an empty stream.
    nc = await nats.connect(nats_server.url)
    await nc.jetstream().purge_stream("GRMS_BUDGETING")
    await nc.close()
    # Planning has given the sub-activity the plans of these tests use its output indicator.
    await plan_sub_activity(
        nats_server.url, runtime.db, agency="1.02.0.00.0.00.01.0000", sub="1.02.02.2.01.0001", year=2026
    )
    async with grpc.aio.insecure_channel(settings.grpc_address) as channel:
        stub = pb_grpc.BudgetingServiceStub(channel)
        await stub.RegisterGovernment(
            pb.RegisterGovernmentRequest(code="33", name="Provinsi Jawa Tengah"), metadata=ADMIN, timeout=5
        )
        yield stub, runtime
    stop.set()
    await asyncio.wait_for(task, 30)


def _violations(exc: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(exc)
    assert status is not None
    out: dict[str, str] = {}
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        assert detail.Unpack(bad)
        out.update({v.field: v.description for v in bad.field_violations})
    return out


async def test_invalid_agency_is_invalid_argument_with_field_violations_and_nothing_stored(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.RegisterAgency(
            pb.RegisterAgencyRequest(
                government_code="33",
                code="bad code",
                name="Dinas Kesehatan",
                contacts=[agency_pb2.ContactChannel(kind=agency_pb2.CONTACT_KIND_EMAIL, value="nope")],
            ),
            metadata=ADMIN,
            timeout=5,
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(_violations(info.value)) == {"code", "contacts[0].value"}
    with runtime.db.engine.connect() as conn:
        assert conn.execute(select(agency)).all() == []
        assert len(conn.execute(select(messaging.outbox)).all()) == 1  # only GovernmentRegistered


async def test_status_codes_for_the_callers_mistakes(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    request = pb.RegisterAgencyRequest(government_code="33", code="X1", name="Dinas Sosial")
    cases = [
        (stub.RegisterAgency(request, timeout=5), grpc.StatusCode.UNAUTHENTICATED),
        (
            stub.RegisterAgency(request, metadata=[("authorization", "Bearer forged")], timeout=5),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        (
            stub.RegisterAgency(
                request, metadata=bearer(sub="p", roles=frozenset({Role.PLANNER}), government="33"), timeout=5
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (stub.GetAgency(pb.GetAgencyRequest(government_code="33", code="nope"), timeout=5), grpc.StatusCode.NOT_FOUND),
        (
            stub.RegisterGovernment(
                pb.RegisterGovernmentRequest(code="33", name="Jawa Tengah"), metadata=ADMIN, timeout=5
            ),
            grpc.StatusCode.ALREADY_EXISTS,
        ),
    ]
    for call, expected in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == expected, info.value.details()


async def test_register_update_and_events_on_the_stream(service, nats_server: NatsServer) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    registered = await stub.RegisterAgency(
        pb.RegisterAgencyRequest(
            government_code="33",
            code="1.03.0.00.0.00.01.0000",
            name="Dinas Pekerjaan Umum Bina Marga dan Cipta Karya",
            short_name="DPU BMCK",
            contacts=[agency_pb2.ContactChannel(kind=agency_pb2.CONTACT_KIND_PHONE, value="(024) 8311174")],
        ),
        metadata=ADMIN,
        timeout=5,
    )
    assert registered.agency.contacts[0].value == "+62248311174"
    update = pb.UpdateAgencyRequest(
        agency=agency_pb2.Agency(government_code="33", code="1.03.0.00.0.00.01.0000", short_name="DPUBMCK"),
        update_mask=field_mask_pb2.FieldMask(paths=["short_name"]),
        expected_version=1,
    )
    updated = await stub.UpdateAgency(update, metadata=ADMIN, timeout=5)
    assert updated.agency.version == 2
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.UpdateAgency(update, metadata=ADMIN, timeout=5)
    assert stale.value.code() == grpc.StatusCode.ABORTED
    with pytest.raises(grpc.aio.AioRpcError) as bad_mask:
        await stub.UpdateAgency(
            pb.UpdateAgencyRequest(agency=update.agency, update_mask=field_mask_pb2.FieldMask(paths=["code"])),
            metadata=ADMIN,
            timeout=5,
        )
    assert bad_mask.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.jetstream().subscribe("grms.budgeting.>", ordered_consumer=True)
        messages = [await sub.next_msg(timeout=10) for _ in range(3)]
    finally:
        await nc.close()
    assert [m.subject for m in messages] == [
        "grms.budgeting.government_registered.v1",
        "grms.budgeting.agency_registered.v1",
        "grms.budgeting.agency_updated.v1",
    ]
    last = messages[-1]
    assert last.headers["ce-type"] == "grms.budgeting.v1.AgencyUpdated"
    assert last.headers["Nats-Msg-Id"] == last.headers["ce-id"]
    assert last.headers["ce-source"] == "grms-budgeting"
    assert last.headers["grms-government"] == "33"
    event = events_pb2.AgencyUpdated.FromString(last.data)
    assert (event.agency.version, list(event.changed_fields)) == (2, ["short_name"])
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(select(messaging.outbox.c.sent_at)).all()
    assert len(rows) == 3


async def test_paging_through_agencies(service) -> None:  # type: ignore[no-untyped-def]
    stub, _ = service
    for i in range(7):
        await stub.RegisterAgency(
            pb.RegisterAgencyRequest(government_code="33", code=f"B{i}", name=f"Badan Uji {i}"),
            metadata=ADMIN,
            timeout=5,
        )
    codes, token = [], ""
    while True:
        page = await stub.ListAgencies(
            pb.ListAgenciesRequest(government_code="33", page={"page_size": 3, "page_token": token}), timeout=5
        )
        codes += [a.code for a in page.agencies]
        token = page.page.next_page_token
        if not token:
            break
    assert codes == [f"B{i}" for i in range(7)]


async def test_audit_anchors_are_public_newest_first_in_keyset_pages(service) -> None:  # type: ignore[no-untyped-def]
    stub, runtime = service
    first = dt.date(2025, 3, 1)
    rows = [
        {
            "government_code": "33", "day": first + dt.timedelta(days=n), "combined_hash": f"{n:064x}",
            "plan_count": 1, "entry_count": n + 1,
            "computed_at": dt.datetime.combine(first + dt.timedelta(days=n + 1), dt.time(), dt.UTC),
        }
        for n in range(5)
    ]  # fmt: skip
    with runtime.db.engine.begin() as conn:
        conn.execute(insert(audit_anchor), rows)
    days, token, pages = [], "", 0
    while True:  # no credentials: anyone may read the anchors
        page = await stub.ListAuditAnchors(
            pb.ListAuditAnchorsRequest(government_code="33", page={"page_size": 2, "page_token": token}), timeout=5
        )
        days += [a.day for a in page.anchors]
        pages += 1
        token = page.page.next_page_token
        if not token:
            break
        assert token == page.anchors[-1].day  # the last day returned
    assert days == [(first + dt.timedelta(days=n)).isoformat() for n in reversed(range(5))]
    assert pages == 3
    whole = await stub.ListAuditAnchors(pb.ListAuditAnchorsRequest(government_code="33"), timeout=5)
    newest = whole.anchors[0]
    assert (newest.combined_hash, newest.plan_count, newest.entry_count) == (f"{4:064x}", 1, 5)
    assert newest.compute_time.ToDatetime(tzinfo=dt.UTC) == dt.datetime(2025, 3, 6, tzinfo=dt.UTC)
    assert whole.page.next_page_token == ""
    for request, code, field in (
        (pb.ListAuditAnchorsRequest(government_code="33", page={"page_token": "garbage"}),
         grpc.StatusCode.INVALID_ARGUMENT, "page.page_token"),
        (pb.ListAuditAnchorsRequest(government_code="33", page={"page_token": "2025-02-30"}),
         grpc.StatusCode.INVALID_ARGUMENT, "page.page_token"),
        (pb.ListAuditAnchorsRequest(government_code="33", page={"page_size": -1}),
         grpc.StatusCode.INVALID_ARGUMENT, "page.page_size"),
        (pb.ListAuditAnchorsRequest(government_code=""), grpc.StatusCode.INVALID_ARGUMENT, "government_code"),
        (pb.ListAuditAnchorsRequest(government_code="99"), grpc.StatusCode.NOT_FOUND, None),
    ):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ListAuditAnchors(request, timeout=5)
        assert info.value.code() == code, request
        if field is not None:
            assert field in _violations(info.value)
