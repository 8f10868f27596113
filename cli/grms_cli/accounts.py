"""Accounts and operations on the gateway's and services' databases: users, API keys, outbox redrive."""

from __future__ import annotations

import importlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grms_cli.config import GOVERNMENT_CODE, SERVICES, CliError

__all__ = [
    "check_government",
    "check_roles",
    "create_api_key",
    "create_user",
    "ensure_default_admin",
    "gateway_database_url",
    "redrive",
    "service_database_url",
]


def check_roles(roles: Iterable[str]) -> list[str]:
    """The roles, validated against the roles GRMS knows; CliError (exit 2) naming the bad ones."""
    from grms_kit.identity import Role

    roles = list(dict.fromkeys(roles))
    if not roles:
        raise CliError("at least one --role is required", 2)
    unknown = [r for r in roles if r not in Role.ALL]
    if unknown:
        raise CliError(f"unknown role(s): {', '.join(unknown)}; known roles: {', '.join(sorted(Role.ALL))}", 2)
    return roles


def check_government(code: str) -> str:
    """The government code, validated as a Kemendagri code ("33" or "33.01")."""
    if not GOVERNMENT_CODE.match(code):
        raise CliError(f"--government: {code!r} is not a region code like 33 or 33.74", 2)
    return code


def gateway_database_url(var_dir: Path) -> str:
    """GRMS_GATEWAY_DATABASE_URL, else the gateway's SQLite file in the var directory."""
    return os.environ.get("GRMS_GATEWAY_DATABASE_URL") or f"sqlite:///{var_dir / 'gateway.db'}"


def service_database_url(service: str, var_dir: Path) -> str:
    """GRMS_<SERVICE>_DATABASE_URL, else the service's SQLite file in the var directory."""
    return os.environ.get(f"GRMS_{service.upper()}_DATABASE_URL") or f"sqlite:///{var_dir / f'{service}.db'}"


def _gateway_accounts() -> Any:
    try:
        return importlib.import_module("grms_gateway.accounts")
    except ImportError as exc:
        raise CliError(f"the gateway's accounts module is not installed: {exc}") from None


def _gateway_db(var_dir: Path) -> Any:
    """The gateway database, migrated to head (it may be fresh when the suite never ran)."""
    import grms_gateway
    from grms_kit.db import Database
    from grms_kit.migrations import upgrade

    url = gateway_database_url(var_dir)
    if url.startswith("sqlite"):
        var_dir.mkdir(parents=True, exist_ok=True)
    migrations = Path(grms_gateway.__file__).resolve().parent.parent / "migrations"
    try:
        upgrade(url, migrations, "gateway")
    except Exception as exc:
        raise CliError(f"cannot migrate the gateway database at {url}: {exc}") from None
    return Database(url)


def create_user(
    var_dir: Path,
    username: str,
    password: str,
    roles: list[str],
    government: str,
    agencies: list[str],
    display_name: str,
) -> None:
    """Create a gateway user; CliError when the username is taken or the database refuses."""
    accounts = _gateway_accounts()
    db = _gateway_db(var_dir)
    try:
        accounts.create_user(
            db,
            username=username,
            password=password,
            roles=roles,
            government=government,
            agencies=agencies,
            display_name=display_name,
        )
    except CliError:
        raise
    except Exception as exc:
        raise CliError(f"cannot create user {username!r}: {str(exc).splitlines()[0]}") from None
    finally:
        db.dispose()


def create_api_key(var_dir: Path, name: str, roles: list[str], government: str) -> str:
    """Create a gateway API key and return its plaintext (shown once, stored only hashed)."""
    accounts = _gateway_accounts()
    db = _gateway_db(var_dir)
    try:
        _key, plaintext = accounts.create_api_key(db, name=name, roles=roles, government=government)
    except Exception as exc:
        raise CliError(f"cannot create API key {name!r}: {exc}") from None
    finally:
        db.dispose()
    return str(plaintext)


def ensure_default_admin(var_dir: Path) -> tuple[Path, bool]:
    """Create user `admin` with a generated password in var/admin_password once; (path, created now)."""
    path = var_dir / "admin_password"
    if path.exists():
        return path, False
    password = secrets.token_urlsafe(18)
    create_user(var_dir, "admin", password, ["admin"], "33", [], "Administrator")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return path, True


def redrive(service: str, var_dir: Path) -> int:
    """Put the dead-lettered outbox rows of `service` back in line; return how many."""
    if service not in SERVICES:
        raise CliError(f"unknown service {service!r}; one of: {', '.join(SERVICES)}", 2)
    try:
        tables_module = importlib.import_module(f"grms_{service}.adapters.tables")
    except ImportError as exc:
        raise CliError(f"cannot load the messaging tables of {service}: {exc}") from None
    from grms_kit.db import Database
    from grms_kit.outbox import redrive_outbox

    url = service_database_url(service, var_dir)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise CliError(f"{service} has no database at {url}: has the suite ever run from {var_dir}?")
    db = Database(url)
    try:
        return redrive_outbox(db, tables_module.messaging)
    except Exception as exc:
        reason = str(exc).splitlines()[0]
        raise CliError(f"cannot redrive the outbox of {service} at {url}: {reason}") from None
    finally:
        db.dispose()
