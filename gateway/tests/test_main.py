"""`python -m grms_gateway` and its settings: the shared variable names, config errors and a port in use."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from grms_gateway.config import DEFAULT_PORTS, SERVICES, GatewaySettings
from grms_kit.settings import ConfigError, load_settings

SECRET = "test-secret-test-secret-test-secret-0123"


def test_reads_the_services_own_variable_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRMS_AUTH_SECRET", SECRET)
    monkeypatch.setenv("GRMS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GRMS_PLANNING_GRPC_HOST", "planning.internal")
    monkeypatch.setenv("GRMS_PLANNING_GRPC_PORT", "6000")
    monkeypatch.setenv("GRMS_GATEWAY_PORT", "8080")
    settings = load_settings(GatewaySettings)
    assert settings.target("planning") == "planning.internal:6000"
    assert settings.port == 8080
    assert settings.accounts_database_url() == f"sqlite:///{(tmp_path / 'gateway.db').resolve()}"
    for service in SERVICES:
        if service != "planning":
            assert settings.target(service) == f"127.0.0.1:{DEFAULT_PORTS[service]}"


def test_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRMS_AUTH_SECRET", SECRET)
    monkeypatch.setenv("GRMS_MONEV_GRPC_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="GRMS_MONEV_GRPC_PORT"):
        load_settings(GatewaySettings)


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRMS_")}
    return subprocess.run(
        [sys.executable, "-m", "grms_gateway"], env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_main_exits_2_on_a_config_error(tmp_path: Path) -> None:
    result = _run({"GRMS_VAR_DIR": str(tmp_path), "GRMS_GATEWAY_DATABASE_URL": "mysql://x"})
    assert result.returncode == 2
    assert "GRMS_AUTH_SECRET" in result.stderr and "GRMS_GATEWAY_DATABASE_URL" in result.stderr


def test_main_exits_2_naming_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = _run({"GRMS_AUTH_SECRET": SECRET, "GRMS_VAR_DIR": str(tmp_path), "GRMS_GATEWAY_PORT": str(port)})
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr and "GRMS_GATEWAY_PORT" in result.stderr
