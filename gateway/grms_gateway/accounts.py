"""The gateway's own accounts store: users with argon2 password hashes and hashed API keys.

This is the one gateway module allowed to import SQLAlchemy (STYLE rule 6 forbids reading
service databases; these tables belong to the gateway alone). Functions are synchronous
and take a Database or a URL, so the CLI calls them directly and the app runs them on the
database thread with `await db.run(fn, db, …)`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from grms_kit.db import Database, normalize_url
from grms_kit.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from grms_kit.identity import Identity, Role
from grms_kit.migrate import upgrade_in_child
from grms_kit.tables import UtcDateTime
from sqlalchemy import JSON, Boolean, Column, MetaData, String, Table, insert, select, update
from sqlalchemy.engine import Connection, RowMapping, make_url
from sqlalchemy.exc import IntegrityError

__all__ = [
    "API_KEY_PREFIX_LENGTH",
    "MIGRATIONS",
    "MIN_PASSWORD_LENGTH",
    "AccountStore",
    "ApiKey",
    "User",
    "authenticate",
    "create_api_key",
    "create_user",
    "display_names",
    "get_user",
    "metadata",
    "migrate",
    "open_store",
    "revoke_api_key",
    "verify_api_key",
]

MIN_PASSWORD_LENGTH = 12
API_KEY_PREFIX_LENGTH = 8
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

metadata = MetaData()

user_account = Table(
    "user_account",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("government_code", String(20), nullable=False),
    Column("agency_codes", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_key = Table(
    "api_key",
    metadata,
    Column("api_key_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(API_KEY_PREFIX_LENGTH), nullable=False, index=True),
    # SHA-256 of the whole key, hex. A key is 256 bits from `secrets`, so brute force is
    # hopeless whatever the hash; a slow password hash (argon2) would only cost CPU on every
    # API call. Passwords are different: people choose them, so they get argon2.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("owner", String(150), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("government_code", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-long-enough")


@dataclass(frozen=True)
class User:
    """A person who logs in to the gateway."""

    user_id: str
    username: str
    display_name: str
    roles: frozenset[str]
    government: str
    agencies: frozenset[str]
    active: bool
    created_at: dt.datetime

    def identity(self) -> Identity:
        """The identity a token for this user carries (`sub` is the stable user id)."""
        return Identity(
            sub=self.user_id,
            roles=self.roles,
            government=self.government,
            agencies=self.agencies,
            name=self.display_name,
        )


@dataclass(frozen=True)
class ApiKey:
    """A key for a program; only its prefix is ever shown again after creation."""

    api_key_id: str
    name: str
    prefix: str
    owner: str
    roles: frozenset[str]
    government: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    def identity(self) -> Identity:
        """The identity calls made with this key carry."""
        return Identity(sub=f"apikey:{self.api_key_id}", roles=self.roles, government=self.government, name=self.name)


def _make_sqlite_folder(url: str) -> None:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def migrate(url: str) -> None:
    """Create or upgrade the accounts tables at `url` (Alembic history `gateway`), in this process."""
    from grms_kit.migrations import upgrade  # Alembic only where a migration runs

    _make_sqlite_folder(url)
    upgrade(url, MIGRATIONS, "gateway")


@contextmanager
def _connect(db: Database | str) -> Iterator[Connection]:
    owned = isinstance(db, str)
    database = Database(db) if isinstance(db, str) else db
    try:
        with database.engine.begin() as conn:
            yield conn
    finally:
        if owned:
            database.dispose()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_roles(roles: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(roles)
    unknown = sorted(chosen - Role.ALL)
    if unknown:
        raise InvalidArgument.field(
            "roles", f"unknown role(s): {', '.join(unknown)}; known: {', '.join(sorted(Role.ALL))}"
        )
    return chosen


def _user(row: RowMapping) -> User:
    return User(
        user_id=row["user_id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=frozenset(row["roles"]),
        government=row["government_code"],
        agencies=frozenset(row["agency_codes"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def _api_key(row: RowMapping) -> ApiKey:
    return ApiKey(
        api_key_id=row["api_key_id"],
        name=row["name"],
        prefix=row["prefix"],
        owner=row["owner"],
        roles=frozenset(row["roles"]),
        government=row["government_code"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def create_user(
    db: Database | str,
    username: str,
    password: str,
    roles: Iterable[str],
    government: str,
    agencies: Iterable[str] = (),
    display_name: str = "",
) -> User:
    """Add a user; InvalidArgument for a short password or unknown role, AlreadyExists for a taken username."""
    username = username.strip()
    violations: list[FieldViolation] = []
    if not username:
        violations.append(FieldViolation("username", "must not be empty"))
    if len(password) < MIN_PASSWORD_LENGTH:
        violations.append(FieldViolation("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    if violations:
        raise InvalidArgument(violations)
    chosen = _check_roles(roles)
    user = User(
        user_id=str(uuid.uuid4()),
        username=username,
        display_name=display_name.strip() or username,
        roles=chosen,
        government=government,
        agencies=frozenset(agencies),
        active=True,
        created_at=_now(),
    )
    try:
        with _connect(db) as conn:
            if conn.execute(select(user_account.c.user_id).where(user_account.c.username == username)).first():
                raise AlreadyExists(f"user {username!r} exists already")
            conn.execute(
                insert(user_account).values(
                    user_id=user.user_id,
                    username=user.username,
                    display_name=user.display_name,
                    password_hash=_hasher.hash(password),
                    roles=sorted(user.roles),
                    government_code=user.government,
                    agency_codes=sorted(user.agencies),
                    active=True,
                    created_at=user.created_at,
                )
            )
    except IntegrityError as exc:  # a concurrent insert of the same name won the race
        raise AlreadyExists(f"user {username!r} exists already") from exc
    return user


def get_user(db: Database | str, username: str) -> User:
    """The user called `username`, or NotFound."""
    with _connect(db) as conn:
        row = conn.execute(select(user_account).where(user_account.c.username == username)).mappings().first()
    if row is None:
        raise NotFound(f"user {username!r} not found")
    return _user(row)


def display_names(db: Database | str, user_ids: Iterable[str]) -> dict[str, str]:
    """The display names of the users with these ids (a token's `sub`); unknown ids are left out."""
    wanted = sorted({u for u in user_ids if u})[:500]
    if not wanted:
        return {}
    with _connect(db) as conn:
        rows = conn.execute(
            select(user_account.c.user_id, user_account.c.display_name).where(user_account.c.user_id.in_(wanted))
        )
        return {r.user_id: r.display_name for r in rows}


def authenticate(db: Database | str, username: str, password: str) -> User | None:
    """The active user whose password matches, else None (same cost for unknown names)."""
    with _connect(db) as conn:
        row = conn.execute(select(user_account).where(user_account.c.username == username)).mappings().first()
        if row is None:
            _verify(_DUMMY_HASH, password)
            return None
        if not _verify(row["password_hash"], password) or not row["active"]:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            conn.execute(
                update(user_account)
                .where(user_account.c.user_id == row["user_id"])
                .values(password_hash=_hasher.hash(password))
            )
        return _user(row)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    db: Database | str, name: str, roles: Iterable[str], government: str, *, owner: str = ""
) -> tuple[ApiKey, str]:
    """Issue a key; returns the record and the plaintext key, which is shown once and never stored."""
    if not name.strip():
        raise InvalidArgument.field("name", "must not be empty")
    chosen = _check_roles(roles)
    plaintext = secrets.token_urlsafe(32)  # 256 bits of randomness, 43 characters
    key = ApiKey(
        api_key_id=str(uuid.uuid4()),
        name=name.strip(),
        prefix=plaintext[:API_KEY_PREFIX_LENGTH],
        owner=owner or name.strip(),
        roles=chosen,
        government=government,
        created_at=_now(),
        revoked_at=None,
    )
    with _connect(db) as conn:
        conn.execute(
            insert(api_key).values(
                api_key_id=key.api_key_id,
                name=key.name,
                prefix=key.prefix,
                key_hash=_hash_key(plaintext),
                owner=key.owner,
                roles=sorted(key.roles),
                government_code=key.government,
                created_at=key.created_at,
                revoked_at=None,
            )
        )
    return key, plaintext


def verify_api_key(db: Database | str, key: str) -> ApiKey | None:
    """The unrevoked key matching `key`, else None."""
    if len(key) < API_KEY_PREFIX_LENGTH:
        return None
    digest = _hash_key(key)
    with _connect(db) as conn:
        rows = conn.execute(select(api_key).where(api_key.c.prefix == key[:API_KEY_PREFIX_LENGTH])).mappings().all()
    for row in rows:
        if hmac.compare_digest(row["key_hash"], digest) and row["revoked_at"] is None:
            return _api_key(row)
    return None


def revoke_api_key(db: Database | str, api_key_id: str) -> None:
    """Revoke a key from now on; NotFound if there is no such key."""
    with _connect(db) as conn:
        result = conn.execute(
            update(api_key)
            .where(api_key.c.api_key_id == api_key_id, api_key.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        if result.rowcount == 0:
            raise NotFound(f"api key {api_key_id} not found or already revoked")


class AccountStore:
    """The accounts database as the running app holds it: each call one transaction on the database thread."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)

    async def authenticate(self, username: str, password: str) -> User | None:
        """See `authenticate`."""
        return await self.db.run(authenticate, self.db, username, password)

    async def verify_api_key(self, key: str) -> ApiKey | None:
        """See `verify_api_key`."""
        return await self.db.run(verify_api_key, self.db, key)

    async def display_names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """See `display_names`."""
        return await self.db.run(display_names, self.db, list(user_ids))

    def close(self) -> None:
        """Close the connections and the database thread."""
        self.db.dispose()


async def open_store(url: str) -> AccountStore:
    """Migrate the accounts database at `url` (in a child process, see grms_kit.migrate) and open it."""
    _make_sqlite_folder(url)
    await upgrade_in_child(url, MIGRATIONS, "gateway")
    return AccountStore(url)
