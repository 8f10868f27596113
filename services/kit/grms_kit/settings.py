"""Settings from `GRMS_*` environment variables (pydantic-settings), failing loudly by name.

Each service subclasses ServiceSettings with its own prefix (`GRMS_BUDGETING_…`); the
settings every process shares (`GRMS_NATS_URL`, `GRMS_AUTH_SECRET`, `GRMS_VAR_DIR`) keep
their one name everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ConfigError", "ServiceSettings", "SharedSettings", "load_settings", "service_config"]

S = TypeVar("S", bound=BaseSettings)


class ConfigError(Exception):
    """A setting is missing or malformed; the message names each variable."""


def _shared(name: str) -> Any:
    return AliasChoices(f"GRMS_{name}")


class SharedSettings(BaseSettings):
    """What every GRMS process reads, under the same variable names."""

    model_config = SettingsConfigDict(env_prefix="GRMS_", extra="ignore", populate_by_name=True)

    var_dir: Path = Field(Path("var"), validation_alias=_shared("VAR_DIR"))
    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias=_shared("NATS_URL"))
    auth_secret: SecretStr = Field(validation_alias=_shared("AUTH_SECRET"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", validation_alias=_shared("LOG_LEVEL"))

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, value: str) -> str:
        for url in value.split(","):
            if not url.strip().startswith(("nats://", "tls://", "ws://", "wss://")):
                raise ValueError("must be a nats:// URL, e.g. nats://127.0.0.1:4222")
        return value

    @field_validator("auth_secret")
    @classmethod
    def _secret_length(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value


def service_config(service: str) -> SettingsConfigDict:
    """The pydantic-settings config for `service`: variables `GRMS_<SERVICE>_*`."""
    return SettingsConfigDict(env_prefix=f"GRMS_{service.upper()}_", extra="ignore", populate_by_name=True)


class ServiceSettings(SharedSettings):
    """The settings of one service; subclasses set `model_config = service_config(name)`."""

    database_url: str = ""
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(0, ge=1, le=65535)
    shutdown_grace: float = Field(5.0, ge=0, le=120)

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    def database_url_for(self, service: str) -> str:
        """The configured database URL, or a SQLite file under the var directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / f'{service}.db').resolve()}"

    @property
    def grpc_address(self) -> str:
        """host:port this service listens on."""
        return f"{self.grpc_host}:{self.grpc_port}"


def _field_of(cls: type[BaseSettings], loc: str) -> str:
    """The field an error location names: pydantic reports aliased fields by their alias."""
    if loc in cls.model_fields:
        return loc
    for name, info in cls.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        if loc in [str(c) for c in choices if c is not None]:
            return name
    return loc


def _is_secret(cls: type[BaseSettings], field: str) -> bool:
    info = cls.model_fields.get(field)
    return "secret" in field.lower() or (info is not None and info.annotation is SecretStr)


def env_name(cls: type[BaseSettings], field: str) -> str:
    """The environment variable that sets `field` of settings class `cls`."""
    info = cls.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build `cls` from the environment, or raise ConfigError naming every bad variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = _field_of(cls, str(err["loc"][0])) if err["loc"] else ""
            name = env_name(cls, field)
            shown = "" if _is_secret(cls, field) or err["type"] == "missing" else f" (got {err.get('input')!r})"
            message = "is required but not set" if err["type"] == "missing" else err["msg"]
            lines.append(f"{name}: {message}{shown}")
        raise ConfigError("configuration error:\n  " + "\n  ".join(lines)) from None
