"""A service never crashes on a missing dependency: it says NOT_SERVING and keeps trying.

And it refuses bad configuration at once, naming the variable, and a taken port, naming it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grms_kit.testing import NatsServer, ServiceProcess, free_port, wait_until
from grpc_health.v1 import health_pb2, health_pb2_grpc

pytestmark = pytest.mark.e2e


def _health(address: str) -> int | None:
    with grpc.insecure_channel(address) as channel:
        try:
            return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1).status
        except grpc.RpcError:
            return None


def test_without_nats_it_reports_not_serving_then_serves_when_nats_arrives(tmp_path: Path) -> None:
    nats = NatsServer(tmp_path / "nats")  # its port is chosen, nothing listens there yet
    service = ServiceProcess(
        "planning", {"GRMS_NATS_URL": nats.url}, tmp_path, database_url=f"sqlite:///{tmp_path / 'p.db'}"
    ).start()
    try:
        not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
        wait_until(lambda: _health(service.address) == not_serving, 20, message="NOT_SERVING without NATS")
        log = service.log_path
        wait_until(lambda: "cannot reach NATS" in log.read_text(), 20, message="a retry logged")
        assert service.proc is not None and service.proc.poll() is None
        nats.start()
        service.wait_serving(30)
    finally:
        service.stop()
        nats.stop()


def test_without_its_database_it_reports_not_serving_and_keeps_running(tmp_path: Path, nats_server: NatsServer) -> None:
    closed = free_port()  # a PostgreSQL that is not there
    service = ServiceProcess(
        "monev",
        {"GRMS_NATS_URL": nats_server.url},
        tmp_path,
        database_url=f"postgresql://grms@127.0.0.1:{closed}/grms",
    ).start()
    try:
        not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
        wait_until(lambda: _health(service.address) == not_serving, 20, message="NOT_SERVING without a database")
        wait_until(lambda: "database not ready" in service.log_path.read_text(), 20, message="a retry logged")
        assert service.proc is not None and service.proc.poll() is None
    finally:
        assert service.stop() == 0


def _run(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module], env={**os.environ, **env}, capture_output=True, text=True, timeout=30
    )


def test_a_malformed_setting_stops_the_service_naming_the_variable() -> None:
    result = _run("grms_budgeting", {"GRMS_BUDGETING_GRPC_PORT": "eighty", "GRMS_NATS_URL": "http://localhost"})
    assert result.returncode == 2
    assert "GRMS_BUDGETING_GRPC_PORT" in result.stderr
    assert "GRMS_NATS_URL" in result.stderr


def test_a_missing_secret_is_named() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GRMS_AUTH_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "grms_complaints"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "GRMS_AUTH_SECRET: is required but not set" in result.stderr


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(
            "grms_delivery",
            {"GRMS_DELIVERY_GRPC_PORT": str(port), "GRMS_DELIVERY_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"},
        )
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr
