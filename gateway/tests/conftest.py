"""Gateway test fixtures: real grpc.aio servers with fake-but-real servicers, and the real app in front of them.

The fakes keep budgeting's data in a dict but run inside grms_kit's GrpcServer, so tokens are
verified, errors become real gRPC statuses with BadRequest details, and health and reflection
are the standard services — the gateway cannot tell them from the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from google.protobuf import timestamp_pb2
from grms.budgeting.v1 import agency_pb2, budgeting_service_pb2, budgeting_service_pb2_grpc, government_pb2
from grms.common.v1 import paging_pb2
from grms.complaints.v1 import complaints_service_pb2, complaints_service_pb2_grpc
from grms.controlling.v1 import controlling_service_pb2, controlling_service_pb2_grpc
from grms.delivery.v1 import delivery_service_pb2, delivery_service_pb2_grpc
from grms.monev.v1 import monev_service_pb2, monev_service_pb2_grpc
from grms.planning.v1 import planning_service_pb2, planning_service_pb2_grpc
from grms_gateway import accounts
from grms_gateway.__main__ import bind
from grms_gateway.app import create_app
from grms_gateway.config import GatewaySettings
from grms_kit.errors import AlreadyExists, Conflict, FieldViolation, InvalidArgument, NotFound
from grms_kit.grpc_server import GrpcServer
from grms_kit.identity import Role, TokenCodec, current_identity
from grms_kit.testing import free_port

TEST_SECRET = "test-secret-test-secret-test-secret-0123"
ADMIN_PASSWORD = "correct horse battery staple"

REGENCIES = [
    "Cilacap", "Banyumas", "Purbalingga", "Banjarnegara", "Kebumen", "Purworejo", "Wonosobo", "Magelang",
    "Boyolali", "Klaten", "Sukoharjo", "Wonogiri", "Karanganyar", "Sragen", "Grobogan", "Blora", "Rembang",
    "Pati", "Kudus", "Jepara", "Demak", "Semarang", "Temanggung", "Kendal", "Batang", "Pekalongan",
    "Pemalang", "Tegal", "Brebes",
]  # fmt: skip
CITIES = ["Magelang", "Surakarta", "Salatiga", "Semarang", "Pekalongan", "Tegal"]


def central_java() -> list[government_pb2.Government]:
    """The province of Central Java and its 29 regencies and 6 cities, by official code."""
    govs = [
        government_pb2.Government(
            code="33", name="Provinsi Jawa Tengah", level=government_pb2.GOVERNMENT_LEVEL_PROVINCE
        )
    ]
    for i, name in enumerate(REGENCIES, start=1):
        govs.append(
            government_pb2.Government(
                code=f"33.{i:02d}",
                name=f"Kabupaten {name}",
                level=government_pb2.GOVERNMENT_LEVEL_REGENCY,
                parent_code="33",
            )
        )
    for i, name in enumerate(CITIES, start=71):
        govs.append(
            government_pb2.Government(
                code=f"33.{i}", name=f"Kota {name}", level=government_pb2.GOVERNMENT_LEVEL_CITY, parent_code="33"
            )
        )
    return govs


def seed_agencies() -> list[agency_pb2.Agency]:
    """Two agencies of the province, one with a verified e-mail and an unverified phone."""
    return [
        agency_pb2.Agency(
            government_code="33",
            code="1.02.0.00.0.00.01.0000",
            name="Dinas Kesehatan",
            short_name="Dinkes",
            head=agency_pb2.AgencyHead(name="dr. Yunita Dyah Suminar", title="Kepala Dinas Kesehatan"),
            contacts=[
                agency_pb2.ContactChannel(
                    kind=agency_pb2.CONTACT_KIND_EMAIL, value="dinkes@jatengprov.go.id", verified=True
                ),
                agency_pb2.ContactChannel(kind=agency_pb2.CONTACT_KIND_PHONE, value="+62248311111", verified=False),
            ],
            version=1,
        ),
        agency_pb2.Agency(
            government_code="33",
            code="5.01.0.00.0.00.01.0000",
            name="Badan Perencanaan Pembangunan Daerah",
            short_name="Bappeda",
            version=1,
        ),
    ]


def _now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(dt.datetime.now(dt.UTC))
    return stamp


def _page(items: list[Any], page: paging_pb2.PageRequest) -> tuple[list[Any], str]:
    size = min(page.page_size or 50, 500)
    if page.page_token and not page.page_token.isdigit():
        raise InvalidArgument.field("page.page_token", "not a token this service issued")
    start = int(page.page_token or 0)
    chunk = items[start : start + size]
    nxt = str(start + size) if start + size < len(items) else ""
    return chunk, nxt


@dataclass
class Store:
    """The data one fake service holds."""

    governments: dict[str, government_pb2.Government] = field(default_factory=dict)
    agencies: dict[tuple[str, str], agency_pb2.Agency] = field(default_factory=dict)

    def within(self, code: str) -> list[government_pb2.Government]:
        return [g for c, g in sorted(self.governments.items()) if not code or c == code or c.startswith(code + ".")]

    def agencies_of(self, government: str) -> list[agency_pb2.Agency]:
        return [a for (g, _), a in sorted(self.agencies.items()) if g == government]

    def agency(self, government: str, code: str) -> agency_pb2.Agency:
        found = self.agencies.get((government, code))
        if found is None:
            raise NotFound(f"agency {government}/{code} not found")
        return found


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+62\d{6,13}$")


def _validate(name: str, contacts: Any, *, prefix: str = "") -> list[FieldViolation]:
    violations = []
    if not name.strip():
        violations.append(FieldViolation(f"{prefix}name", "must not be empty"))
    for i, c in enumerate(contacts):
        if c.kind == agency_pb2.CONTACT_KIND_EMAIL and not _EMAIL.match(c.value):
            violations.append(FieldViolation(f"{prefix}contacts[{i}].value", "must be an e-mail address"))
        if c.kind in (agency_pb2.CONTACT_KIND_PHONE, agency_pb2.CONTACT_KIND_WHATSAPP) and not _PHONE.match(c.value):
            violations.append(
                FieldViolation(f"{prefix}contacts[{i}].value", "must be a phone number in E.164 form (+62…)")
            )
    return violations


class FakeBudgeting(budgeting_service_pb2_grpc.BudgetingServiceServicer):
    """e-budgeting with an in-memory dict; writes need the admin role, checked from the forwarded token."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen_identities: list[str] = []
        self.delay = 0.0

    async def RegisterGovernment(self, request: Any, context: Any) -> Any:
        current_identity().require_role(Role.ADMIN)
        if request.code in self.store.governments:
            raise AlreadyExists(f"government {request.code} exists already")
        gov = government_pb2.Government(code=request.code, name=request.name, level=request.level, create_time=_now())
        self.store.governments[request.code] = gov
        return budgeting_service_pb2.RegisterGovernmentResponse(government=gov)

    async def GetGovernment(self, request: Any, context: Any) -> Any:
        if self.delay:
            await asyncio.sleep(self.delay)
        gov = self.store.governments.get(request.code)
        if gov is None:
            raise NotFound(f"government {request.code} not found")
        return budgeting_service_pb2.GetGovernmentResponse(government=gov)

    async def ListGovernments(self, request: Any, context: Any) -> Any:
        chunk, nxt = _page(self.store.within(request.within_code), request.page)
        return budgeting_service_pb2.ListGovernmentsResponse(
            governments=chunk, page=paging_pb2.PageResponse(next_page_token=nxt)
        )

    async def RegisterAgency(self, request: Any, context: Any) -> Any:
        identity = current_identity()
        identity.require_role(Role.ADMIN)
        self.seen_identities.append(identity.sub)
        violations = _validate(request.name, request.contacts)
        if violations:
            raise InvalidArgument(violations)
        if request.government_code not in self.store.governments:
            raise NotFound(f"government {request.government_code} not found")
        key = (request.government_code, request.code)
        if key in self.store.agencies:
            raise AlreadyExists(f"agency {request.code} exists already in {request.government_code}")
        agency = agency_pb2.Agency(
            government_code=request.government_code,
            code=request.code,
            name=request.name,
            short_name=request.short_name,
            contacts=request.contacts,
            version=1,
            create_time=_now(),
            update_time=_now(),
        )
        if request.HasField("head"):
            agency.head.CopyFrom(request.head)
        self.store.agencies[key] = agency
        return budgeting_service_pb2.RegisterAgencyResponse(agency=agency)

    async def UpdateAgency(self, request: Any, context: Any) -> Any:
        current_identity().require_role(Role.ADMIN)
        current = self.store.agency(request.agency.government_code, request.agency.code)
        if request.expected_version and request.expected_version != current.version:
            raise Conflict(f"agency is at version {current.version}, not {request.expected_version}")
        paths = list(request.update_mask.paths)
        unknown = [p for p in paths if p not in ("name", "short_name", "head", "contacts")]
        if unknown:
            raise InvalidArgument.field("update_mask", f"unknown paths: {', '.join(unknown)}")
        updated = agency_pb2.Agency()
        updated.CopyFrom(current)
        for path in paths:
            if path in ("head", "contacts"):
                updated.ClearField(path)
                if path == "contacts":
                    updated.contacts.extend(request.agency.contacts)
                elif request.agency.HasField("head"):
                    updated.head.CopyFrom(request.agency.head)
            else:
                setattr(updated, path, getattr(request.agency, path))
        violations = _validate(updated.name, updated.contacts, prefix="agency.")
        if violations:
            raise InvalidArgument(violations)
        updated.version = current.version + 1
        updated.update_time.CopyFrom(_now())
        self.store.agencies[(updated.government_code, updated.code)] = updated
        return budgeting_service_pb2.UpdateAgencyResponse(agency=updated)

    async def GetAgency(self, request: Any, context: Any) -> Any:
        return budgeting_service_pb2.GetAgencyResponse(agency=self.store.agency(request.government_code, request.code))

    async def ListAgencies(self, request: Any, context: Any) -> Any:
        chunk, nxt = _page(self.store.agencies_of(request.government_code), request.page)
        return budgeting_service_pb2.ListAgenciesResponse(
            agencies=chunk, page=paging_pb2.PageResponse(next_page_token=nxt)
        )


REPLICA_MODULES: dict[str, tuple[Any, Any, str]] = {
    "planning": (planning_service_pb2, planning_service_pb2_grpc, "PlanningService"),
    "delivery": (delivery_service_pb2, delivery_service_pb2_grpc, "DeliveryService"),
    "controlling": (controlling_service_pb2, controlling_service_pb2_grpc, "ControllingService"),
    "monev": (monev_service_pb2, monev_service_pb2_grpc, "MonevService"),
    "complaints": (complaints_service_pb2, complaints_service_pb2_grpc, "ComplaintsService"),
}


def make_replica(service: str, store: Store) -> Any:
    """A servicer of `grms.<service>.v1.<Svc>Service` reading its own copy in `store`."""
    messages, grpc_module, name = REPLICA_MODULES[service]
    base = getattr(grpc_module, f"{name}Servicer")

    class Replica(base):  # type: ignore[misc, valid-type]
        async def ListGovernments(self, request: Any, context: Any) -> Any:
            chunk, nxt = _page(store.within(request.within_code), request.page)
            return messages.ListGovernmentsResponse(
                governments=chunk, page=paging_pb2.PageResponse(next_page_token=nxt)
            )

        async def ListAgencies(self, request: Any, context: Any) -> Any:
            chunk, nxt = _page(store.agencies_of(request.government_code), request.page)
            return messages.ListAgenciesResponse(agencies=chunk, page=paging_pb2.PageResponse(next_page_token=nxt))

        async def GetAgency(self, request: Any, context: Any) -> Any:
            return messages.GetAgencyResponse(agency=store.agency(request.government_code, request.code))

    return Replica()


@dataclass
class FakeSuite:
    """Six real gRPC servers on free loopback ports."""

    servers: dict[str, GrpcServer]
    stores: dict[str, Store]
    budgeting: FakeBudgeting

    def port(self, service: str) -> int:
        return self.servers[service].port

    async def stop(self, service: str) -> None:
        """Stop one service, as if its process died."""
        await self.servers[service].server.stop(None)

    async def stop_all(self) -> None:
        await asyncio.gather(*(s.server.stop(None) for s in self.servers.values()))


async def start_suite() -> FakeSuite:
    """Start budgeting and its five copies, seeded with Central Java, all SERVING."""
    codec = TokenCodec(TEST_SECRET)
    stores: dict[str, Store] = {}
    servers: dict[str, GrpcServer] = {}
    source = Store()
    for gov in central_java():
        source.governments[gov.code] = gov
    for agency in seed_agencies():
        source.agencies[(agency.government_code, agency.code)] = agency
    stores["budgeting"] = source
    budgeting = FakeBudgeting(source)
    servers["budgeting"] = GrpcServer(
        "127.0.0.1:0",
        [
            (
                budgeting_service_pb2_grpc.add_BudgetingServiceServicer_to_server,
                budgeting,
                "grms.budgeting.v1.BudgetingService",
            )
        ],
        codec,
    )
    for service, (_, grpc_module, name) in REPLICA_MODULES.items():
        copy = Store(governments=dict(source.governments))
        stores[service] = copy
        register = getattr(grpc_module, f"add_{name}Servicer_to_server")
        servers[service] = GrpcServer(
            "127.0.0.1:0", [(register, make_replica(service, copy), f"grms.{service}.v1.{name}")], codec
        )
    for server in servers.values():
        await server.start()
        await server.set_serving(True)
    return FakeSuite(servers=servers, stores=stores, budgeting=budgeting)


def gateway_settings(suite: FakeSuite, var_dir: Path, **overrides: Any) -> GatewaySettings:
    """Settings pointing the gateway at `suite`, with its accounts in `var_dir`."""
    ports = {f"{name}_grpc_port": suite.port(name) for name in suite.servers}
    return GatewaySettings(
        auth_secret=TEST_SECRET,
        var_dir=var_dir,
        grpc_deadline=3.0,
        probe_timeout=1.0,
        **ports,
        **overrides,
    )


def with_lifespan_state(app: Any, state: dict[str, Any]) -> Any:
    """Wrap an ASGI app so each request sees the lifespan state, as uvicorn passes it."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
async def suite() -> AsyncIterator[FakeSuite]:
    """The six fake services, for one test."""
    started = await start_suite()
    yield started
    await started.stop_all()


@pytest.fixture
def settings(suite: FakeSuite, tmp_path: Path) -> GatewaySettings:
    """Gateway settings against `suite`."""
    return gateway_settings(suite, tmp_path / "var")


@pytest.fixture
async def client(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the real app, lifespan started (migrations, channels)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=with_lifespan_state(app, dict(state or {})), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


@pytest.fixture
def make_user(settings: GatewaySettings) -> Callable[..., accounts.User]:
    """Create a user in the gateway's accounts database (migrated by the running app)."""

    def make(username: str, roles: list[str], government: str = "33") -> accounts.User:
        accounts.migrate(settings.accounts_database_url())
        return accounts.create_user(
            settings.accounts_database_url(), username, ADMIN_PASSWORD, roles, government, (), username.title()
        )

    return make


async def login(http: httpx.AsyncClient, username: str, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    """Log in through the token endpoint; the Authorization header to send."""
    response = await http.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def login_as(client: httpx.AsyncClient, make_user: Callable[..., accounts.User]) -> Callable[..., Any]:
    """Create a user with `roles` and return their Authorization header."""

    async def do(username: str, roles: list[str], government: str = "33") -> dict[str, str]:
        make_user(username, roles, government)
        return await login(client, username)

    return do


@dataclass
class LiveGateway:
    """A gateway served by uvicorn on a loopback port, with the fake suite, in a thread of its own."""

    url: str
    stop_service: Callable[[str], None]


@pytest.fixture
def live_gateway(tmp_path: Path) -> Iterator[LiveGateway]:
    """uvicorn on a free port in front of the fake suite; both run on one background event loop."""
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        started = await start_suite()
        holder["suite"] = started
        holder["loop"] = asyncio.get_running_loop()
        port = free_port()
        settings = gateway_settings(started, tmp_path / "var", port=port)
        server = uvicorn.Server(uvicorn.Config(create_app(settings), log_config=None, lifespan="on"))
        holder["server"] = server
        holder["url"] = f"http://127.0.0.1:{port}"
        sock = bind("127.0.0.1", port)
        serve = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serve.done():
            await asyncio.sleep(0.02)
        ready.set()
        await serve
        await started.stop_all()

    def run() -> None:
        try:
            asyncio.run(main())
        finally:
            ready.set()

    thread = threading.Thread(target=run, name="live-gateway", daemon=True)
    thread.start()
    assert ready.wait(30), "the gateway did not start"
    assert holder.get("server") is not None and holder["server"].started, "the gateway did not start"

    def stop_service(name: str) -> None:
        future = asyncio.run_coroutine_threadsafe(holder["suite"].stop(name), holder["loop"])
        future.result(10)

    yield LiveGateway(url=holder["url"], stop_service=stop_service)
    holder["server"].should_exit = True
    thread.join(20)
    with contextlib.suppress(KeyError):
        del holder["suite"]
