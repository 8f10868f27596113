"""Settings fail loudly, naming each environment variable."""

from __future__ import annotations

import pytest
from grms_kit.settings import ConfigError, ServiceSettings, load_settings, service_config

SECRET = "s" * 40


class BudgetingSettings(ServiceSettings):
    model_config = service_config("budgeting")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRMS_AUTH_SECRET", SECRET)
    monkeypatch.setenv("GRMS_BUDGETING_GRPC_PORT", "50051")
    for name in ("GRMS_NATS_URL", "GRMS_VAR_DIR", "GRMS_LOG_LEVEL", "GRMS_BUDGETING_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_valid_environment() -> None:
    s = load_settings(BudgetingSettings)
    assert s.grpc_port == 50051
    assert s.grpc_address == "127.0.0.1:50051"
    assert s.auth_secret.get_secret_value() == SECRET
    assert s.nats_url == "nats://127.0.0.1:4222"
    assert s.database_url_for("budgeting").endswith("budgeting.db")


def test_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRMS_BUDGETING_GRPC_PORT", "abc")
    with pytest.raises(ConfigError, match="GRMS_BUDGETING_GRPC_PORT") as info:
        load_settings(BudgetingSettings)
    assert "'abc'" in str(info.value)


def test_missing_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRMS_BUDGETING_GRPC_PORT")
    with pytest.raises(ConfigError, match="GRMS_BUDGETING_GRPC_PORT"):
        load_settings(BudgetingSettings)


def test_missing_secret_names_the_shared_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRMS_AUTH_SECRET")
    with pytest.raises(ConfigError) as info:
        load_settings(BudgetingSettings)
    message = str(info.value)
    assert "GRMS_AUTH_SECRET: is required but not set" in message
    assert "GRMS_BUDGETING_GRMS" not in message


def test_short_secret_is_named_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRMS_AUTH_SECRET", "tooshort-but-secret")
    with pytest.raises(ConfigError, match=r"GRMS_AUTH_SECRET: .*at least 32") as info:
        load_settings(BudgetingSettings)
    assert "tooshort-but-secret" not in str(info.value)


def test_bad_nats_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRMS_NATS_URL", "http://127.0.0.1:4222")
    with pytest.raises(ConfigError, match=r"GRMS_NATS_URL: .*nats:// URL.*got .http://127.0.0.1:4222"):
        load_settings(BudgetingSettings)


def test_bad_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRMS_BUDGETING_DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigError, match="GRMS_BUDGETING_DATABASE_URL"):
        load_settings(BudgetingSettings)


def test_every_bad_variable_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRMS_BUDGETING_GRPC_PORT", "70000")
    monkeypatch.setenv("GRMS_NATS_URL", "localhost")
    monkeypatch.setenv("GRMS_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as info:
        load_settings(BudgetingSettings)
    for name in ("GRMS_BUDGETING_GRPC_PORT", "GRMS_NATS_URL", "GRMS_LOG_LEVEL"):
        assert name in str(info.value)
