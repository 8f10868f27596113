"""GrpcServer: health, reflection, identity, deadlines and the mapping of errors to statuses."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grms.budgeting.v1 import agency_pb2, budgeting_service_pb2, budgeting_service_pb2_grpc
from grms_kit.errors import Conflict, FieldViolation, InvalidArgument, NotFound
from grms_kit.grpc_server import GrpcServer, PortInUse
from grms_kit.identity import Identity, Role, TokenCodec, current_identity
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

SECRET = "g" * 40
SERVICE = "grms.budgeting.v1.BudgetingService"


class Servicer(budgeting_service_pb2_grpc.BudgetingServiceServicer):
    """GetAgency behaves according to the requested code."""

    async def GetAgency(self, request: Any, context: Any) -> Any:
        code = request.code
        if code == "invalid":
            raise InvalidArgument([FieldViolation("code", "must be digits"), FieldViolation("government_code", "x")])
        if code == "missing":
            raise NotFound(f"agency {code} not found")
        if code == "conflict":
            raise Conflict("the agency changed")
        if code == "crash":
            raise KeyError("a bug")
        if code == "slow":
            await asyncio.sleep(30)
        who = current_identity()
        return budgeting_service_pb2.GetAgencyResponse(
            agency=agency_pb2.Agency(code=code, name=who.sub or "anonymous", government_code=who.government)
        )

    async def UpdateAgency(self, request: Any, context: Any) -> Any:
        # The caller must hold a role: raises Unauthenticated/PermissionDenied otherwise.
        current_identity().require_role(Role.ADMIN)
        return budgeting_service_pb2.UpdateAgencyResponse()


@pytest.fixture
async def server() -> AsyncIterator[GrpcServer]:
    srv = GrpcServer(
        "127.0.0.1:0",
        [(budgeting_service_pb2_grpc.add_BudgetingServiceServicer_to_server, Servicer(), SERVICE)],
        TokenCodec(SECRET),
        default_timeout=0.5,
    )
    await srv.start()
    yield srv
    await srv.server.stop(None)


@pytest.fixture
async def channel(server: GrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch


def _stub(channel: grpc.aio.Channel) -> budgeting_service_pb2_grpc.BudgetingServiceStub:
    return budgeting_service_pb2_grpc.BudgetingServiceStub(channel)


async def _get(channel: grpc.aio.Channel, code: str, **kwargs: Any) -> Any:
    return await _stub(channel).GetAgency(budgeting_service_pb2.GetAgencyRequest(code=code), **kwargs)


async def test_health_is_not_serving_until_told(server: GrpcServer, channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    await server.set_serving(True)
    for name in ("", SERVICE):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_service(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def requests() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    names: set[str] = set()
    async for reply in stub.ServerReflectionInfo(requests(), timeout=2):
        names |= {s.name for s in reply.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


async def test_invalid_argument_carries_bad_request(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await _get(channel, "invalid", timeout=2)
    call = info.value
    assert call.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(call)
    assert status is not None and status.code == code_pb2.INVALID_ARGUMENT
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["code", "government_code"]
    assert bad.field_violations[0].description == "must be digits"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("missing", grpc.StatusCode.NOT_FOUND),
        ("conflict", grpc.StatusCode.ABORTED),
        ("crash", grpc.StatusCode.INTERNAL),
    ],
)
async def test_errors_map_to_status_codes(channel: grpc.aio.Channel, code: str, status: grpc.StatusCode) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await _get(channel, code, timeout=2)
    assert info.value.code() == status
    assert info.value.code() != grpc.StatusCode.UNKNOWN
    if code == "crash":
        assert "a bug" not in (info.value.details() or "")  # internals are not leaked


async def test_invalid_token_is_unauthenticated(channel: grpc.aio.Channel) -> None:
    bad = TokenCodec("o" * 40).issue(Identity(sub="mallory"))
    for metadata in (
        (("authorization", f"Bearer {bad}"),),
        (("authorization", "Basic abc"),),
        (("authorization", "Bearer "),),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await _get(channel, "1.01", timeout=2, metadata=metadata)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_valid_token_sets_the_identity(channel: grpc.aio.Channel) -> None:
    token = TokenCodec(SECRET).issue(Identity(sub="u-7", roles=frozenset({Role.ADMIN}), government="33"))
    reply = await _get(channel, "1.01", timeout=2, metadata=(("authorization", f"Bearer {token}"),))
    assert reply.agency.name == "u-7" and reply.agency.government_code == "33"
    reply = await _get(channel, "1.01", timeout=2)  # the identity does not leak to the next call
    assert reply.agency.name == "anonymous"
    await _stub(channel).UpdateAgency(
        budgeting_service_pb2.UpdateAgencyRequest(), timeout=2, metadata=(("authorization", f"Bearer {token}"),)
    )


async def test_role_checks_in_the_servicer(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await _stub(channel).UpdateAgency(budgeting_service_pb2.UpdateAgencyRequest(), timeout=2)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    token = TokenCodec(SECRET).issue(Identity(sub="u-8", roles=frozenset({Role.PLANNER})))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await _stub(channel).UpdateAgency(
            budgeting_service_pb2.UpdateAgencyRequest(), timeout=2, metadata=(("authorization", f"Bearer {token}"),)
        )
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_call_without_deadline_is_bounded_by_the_server(channel: grpc.aio.Channel) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await asyncio.wait_for(_get(channel, "slow"), 10)  # no client deadline
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert loop.time() - started < 3


async def test_client_deadline_shorter_than_the_default_wins(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await _get(channel, "slow", timeout=0.2)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_port_in_use_names_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        srv = GrpcServer(address, [], TokenCodec(SECRET))
        with pytest.raises(PortInUse, match=address):
            await srv.start()
