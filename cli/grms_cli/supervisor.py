"""The process supervisor behind `grms up`: starts the children, restarts crashes, stops them all."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grms_kit.nats_server import nats_server_binary, write_nats_config

from grms_cli.config import SERVICES, SuiteConfig

__all__ = [
    "Child",
    "ChildSpec",
    "FatalChildExit",
    "RestartPolicy",
    "Supervisor",
    "build_specs",
    "die_with_parent",
]

PR_SET_PDEATHSIG = 1
# A child that exits with 2 says its configuration is wrong or its port is taken:
# restarting cannot help, so the supervisor stops and says why.
CONFIG_EXIT_CODE = 2


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A preexec_fn that makes Linux SIGKILL the child when the supervisor dies, however it dies."""

    def preexec() -> None:
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The supervisor may have died between fork and prctl: then nobody would kill us.
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


@dataclass(frozen=True)
class RestartPolicy:
    """Exponential backoff between restarts: initial × factor^(failures-1), capped at maximum.

    A child that stayed up for `stable_after` seconds is healthy again and starts over from
    `initial` when it next crashes.
    """

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    stable_after: float = 30.0

    def delay(self, failures: int) -> float:
        """Seconds to wait before restart number `failures` (1 for the first crash)."""
        if failures < 1:
            return 0.0
        return min(self.initial * self.factor ** (failures - 1), self.maximum)


@dataclass(frozen=True)
class ChildSpec:
    """How to run one child: its argv, environment, port and log file."""

    name: str
    kind: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    host: str
    port: int
    log_path: Path
    url: str

    def describe(self) -> dict[str, Any]:
        """The parts of the spec that suite.json records."""
        return {
            "name": self.name,
            "kind": self.kind,
            "host": self.host,
            "port": self.port,
            "url": self.url,
            "log": str(self.log_path),
        }


def build_specs(
    config: SuiteConfig,
    secret: str,
    base_env: Mapping[str, str],
    python: str = sys.executable,
    *,
    pin_peppers: str = "",
) -> list[ChildSpec]:
    """The children of the suite in start order: nats-server (unless external), six services, gateway.

    `pin_peppers` goes to the complaints service alone (GRMS_COMPLAINTS_PIN_PEPPERS).
    """
    env = config.child_env(base_env, secret)
    specs: list[ChildSpec] = []
    if config.external_nats_url is None:
        nats_conf = config.var_dir / "nats" / "nats.conf"
        specs.append(
            ChildSpec(
                name="nats",
                kind="nats",
                argv=(nats_server_binary(), "-c", str(nats_conf)),
                env=dict(base_env),
                host="127.0.0.1",
                port=config.nats_port,
                log_path=config.log_dir / "nats.log",
                url=config.nats_url,
            )
        )
    for svc in SERVICES:
        specs.append(
            ChildSpec(
                name=svc,
                kind="service",
                argv=(python, "-m", f"grms_{svc}"),
                env={**env, "GRMS_COMPLAINTS_PIN_PEPPERS": pin_peppers} if svc == "complaints" and pin_peppers else env,
                host=config.service_hosts.get(svc, "127.0.0.1"),
                port=config.service_ports[svc],
                log_path=config.log_dir / f"{svc}.log",
                url=config.service_address(svc),
            )
        )
    specs.append(
        ChildSpec(
            name="gateway",
            kind="gateway",
            argv=(python, "-m", "grms_gateway"),
            env=env,
            host=config.gateway_host,
            port=config.gateway_port,
            log_path=config.log_dir / "gateway.log",
            url=config.gateway_url,
        )
    )
    return specs


class FatalChildExit(Exception):
    """A child exited in a way restarting cannot fix (a configuration error)."""

    def __init__(self, name: str, code: int, tail: str) -> None:
        super().__init__(f"{name} exited with status {code} (configuration error)")
        self.name = name
        self.code = code
        self.tail = tail


@dataclass
class Child:
    """One supervised process and its restart bookkeeping."""

    spec: ChildSpec
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restarts: int = 0
    restart_at: float | None = None
    last_exit: int | None = None
    history: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        """The pid of the running process, if any."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    @property
    def state(self) -> str:
        """running, restarting, or stopped."""
        if self.pid is not None:
            return "running"
        if self.restart_at is not None:
            return "restarting"
        return "stopped"


def tail_of(path: Path, lines: int = 15) -> str:
    """The last `lines` lines of a log file ("" when there is none)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Supervisor:
    """Runs the children, restarts crashed ones with backoff and stops them in order."""

    def __init__(
        self,
        config: SuiteConfig,
        specs: list[ChildSpec],
        *,
        policy: RestartPolicy | None = None,
        notify: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.children = [Child(spec) for spec in specs]
        self.policy = policy or RestartPolicy()
        self.notify = notify
        self.clock = clock
        self.started_at = dt.datetime.now(dt.UTC)
        self.state = "starting"
        self._log = None

    def child(self, name: str) -> Child:
        """The child called `name`."""
        for child in self.children:
            if child.spec.name == name:
                return child
        raise KeyError(name)

    def event(self, message: str, **fields: Any) -> None:
        """Record a supervisor event as a JSON line in var/log/supervisor.log."""
        if self._log is None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            self._log = (self.config.log_dir / "supervisor.log").open("a", encoding="utf-8")
        record = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "service": "supervisor",
            "message": message,
            **fields,
        }
        self._log.write(json.dumps(record, default=str) + "\n")
        self._log.flush()

    def prepare(self) -> None:
        """Create var/log, var/run and (for the embedded NATS) var/nats with its config file."""
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        if self.config.external_nats_url is None:
            write_nats_config(self.config.var_dir / "nats", self.config.nats_port)

    def spawn(self, child: Child) -> None:
        """Start `child`, appending its output to its log file."""
        spec = child.spec
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("ab") as log:
            child.proc = subprocess.Popen(
                list(spec.argv),
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: a Ctrl-C in the terminal reaches only the supervisor, which
                # then stops the children in order (nats-server last).
                start_new_session=True,
                preexec_fn=die_with_parent(os.getpid()),
            )
        child.started_at = self.clock()
        child.restart_at = None
        self.event("started", child=spec.name, pid=child.proc.pid, port=spec.port)

    def start_all(self) -> None:
        """Start every child in order and record them in suite.json."""
        self.prepare()
        for child in self.children:
            self.spawn(child)
        self.write_suite_file()

    def tick(self) -> None:
        """Reap exited children and restart those whose backoff has elapsed; call it often."""
        now = self.clock()
        changed = False
        for child in self.children:
            if child.proc is not None and child.restart_at is None:
                code = child.proc.poll()
                if code is None:
                    if child.failures and now - child.started_at >= self.policy.stable_after:
                        child.failures = 0
                    continue
                child.last_exit = code
                if code == CONFIG_EXIT_CODE and child.spec.kind != "nats":
                    self.event("fatal exit", child=child.spec.name, code=code)
                    raise FatalChildExit(child.spec.name, code, tail_of(child.spec.log_path))
                child.failures += 1
                delay = self.policy.delay(child.failures)
                child.restart_at = now + delay
                self.notify(
                    f"{child.spec.name} exited with status {code}; restarting in {delay:.1f}s "
                    f"(attempt {child.failures}, log: {child.spec.log_path})"
                )
                self.event("crashed", child=child.spec.name, code=code, restart_in=delay, attempt=child.failures)
                changed = True
            elif child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self.spawn(child)
                self.notify(f"{child.spec.name} restarted (pid {child.pid})")
                changed = True
        if changed:
            self.write_suite_file()

    def snapshot(self) -> dict[str, Any]:
        """What suite.json holds: the supervisor, URLs and each child's pid, port and log."""
        return {
            "version": 1,
            "state": self.state,
            "supervisor_pid": os.getpid(),
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "var_dir": str(self.config.var_dir),
            "gateway_url": self.config.gateway_url,
            "nats_url": self.config.nats_url,
            "nats_embedded": self.config.external_nats_url is None,
            "processes": [
                {
                    **child.spec.describe(),
                    "pid": child.proc.pid if child.proc is not None else None,
                    "address": f"{child.spec.host}:{child.spec.port}",
                    "restarts": child.restarts,
                    **(
                        {"database_url": self.config.database_urls[child.spec.name]}
                        if child.spec.kind == "service"
                        else {}
                    ),
                }
                for child in self.children
            ],
            "consumers": [f"{svc}-budgeting-reference" for svc in SERVICES if svc != "budgeting"],
        }

    def write_suite_file(self) -> None:
        """Atomically rewrite var/run/suite.json."""
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.config.suite_file
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.snapshot(), indent=2) + "\n")
        os.replace(tmp, path)

    def stop_all(self, grace: float = 10.0) -> None:
        """Stop the gateway, then the services, then nats-server: SIGTERM, wait `grace`, SIGKILL."""
        self.state = "stopping"
        for child in self.children:
            child.restart_at = None
        order = [
            [c for c in self.children if c.spec.kind == "gateway"],
            [c for c in self.children if c.spec.kind == "service"],
            [c for c in self.children if c.spec.kind == "nats"],
        ]
        for group in order:
            self._stop_group(group, grace)
        self.state = "stopped"
        self.write_suite_file()
        self.event("stopped")
        if self._log is not None:
            self._log.close()
            self._log = None

    def _stop_group(self, group: list[Child], grace: float) -> None:
        running = [c for c in group if c.proc is not None and c.proc.poll() is None]
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                child.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        deadline = time.monotonic() + grace
        for child in running:
            assert child.proc is not None
            try:
                child.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.notify(f"{child.spec.name} did not stop within {grace:.0f}s; killing it")
                self.event("killed", child=child.spec.name)
                child.proc.kill()
                child.proc.wait()
        for child in group:
            if child.proc is not None:
                child.proc.poll()
