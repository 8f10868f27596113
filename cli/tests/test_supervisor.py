"""Unit tests of the supervisor: restart backoff, command and environment building, crash handling."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from grms_cli.config import SERVICES, CliError, SuiteConfig, resolve_auth_secret, resolve_pin_peppers
from grms_cli.supervisor import ChildSpec, FatalChildExit, RestartPolicy, Supervisor, build_specs

SECRET = "s" * 40


def test_backoff_doubles_and_caps() -> None:
    policy = RestartPolicy(initial=0.5, maximum=4.0, factor=2.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.delay(0) == 0.0


def test_config_defaults(tmp_path: Path) -> None:
    config = SuiteConfig.from_env({"GRMS_VAR_DIR": str(tmp_path)})
    assert config.service_ports == {
        "budgeting": 50151,
        "planning": 50152,
        "delivery": 50153,
        "controlling": 50154,
        "monev": 50155,
        "complaints": 50156,
    }
    assert config.gateway_url == "http://127.0.0.1:8000"
    assert config.nats_url == "nats://127.0.0.1:4223"
    assert config.database_urls["monev"] == f"sqlite:///{tmp_path / 'monev.db'}"


def test_options_win_over_environment(tmp_path: Path) -> None:
    env = {"GRMS_VAR_DIR": str(tmp_path), "GRMS_PLANNING_GRPC_PORT": "6000", "GRMS_GATEWAY_PORT": "9000"}
    assert SuiteConfig.from_env(env).service_ports["planning"] == 6000
    config = SuiteConfig.from_env(env, base_port=7000, gateway_port=7100, nats_port=7200)
    assert [config.service_ports[s] for s in SERVICES] == list(range(7000, 7006))
    assert (config.gateway_port, config.nats_port) == (7100, 7200)


def test_bad_port_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="GRMS_NATS_PORT") as info:
        SuiteConfig.from_env({"GRMS_VAR_DIR": str(tmp_path), "GRMS_NATS_PORT": "lots"})
    assert info.value.exit_code == 2
    with pytest.raises(CliError, match="configured twice"):
        SuiteConfig.from_env({"GRMS_VAR_DIR": str(tmp_path), "GRMS_GATEWAY_PORT": "50151"})


def test_external_nats_means_no_nats_child(tmp_path: Path) -> None:
    config = SuiteConfig.from_env({"GRMS_VAR_DIR": str(tmp_path), "GRMS_NATS_URL": "nats://10.0.0.1:4222"})
    specs = build_specs(config, SECRET, {})
    assert [s.name for s in specs] == [*SERVICES, "gateway"]
    assert specs[0].env["GRMS_NATS_URL"] == "nats://10.0.0.1:4222"


def test_build_specs_commands_and_environment(tmp_path: Path) -> None:
    config = SuiteConfig.from_env({"GRMS_VAR_DIR": str(tmp_path)}, base_port=6100, gateway_port=6200, nats_port=6300)
    specs = build_specs(config, SECRET, {"PATH": "/usr/bin"}, python="/venv/bin/python")
    names = [s.name for s in specs]
    assert names == ["nats", *SERVICES, "gateway"]
    nats = specs[0]
    assert nats.argv[1:] == ("-c", str(tmp_path / "nats" / "nats.conf"))
    assert "GRMS_AUTH_SECRET" not in nats.env
    planning = specs[names.index("planning")]
    assert planning.argv == ("/venv/bin/python", "-m", "grms_planning")
    assert planning.log_path == tmp_path / "log" / "planning.log"
    env = planning.env
    assert env["PATH"] == "/usr/bin"
    assert env["GRMS_AUTH_SECRET"] == SECRET
    assert env["GRMS_NATS_URL"] == "nats://127.0.0.1:6300"
    assert env["GRMS_VAR_DIR"] == str(tmp_path)
    for i, svc in enumerate(SERVICES):
        assert env[f"GRMS_{svc.upper()}_GRPC_PORT"] == str(6100 + i)
        assert env[f"GRMS_{svc.upper()}_GRPC_HOST"] == "127.0.0.1"
    gateway = specs[-1]
    assert gateway.argv == ("/venv/bin/python", "-m", "grms_gateway")
    assert gateway.env["GRMS_GATEWAY_PORT"] == "6200"
    assert gateway.url == "http://127.0.0.1:6200"


def test_auth_secret_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = resolve_auth_secret(tmp_path, {}, create=True)
    assert len(first) >= 32
    assert (tmp_path / "auth_secret").stat().st_mode & 0o777 == 0o600
    assert resolve_auth_secret(tmp_path, {}) == first
    assert resolve_auth_secret(tmp_path, {"GRMS_AUTH_SECRET": SECRET}) == SECRET
    with pytest.raises(CliError, match="GRMS_AUTH_SECRET"):
        resolve_auth_secret(tmp_path, {"GRMS_AUTH_SECRET": "short"})


def _spec(tmp_path: Path, name: str, code: str) -> ChildSpec:
    return ChildSpec(
        name=name,
        kind="service",
        argv=(sys.executable, "-c", code),
        env=dict(os.environ),
        host="127.0.0.1",
        port=1,
        log_path=tmp_path / "log" / f"{name}.log",
        url="127.0.0.1:1",
    )


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _supervisor(tmp_path: Path, spec: ChildSpec, clock: FakeClock, messages: list[str]) -> Supervisor:
    config = SuiteConfig.from_env({"GRMS_VAR_DIR": str(tmp_path), "GRMS_NATS_URL": "nats://127.0.0.1:1"})
    config.database_urls.setdefault(spec.name, "sqlite://")
    return Supervisor(
        config, [spec], policy=RestartPolicy(initial=1.0, maximum=8.0), notify=messages.append, clock=clock
    )


def test_crashed_child_is_restarted_after_backoff(tmp_path: Path) -> None:
    clock, messages = FakeClock(), []
    supervisor = _supervisor(tmp_path, _spec(tmp_path, "planning", "import sys; sys.exit(3)"), clock, messages)
    supervisor.start_all()
    child = supervisor.child("planning")
    first_pid = child.proc.pid
    child.proc.wait(10)
    supervisor.tick()
    assert child.state == "restarting" and child.restart_at == pytest.approx(101.0)
    assert "planning exited with status 3; restarting in 1.0s" in messages[0]
    supervisor.tick()
    assert child.state == "restarting"
    clock.now = 101.0
    supervisor.tick()
    assert child.restarts == 1 and child.proc.pid != first_pid
    child.proc.wait(10)
    supervisor.tick()
    assert child.restart_at == pytest.approx(103.0)
    suite = json.loads((tmp_path / "run" / "suite.json").read_text())
    assert suite["processes"][0]["name"] == "planning"
    assert suite["processes"][0]["restarts"] == 1
    supervisor.stop_all(grace=5)


def test_configuration_error_is_fatal(tmp_path: Path) -> None:
    clock, messages = FakeClock(), []
    code = "import sys; print('GRMS_MONEV_GRPC_PORT: bad'); sys.exit(2)"
    supervisor = _supervisor(tmp_path, _spec(tmp_path, "monev", code), clock, messages)
    supervisor.start_all()
    supervisor.child("monev").proc.wait(10)
    with pytest.raises(FatalChildExit) as info:
        supervisor.tick()
    assert info.value.name == "monev"
    assert "GRMS_MONEV_GRPC_PORT" in info.value.tail
    supervisor.stop_all(grace=5)


def test_stop_all_terminates_and_records_stopped(tmp_path: Path) -> None:
    clock, messages = FakeClock(), []
    supervisor = _supervisor(tmp_path, _spec(tmp_path, "delivery", "import time; time.sleep(60)"), clock, messages)
    supervisor.start_all()
    proc = supervisor.child("delivery").proc
    assert proc.poll() is None
    supervisor.stop_all(grace=5)
    assert proc.returncode is not None
    suite = json.loads((tmp_path / "run" / "suite.json").read_text())
    assert suite["state"] == "stopped"
    assert (tmp_path / "log" / "supervisor.log").read_text().count('"message"') >= 2


def test_pin_peppers_generated_once_apart_from_the_auth_secret(tmp_path: Path) -> None:
    assert resolve_pin_peppers(tmp_path, {}) == ""  # not made unless asked: the service then derives one
    first = resolve_pin_peppers(tmp_path, {}, create=True)
    key_id, _, pepper = first.partition(":")
    assert key_id == "k1" and len(pepper) >= 32
    assert (tmp_path / "pin_peppers").stat().st_mode & 0o777 == 0o600
    assert resolve_pin_peppers(tmp_path, {}, create=True) == first
    assert not (tmp_path / "auth_secret").exists()
    # Rotation: a new pepper first in the file, the old one kept after it.
    (tmp_path / "pin_peppers").write_text(f"k2:{'x' * 40}\n{first}\n")
    assert resolve_pin_peppers(tmp_path, {}) == f"k2:{'x' * 40},{first}"
    assert resolve_pin_peppers(tmp_path, {"GRMS_COMPLAINTS_PIN_PEPPERS": "k9:from-env"}) == "k9:from-env"


def test_pin_peppers_go_to_the_complaints_service_alone(tmp_path: Path) -> None:
    config = SuiteConfig.from_env({"GRMS_VAR_DIR": str(tmp_path)}, base_port=6100, gateway_port=6200, nats_port=6300)
    specs = {s.name: s for s in build_specs(config, SECRET, {}, pin_peppers="k1:" + "p" * 40)}
    assert specs["complaints"].env["GRMS_COMPLAINTS_PIN_PEPPERS"] == "k1:" + "p" * 40
    assert all("GRMS_COMPLAINTS_PIN_PEPPERS" not in s.env for name, s in specs.items() if name != "complaints")
