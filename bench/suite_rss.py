"""(e) Whole-suite idle memory: nats-server, the six services and the gateway as processes.

Each service gets its own free gRPC port and the shared settings (`GRMS_VAR_DIR`,
`GRMS_AUTH_SECRET`, `GRMS_NATS_URL`); the gateway gets `GRMS_GATEWAY_PORT` and the services'
ports. Once every gRPC health Check answers SERVING and the gateway accepts connections,
the suite idles a few seconds, then the resident memory of every process (children
included) is summed with psutil. All processes are terminated afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import grpc
import psutil
from grms_kit.testing import NatsServer, free_port, wait_for_port
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.common import Report

SERVICES = ("budgeting", "planning", "delivery", "controlling", "monev", "complaints")
GATEWAY = "gateway"
READY_TIMEOUT = 90.0
IDLE_SECONDS = 3.0
TARGET_MB = 700.0


@dataclass
class Proc:
    """One started process of the suite."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log: Path
    log_file: IO[bytes]

    def tail(self, lines: int = 15) -> str:
        """The end of its log, to say why it did not come up."""
        self.log_file.flush()
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def module_of(name: str) -> str:
    """The Python module that runs component `name`."""
    return f"grms_{name}"


def runnable(name: str) -> bool:
    """Whether `python -m grms_<name>` exists in this environment."""
    try:
        return importlib.util.find_spec(f"{module_of(name)}.__main__") is not None
    except ModuleNotFoundError:
        return False


def rss_bytes(pid: int) -> int:
    """Resident memory of process `pid` and all its children."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def _serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def _wait_ready(procs: list[Proc]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    waiting = list(procs)
    while waiting:
        for proc in list(waiting):
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
            if proc.name == GATEWAY:
                try:
                    wait_for_port(proc.port, timeout=0.2)
                except TimeoutError:
                    continue
                waiting.remove(proc)
            elif _serving(proc.port):
                waiting.remove(proc)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(p.name for p in waiting)
            raise TimeoutError(f"not SERVING after {READY_TIMEOUT:.0f}s: {names}\n{waiting[0].tail()}")
        time.sleep(0.2)


def _terminate(procs: list[Proc]) -> None:
    for proc in procs:
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.popen.wait(15)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            proc.popen.wait(5)
        proc.log_file.close()


def measure(workdir: Path) -> dict[str, Any]:
    """Start the suite, wait until ready and idle, and return the memory figures."""
    components = [n for n in (*SERVICES, GATEWAY) if runnable(n)]
    missing = [f"python -m {module_of(n)}" for n in (*SERVICES, GATEWAY) if n not in components]
    if not components:
        return {"ran": False, "reason": "not runnable yet: " + ", ".join(missing)}
    var_dir = workdir / "suite-var"
    var_dir.mkdir(parents=True, exist_ok=True)
    nats = NatsServer(workdir / "suite-nats").start()
    ports = {name: free_port() for name in (*SERVICES, GATEWAY)}
    env = {
        **os.environ,
        "GRMS_VAR_DIR": str(var_dir),
        "GRMS_AUTH_SECRET": secrets.token_urlsafe(48),
        "GRMS_NATS_URL": nats.url,
        "GRMS_GATEWAY_PORT": str(ports[GATEWAY]),
        **{f"GRMS_{name.upper()}_GRPC_PORT": str(ports[name]) for name in SERVICES},
    }
    procs: list[Proc] = []
    try:
        for name in components:
            log = workdir / f"suite-{name}.log"
            log_file = open(log, "wb")
            popen = subprocess.Popen(
                [sys.executable, "-m", module_of(name)], env=env, cwd=workdir, stdout=log_file, stderr=subprocess.STDOUT
            )
            procs.append(Proc(name, popen, ports[name], log, log_file))
        started = time.monotonic()
        _wait_ready(procs)
        ready_after = time.monotonic() - started
        time.sleep(IDLE_SECONDS)
        per_process = {p.name: rss_bytes(p.popen.pid) / 2**20 for p in procs}
        per_process["nats-server"] = rss_bytes(nats.proc.pid) / 2**20 if nats.proc else 0.0
        return {
            "ran": True,
            "complete": not missing,
            "missing": missing,
            "ready_after_s": ready_after,
            "idle_s": IDLE_SECONDS,
            "rss_mb": per_process,
            "total_mb": sum(per_process.values()),
            "target_mb": TARGET_MB,
        }
    except (RuntimeError, TimeoutError) as exc:
        return {"ran": False, "reason": str(exc), "missing": missing}
    finally:
        _terminate(procs)
        nats.stop()


def add_to(report: Report, result: dict[str, Any]) -> None:
    """Add the figures (or why there are none) to `report`."""
    report.section("(e) whole suite idle RSS: nats-server + six services + gateway")
    if not result["ran"]:
        first_line = result["reason"].splitlines()[0]
        report.line("not measured", "—", first_line)
        return
    for name, mb in result["rss_mb"].items():
        report.line(name, f"{mb:,.0f} MB")
    verdict = "OK" if result["total_mb"] < TARGET_MB else "ABOVE TARGET"
    if not result["complete"]:
        verdict = f"INCOMPLETE, not runnable yet: {', '.join(result['missing'])}"
    report.line(
        "total",
        f"{result['total_mb']:,.0f} MB",
        f"target < {TARGET_MB:.0f} MB: {verdict}; ready after {result['ready_after_s']:.1f} s",
    )
