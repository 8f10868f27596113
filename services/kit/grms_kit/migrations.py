"""Alembic, one history per service, applied when the service starts.

A service's `migrations/env.py` is two lines: import its metadata, call `run_env`.
Each service keeps its own version table (`alembic_version_<service>`), so a database
shared by mistake fails loudly instead of mixing histories.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from grms_kit.db import Database

__all__ = ["alembic_config", "run_env", "upgrade"]

# alembic.context is process-global: two services migrating in one process (tests, tools)
# must take turns.
_alembic_lock = threading.Lock()


def alembic_config(url: str, script_location: Path, service: str) -> Config:
    """An Alembic config for `service`'s migrations at `script_location` against `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(url: str, script_location: Path, service: str, revision: str = "head") -> None:
    """Bring `service`'s database at `url` up to `revision`."""
    with _alembic_lock:
        command.upgrade(alembic_config(url, script_location, service), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's env.py: run the migrations online, in one transaction."""
    config = context.config
    service = config.attributes.get("service") or Path(config.get_main_option("script_location") or "").parent.name
    db = Database(config.get_main_option("sqlalchemy.url") or "")
    try:
        with db.engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                version_table=f"alembic_version_{service}",
                render_as_batch=db.is_sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        db.dispose()
