"""Where the suite keeps its state and which ports and URLs it uses, from options and GRMS_* variables."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_GATEWAY_PORT",
    "DEFAULT_NATS_PORT",
    "SERVICES",
    "SERVICE_PORTS",
    "CliError",
    "SuiteConfig",
    "budgeting_address",
    "read_suite_file",
    "resolve_auth_secret",
    "resolve_pin_peppers",
    "var_dir_from_env",
]

SERVICES: tuple[str, ...] = ("budgeting", "planning", "delivery", "controlling", "monev", "complaints")
SERVICE_PORTS: dict[str, int] = {name: 50151 + i for i, name in enumerate(SERVICES)}
DEFAULT_GATEWAY_PORT = 8000
# Not 4222: a developer's own NATS (or CI's) usually holds that one.
DEFAULT_NATS_PORT = 4223
MIN_SECRET_LENGTH = 32
GOVERNMENT_CODE = re.compile(r"^\d{2}(\.\d{2})?$")


class CliError(Exception):
    """A failure the user can act on; `exit_code` 2 means bad configuration or usage."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def var_dir_from_env(env: Mapping[str, str] | None = None) -> Path:
    """GRMS_VAR_DIR (default ./var), made absolute so every child agrees on it."""
    env = os.environ if env is None else env
    return Path(env.get("GRMS_VAR_DIR") or "var").expanduser().resolve()


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise CliError(f"{name}: must be a port number (got {raw!r})", 2) from None
    if not 1 <= value <= 65535:
        raise CliError(f"{name}: must be between 1 and 65535 (got {value})", 2)
    return value


def resolve_auth_secret(var_dir: Path, env: Mapping[str, str] | None = None, *, create: bool = False) -> str:
    """GRMS_AUTH_SECRET, else the secret in var/auth_secret (generated, mode 0600, when `create`)."""
    env = os.environ if env is None else env
    if env.get("GRMS_AUTH_SECRET"):
        secret = env["GRMS_AUTH_SECRET"]
        if len(secret) < MIN_SECRET_LENGTH:
            raise CliError(f"GRMS_AUTH_SECRET: must be at least {MIN_SECRET_LENGTH} characters", 2)
        return secret
    path = var_dir / "auth_secret"
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise CliError(f"{path}: the stored auth secret is shorter than {MIN_SECRET_LENGTH} characters", 2)
        return secret
    if not create:
        raise CliError(f"GRMS_AUTH_SECRET is not set and {path} does not exist: run `grms up` first or set it", 2)
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


def resolve_pin_peppers(var_dir: Path, env: Mapping[str, str] | None = None, *, create: bool = False) -> str:
    """GRMS_COMPLAINTS_PIN_PEPPERS, else var/pin_peppers (`k1:<random>`, mode 0600, made when `create`).

    Kept apart from the auth secret so rotating one does not touch the other; "" when neither
    exists and not `create` (the service then derives its pepper from the auth secret). To
    rotate, put a new `id:pepper` first in the file and keep the old ones after it.
    """
    env = os.environ if env is None else env
    if env.get("GRMS_COMPLAINTS_PIN_PEPPERS"):
        return env["GRMS_COMPLAINTS_PIN_PEPPERS"]
    path = var_dir / "pin_peppers"
    if path.exists():
        return ",".join(line.strip() for line in path.read_text().splitlines() if line.strip())
    if not create:
        return ""
    var_dir.mkdir(parents=True, exist_ok=True)
    peppers = f"k1:{secrets.token_urlsafe(48)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(peppers + "\n")
    return peppers


@dataclass
class SuiteConfig:
    """Everything `grms up` needs to start the suite: directories, ports, URLs and the shared secret."""

    var_dir: Path
    host: str = "127.0.0.1"
    service_hosts: dict[str, str] = field(default_factory=dict)
    service_ports: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    gateway_host: str = "127.0.0.1"
    gateway_port: int = DEFAULT_GATEWAY_PORT
    nats_port: int = DEFAULT_NATS_PORT
    external_nats_url: str | None = None
    database_urls: dict[str, str] = field(default_factory=dict)
    gateway_database_url: str = ""

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        base_port: int | None = None,
        gateway_port: int | None = None,
        nats_port: int | None = None,
    ) -> SuiteConfig:
        """Options win over GRMS_* variables, which win over the defaults."""
        env = os.environ if env is None else env
        var_dir = var_dir_from_env(env)
        ports: dict[str, int] = {}
        hosts: dict[str, str] = {}
        for i, svc in enumerate(SERVICES):
            prefix = f"GRMS_{svc.upper()}_"
            hosts[svc] = env.get(prefix + "GRPC_HOST") or "127.0.0.1"
            if base_port is not None:
                ports[svc] = base_port + i
            else:
                ports[svc] = _port(env, prefix + "GRPC_PORT", SERVICE_PORTS[svc])
        dbs = {
            svc: env.get(f"GRMS_{svc.upper()}_DATABASE_URL") or f"sqlite:///{var_dir / f'{svc}.db'}" for svc in SERVICES
        }
        config = cls(
            var_dir=var_dir,
            service_hosts=hosts,
            service_ports=ports,
            gateway_host=env.get("GRMS_GATEWAY_HOST") or "127.0.0.1",
            gateway_port=gateway_port or _port(env, "GRMS_GATEWAY_PORT", DEFAULT_GATEWAY_PORT),
            nats_port=nats_port or _port(env, "GRMS_NATS_PORT", DEFAULT_NATS_PORT),
            external_nats_url=env.get("GRMS_NATS_URL") or None,
            database_urls=dbs,
            gateway_database_url=env.get("GRMS_GATEWAY_DATABASE_URL") or f"sqlite:///{var_dir / 'gateway.db'}",
        )
        config.check_ports_distinct()
        return config

    def check_ports_distinct(self) -> None:
        """Raise CliError when two processes would share a port."""
        seen: dict[int, str] = {}
        wanted = [(f"{svc} (GRMS_{svc.upper()}_GRPC_PORT)", port) for svc, port in self.service_ports.items()]
        wanted.append(("gateway (GRMS_GATEWAY_PORT)", self.gateway_port))
        if self.external_nats_url is None:
            wanted.append(("nats (GRMS_NATS_PORT)", self.nats_port))
        for name, port in wanted:
            if port in seen:
                raise CliError(f"port {port} is configured twice: for {seen[port]} and for {name}", 2)
            seen[port] = name

    @property
    def nats_url(self) -> str:
        """The NATS the services use: GRMS_NATS_URL, or the one `grms up` runs."""
        return self.external_nats_url or f"nats://127.0.0.1:{self.nats_port}"

    @property
    def gateway_url(self) -> str:
        """http://<gateway host>:<port>."""
        return f"http://{self.gateway_host}:{self.gateway_port}"

    def service_address(self, svc: str) -> str:
        """host:port of service `svc`."""
        return f"{self.service_hosts.get(svc, '127.0.0.1')}:{self.service_ports[svc]}"

    @property
    def log_dir(self) -> Path:
        """var/log: one file per child process."""
        return self.var_dir / "log"

    @property
    def run_dir(self) -> Path:
        """var/run: suite.json."""
        return self.var_dir / "run"

    @property
    def suite_file(self) -> Path:
        """var/run/suite.json, read by `grms status`."""
        return self.run_dir / "suite.json"

    def child_env(self, base: Mapping[str, str], secret: str) -> dict[str, str]:
        """The environment every child gets: the caller's, plus each GRMS_* setting spelled out."""
        env = dict(base)
        env.update(
            {
                "GRMS_VAR_DIR": str(self.var_dir),
                "GRMS_AUTH_SECRET": secret,
                "GRMS_NATS_URL": self.nats_url,
                "GRMS_GATEWAY_HOST": self.gateway_host,
                "GRMS_GATEWAY_PORT": str(self.gateway_port),
                "GRMS_GATEWAY_DATABASE_URL": self.gateway_database_url,
                "PYTHONUNBUFFERED": "1",
            }
        )
        for svc in SERVICES:
            prefix = f"GRMS_{svc.upper()}_"
            env[prefix + "GRPC_HOST"] = self.service_hosts.get(svc, "127.0.0.1")
            env[prefix + "GRPC_PORT"] = str(self.service_ports[svc])
            env[prefix + "DATABASE_URL"] = self.database_urls[svc]
        return env


def read_suite_file(var_dir: Path) -> dict[str, Any]:
    """The contents of var/run/suite.json, or CliError when the suite was never started here."""
    path = var_dir / "run" / "suite.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CliError(f"{path} not found: the suite is not running from {var_dir} (start it with `grms up`)") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None


def budgeting_address(target: str | None, var_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """The budgeting service's host:port: the option, else suite.json, else GRMS_BUDGETING_GRPC_HOST/PORT."""
    if target:
        return target
    env = os.environ if env is None else env
    if "GRMS_BUDGETING_GRPC_PORT" not in env:
        try:
            suite = read_suite_file(var_dir)
        except CliError:
            suite = {}
        for proc in suite.get("processes", []):
            if proc.get("name") == "budgeting" and proc.get("address"):
                return str(proc["address"])
    host = env.get("GRMS_BUDGETING_GRPC_HOST") or "127.0.0.1"
    return f"{host}:{_port(env, 'GRMS_BUDGETING_GRPC_PORT', SERVICE_PORTS['budgeting'])}"
