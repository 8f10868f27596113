"""The accounts store on SQLite and PostgreSQL: argon2 passwords, hashed API keys, duplicates, roles."""

from __future__ import annotations

import hashlib

import pytest
from grms_gateway import accounts
from grms_kit.db import Database
from grms_kit.errors import AlreadyExists, InvalidArgument, NotFound
from grms_kit.identity import Role
from sqlalchemy import select

PASSWORD = "kata-sandi-yang-panjang"


@pytest.fixture
def db(database_url: str) -> Database:
    accounts.migrate(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def test_create_and_authenticate_user_with_argon2(db: Database) -> None:
    user = accounts.create_user(db, "budi", PASSWORD, [Role.ADMIN, Role.PLANNER], "33", ["1.02"], "Budi Santoso")
    assert user.roles == {Role.ADMIN, Role.PLANNER} and user.government == "33" and user.agencies == {"1.02"}
    assert user.created_at.tzinfo is not None
    with db.engine.connect() as conn:
        stored = conn.execute(select(accounts.user_account.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    found = accounts.authenticate(db, "budi", PASSWORD)
    assert found is not None and found.user_id == user.user_id and found.display_name == "Budi Santoso"
    assert accounts.authenticate(db, "budi", PASSWORD + "x") is None
    assert accounts.authenticate(db, "nobody", PASSWORD) is None
    identity = found.identity()
    assert identity.sub == user.user_id and identity.has_role(Role.ADMIN) and identity.government == "33"


def test_duplicate_username_is_refused(db: Database) -> None:
    accounts.create_user(db, "siti", PASSWORD, [Role.PLANNER], "33.74")
    with pytest.raises(AlreadyExists, match="siti"):
        accounts.create_user(db, "siti", PASSWORD, [Role.PLANNER], "33.74")


def test_unknown_role_and_short_password_are_refused(db: Database) -> None:
    with pytest.raises(InvalidArgument) as unknown:
        accounts.create_user(db, "andi", PASSWORD, ["wizard"], "33")
    assert unknown.value.violations[0].field == "roles" and "wizard" in unknown.value.violations[0].description
    with pytest.raises(InvalidArgument) as short:
        accounts.create_user(db, "andi", "short", [Role.PLANNER], "33")
    assert short.value.violations[0].field == "password"
    with pytest.raises(NotFound):
        accounts.get_user(db, "andi")


def test_api_keys_are_hashed_verified_and_revocable(db: Database) -> None:
    key, plaintext = accounts.create_api_key(db, "open-data-harvester", [Role.AUDITOR], "33")
    assert len(plaintext) >= 43 and key.prefix == plaintext[:8]
    with db.engine.connect() as conn:
        stored = conn.execute(select(accounts.api_key.c.key_hash)).scalar_one()
    assert stored == hashlib.sha256(plaintext.encode()).hexdigest()
    verified = accounts.verify_api_key(db, plaintext)
    assert verified is not None and verified.api_key_id == key.api_key_id and verified.roles == {Role.AUDITOR}
    assert verified.identity().sub == f"apikey:{key.api_key_id}"
    assert accounts.verify_api_key(db, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert accounts.verify_api_key(db, "short") is None
    accounts.revoke_api_key(db, key.api_key_id)
    assert accounts.verify_api_key(db, plaintext) is None
    with pytest.raises(NotFound):
        accounts.revoke_api_key(db, key.api_key_id)


def test_functions_accept_a_url(database_url: str) -> None:
    accounts.migrate(database_url)
    accounts.create_user(database_url, "rina", PASSWORD, [Role.EXECUTIVE], "33")
    assert accounts.authenticate(database_url, "rina", PASSWORD) is not None
    with pytest.raises(InvalidArgument):
        accounts.create_api_key(database_url, "bad", ["nope"], "33")
