"""Helpers for cross-service tests: start services as processes and talk to them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import grpc
from grms.budgeting.v1 import agency_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as budgeting_pb
from grms.budgeting.v1 import budgeting_service_pb2_grpc as budgeting_grpc
from grms_kit.identity import Identity, Role, TokenCodec
from grms_kit.testing import SERVICES, NatsServer, ServiceProcess, temporary_postgres_database

REPLICAS = tuple(s for s in SERVICES if s != "budgeting")


def admin_metadata() -> list[tuple[str, str]]:
    """gRPC metadata of a province administrator."""
    token = TokenCodec(os.environ["GRMS_AUTH_SECRET"]).issue(
        Identity(sub="test-admin", roles=frozenset({Role.ADMIN}), government="33")
    )
    return [("authorization", f"Bearer {token}")]


def replica_stub(name: str, channel: grpc.aio.Channel):  # type: ignore[no-untyped-def]
    """The gRPC stub of service `name` (one of REPLICAS) on `channel`."""
    import importlib

    module = importlib.import_module(f"grms.{name}.v1.{name}_service_pb2_grpc")
    return getattr(module, f"{name.capitalize()}ServiceStub")(channel)


def replica_request(name: str, **fields: str):  # type: ignore[no-untyped-def]
    """A GetAgencyRequest of service `name`."""
    import importlib

    module = importlib.import_module(f"grms.{name}.v1.{name}_service_pb2")
    return module.GetAgencyRequest(**fields)


def agency_request(code: str, name: str) -> budgeting_pb.RegisterAgencyRequest:
    """A valid RegisterAgency request for the province."""
    return budgeting_pb.RegisterAgencyRequest(
        government_code="33",
        code=code,
        name=name,
        head=agency_pb2.AgencyHead(name="Ir. Siti Rahayu, M.T.", title=f"Kepala {name}"),
        contacts=[agency_pb2.ContactChannel(kind=agency_pb2.CONTACT_KIND_EMAIL, value=f"{code}@jatengprov.go.id")],
    )


def budgeting_stub(channel: grpc.aio.Channel) -> budgeting_grpc.BudgetingServiceStub:
    """The BudgetingService stub on `channel`."""
    return budgeting_grpc.BudgetingServiceStub(channel)


@contextlib.contextmanager
def database_urls(kind: str, postgres_admin: str | None, tmp: Path) -> Iterator[dict[str, str]]:
    """One database per service: SQLite files under `tmp`, or fresh PostgreSQL databases."""
    if kind == "sqlite":
        yield {name: f"sqlite:///{tmp / f'{name}.db'}" for name in SERVICES}
        return
    assert postgres_admin is not None
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(temporary_postgres_database(postgres_admin, f"grms_{name}")) for name in SERVICES
        }


@contextlib.contextmanager
def running_services(
    names: tuple[str, ...], nats: NatsServer, urls: dict[str, str], tmp: Path
) -> Iterator[dict[str, ServiceProcess]]:
    """Start `names` as processes against `nats`; stop them all afterwards."""
    env = {"GRMS_NATS_URL": nats.url, "GRMS_VAR_DIR": str(tmp), "GRMS_LOG_LEVEL": "INFO"}
    processes = {name: ServiceProcess(name, env, tmp, database_url=urls[name]).start() for name in names}
    try:
        for process in processes.values():
            process.wait_serving(60)
        yield processes
    finally:
        for process in processes.values():
            process.stop()
