"""Command-line usage: unknown arguments, bad values and unreachable services end in clear non-zero exits."""

from __future__ import annotations

from pathlib import Path

import pytest
from grms_cli.main import app, main
from grms_kit.testing import free_port
from typer.testing import CliRunner

runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "status", "seed", "user", "apikey", "outbox"):
        assert command in result.output


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["up", "--no-such-option"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_main_returns_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bogus"]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_password_is_never_an_option() -> None:
    assert main(["user", "create", "bob", "--role", "admin", "--government", "33", "--password", "x"]) == 2


def test_unknown_role_is_refused(tmp_path: Path) -> None:
    args = [
        "user",
        "create",
        "bob",
        "--role",
        "wizard",
        "--government",
        "33",
        "--password-stdin",
        "--var-dir",
        str(tmp_path),
    ]
    assert main(args) == 2


def test_bad_government_code_is_refused(tmp_path: Path) -> None:
    assert (
        main(["apikey", "create", "ci", "--role", "auditor", "--government", "Jateng", "--var-dir", str(tmp_path)]) == 2
    )


def test_status_without_a_suite_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--var-dir", str(tmp_path)]) == 1
    assert "grms up" in capsys.readouterr().err


def test_seed_against_nothing_says_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRMS_AUTH_SECRET", "x" * 40)
    target = f"127.0.0.1:{free_port()}"
    assert main(["seed", "--var-dir", str(tmp_path), "--target", target, "--timeout", "0.5"]) == 1
    assert "unreachable" in capsys.readouterr().err


def test_redrive_unknown_service(tmp_path: Path) -> None:
    assert main(["outbox", "redrive", "payroll", "--var-dir", str(tmp_path)]) == 2


def test_up_refuses_a_port_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    monkeypatch.setenv("GRMS_AUTH_SECRET", "x" * 40)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        busy = held.getsockname()[1]
        code = main(
            [
                "up",
                "--var-dir",
                str(tmp_path),
                "--nats-port",
                str(busy),
                "--base-port",
                str(free_port()),
                "--gateway-port",
                str(free_port()),
            ]
        )
    assert code == 2
    err = capsys.readouterr().err
    assert f"port {busy} for nats is already in use" in err
    assert "GRMS_NATS_PORT" in err
