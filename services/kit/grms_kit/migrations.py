"""Alembic, one history per service, applied when the service starts.

A service's `migrations/env.py` is two lines: import its metadata, call `run_env`.
Each service keeps its own version table (`alembic_version_<service>`), so a database
shared by mistake fails loudly instead of mixing histories.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData

from grms_kit.db import Database
from grms_kit.tables import UtcDateTime

__all__ = [
    "alembic_config",
    "create_messaging_tables_v1",
    "drop_messaging_tables_v1",
    "run_env",
    "upgrade",
]

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


# Migration operations for the kit's own tables, called from every service's revisions.
# Each is frozen once released: a later change to the tables gets a new `_v2` operation and
# a new revision in every service, so an old revision always builds the schema it built.


def create_messaging_tables_v1() -> None:
    """Create outbox_message, inbox_message and dead_letter as defined in revision 1."""

    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "outbox_message",
        sa.Column("seq", seq, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("government", sa.String(20), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox_message"),
        sa.UniqueConstraint("event_id", name="uq_outbox_message_event_id"),
    )
    op.create_index(
        "ix_outbox_message_pending",
        "outbox_message",
        ["seq"],
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "inbox_message",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("handled_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox_message"),
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", seq, autoincrement=True, nullable=False),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("redriven_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letter"),
    )


def drop_messaging_tables_v1() -> None:
    """Undo create_messaging_tables_v1."""

    op.drop_table("dead_letter")
    op.drop_table("inbox_message")
    op.drop_index("ix_outbox_message_pending", table_name="outbox_message")
    op.drop_table("outbox_message")
