"""End to end: `grms up` starts the whole suite, an agency registered at the gateway reaches every service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from grms_cli.config import SERVICES
from grms_cli.nats import port_is_free
from grms_cli.probes import grpc_health, pid_alive
from grms_kit.testing import free_port

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 150.0
REPLICA_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0
ADMIN = "e2e-admin"
ADMIN_PASSWORD = "e2e-password-long-enough"


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.25) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


@dataclass
class Suite:
    """A running `grms up` and where to reach it."""

    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    var_dir: Path
    gateway: str
    output: Path

    def log(self) -> str:
        """The supervisor's console output and the tail of each child's log, for failure messages."""
        parts = [self.output.read_text(errors="replace")[-4000:]]
        for log in sorted((self.var_dir / "log").glob("*.log")):
            parts.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-1500:])
        return "\n".join(parts)

    def suite_json(self) -> dict[str, Any]:
        """The current var/run/suite.json."""
        return json.loads((self.var_dir / "run" / "suite.json").read_text())

    def grms(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run another `grms` command against the same var directory."""
        return subprocess.run(
            [sys.executable, "-m", "grms_cli.main", *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[Suite]:
    """`grms up` on free ports with its own var directory; killed at the end whatever happened."""
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRMS_")}
    env["GRMS_VAR_DIR"] = str(var_dir)
    env["GRMS_LOG_LEVEL"] = "INFO"
    ports = set()
    while len(ports) < len(SERVICES) + 2:
        ports.add(free_port())
    port_list = sorted(ports)
    for svc, port in zip(SERVICES, port_list, strict=False):
        env[f"GRMS_{svc.upper()}_GRPC_PORT"] = str(port)
    env["GRMS_GATEWAY_PORT"] = str(port_list[-2])
    env["GRMS_NATS_PORT"] = str(port_list[-1])
    output = tmp_path / "grms-up.out"
    with output.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "grms_cli.main", "up", "--ready-timeout", str(READY_TIMEOUT)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = Suite(proc, env, var_dir, f"http://127.0.0.1:{port_list[-2]}", output)
    try:
        yield running
    finally:
        if proc.poll() is None:
            # SIGKILL: the children die with it (PR_SET_PDEATHSIG), which this also exercises.
            proc.kill()
            proc.wait(30)


def _ready(suite: Suite) -> bool:
    if suite.proc.poll() is not None:
        pytest.fail(f"grms up exited with {suite.proc.returncode}:\n{suite.log()}")
    try:
        return httpx.get(f"{suite.gateway}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _suite_running(suite: Suite) -> bool:
    if suite.proc.poll() is not None:
        pytest.fail(f"grms up exited with {suite.proc.returncode}:\n{suite.log()}")
    try:
        return suite.suite_json().get("state") == "running"
    except (FileNotFoundError, json.JSONDecodeError):
        return False


def test_suite_up_replicates_an_agency_and_stops_cleanly(suite: Suite) -> None:
    wait_until("/readyz to answer 200", lambda: _ready(suite), READY_TIMEOUT)
    wait_until("the seed and the admin account", lambda: _suite_running(suite), READY_TIMEOUT)

    info = suite.suite_json()
    processes = {p["name"]: p for p in info["processes"]}
    assert set(processes) == {"nats", *SERVICES, "gateway"}
    for svc in SERVICES:
        assert grpc_health(processes[svc]["address"], timeout=3) == "SERVING", suite.log()
    assert httpx.get(f"{suite.gateway}/healthz", timeout=5).status_code == 200
    assert (suite.var_dir / "auth_secret").stat().st_mode & 0o777 == 0o600
    # The tracking PINs' pepper: generated apart from the auth secret, with a key id.
    assert (suite.var_dir / "pin_peppers").stat().st_mode & 0o777 == 0o600
    assert (suite.var_dir / "pin_peppers").read_text().startswith("k1:")
    assert (suite.var_dir / "admin_password").exists()

    created = suite.grms(
        "user",
        "create",
        ADMIN,
        "--role",
        "admin",
        "--government",
        "33",
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stdout + created.stderr
    with httpx.Client(base_url=suite.gateway, timeout=10) as http:
        login = http.post("/api/v1/auth/token", data={"username": ADMIN, "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

        agency = {
            "code": "2.20.0.00.0.00.01.0000",
            "name": "Dinas Statistik Uji Ujung ke Ujung",
            "short_name": "Distat E2E",
            "head": {
                "name": "Sri Handayani, S.Si., M.Stat.",
                "title": "Kepala Dinas Statistik",
                "nip": "197801012005012001",
            },
            "contacts": [
                {"kind": "email", "value": "distat-e2e@jatengprov.go.id", "verified": True},
                {"kind": "phone", "value": "+62243511111", "verified": True},
            ],
        }
        registered = http.post("/api/v1/governments/33/agencies", json=agency)
        assert registered.status_code == 201, registered.text

        def replicated() -> dict[str, Any] | None:
            reply = http.get(f"/api/v1/governments/33/agencies/{agency['code']}/replicas")
            if reply.status_code != 200:
                return None
            body = reply.json()
            versions = {svc: (body.get(svc) or {}).get("version") for svc in SERVICES}
            return body if all(v is not None for v in versions.values()) else None

        replicas = wait_until("every service to hold the new agency", replicated, REPLICA_TIMEOUT)
        assert all(replicas[svc]["version"] == replicas["budgeting"]["version"] for svc in SERVICES), replicas

    # A crashed service is restarted by the supervisor and serves again.
    victim = processes["monev"]
    os.kill(victim["pid"], signal.SIGKILL)

    def restarted() -> dict[str, Any] | None:
        entry = {p["name"]: p for p in suite.suite_json()["processes"]}["monev"]
        if entry["restarts"] >= 1 and entry["pid"] != victim["pid"] and pid_alive(entry["pid"]):
            return entry if grpc_health(entry["address"], timeout=2) == "SERVING" else None
        return None

    wait_until("the supervisor to restart monev", restarted, READY_TIMEOUT)
    assert "monev exited" in suite.log()

    status = suite.grms("status")
    assert status.returncode == 0, status.stdout + status.stderr

    pids = [p["pid"] for p in suite.suite_json()["processes"]]
    ports = [(p["host"], p["port"]) for p in suite.suite_json()["processes"]]
    suite.proc.send_signal(signal.SIGTERM)
    assert suite.proc.wait(STOP_TIMEOUT) == 0, suite.log()
    wait_until("every child process to be gone", lambda: not any(pid_alive(pid) for pid in pids), 10)
    wait_until("every port to be free", lambda: all(port_is_free(port, host) for host, port in ports), 10)
    assert suite.suite_json()["state"] == "stopped"
