"""Every service's Alembic history builds exactly the tables its code declares, on each database.

A table or column added to the code without a migration (or the reverse) fails here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from grms_kit.db import Database
from grms_kit.migrations import upgrade
from grms_kit.testing import SERVICES

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = [(name, ROOT / "services" / name / "migrations", f"grms_{name}.adapters.tables") for name in SERVICES]
HISTORIES.append(("gateway", ROOT / "gateway" / "migrations", "grms_gateway.accounts"))


@pytest.mark.parametrize(("name", "location", "tables_module"), HISTORIES, ids=[h[0] for h in HISTORIES])
def test_migrations_match_the_declared_tables(name: str, location: Path, tables_module: str, database_url: str) -> None:
    upgrade(database_url, location, name)
    upgrade(database_url, location, name)  # applying twice is a no-op
    metadata = importlib.import_module(tables_module).metadata
    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_object": lambda obj, obj_name, kind, *_: (
                        not (kind == "table" and obj_name.startswith("alembic_version"))
                    ),
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        db.dispose()
