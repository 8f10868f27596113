"""Budgeting's tables: governments, agencies, and the kit's messaging tables."""

from __future__ import annotations

from grms_kit.tables import UtcDateTime, add_messaging_tables, new_metadata
from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table

__all__ = ["agency", "government", "messaging", "metadata"]

metadata = new_metadata()

messaging = add_messaging_tables(metadata)

government = Table(
    "government",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("parent_code", String(20), ForeignKey("government.code"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

agency = Table(
    "agency",
    metadata,
    Column("government_code", String(20), ForeignKey("government.code"), primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("short_name", String(200), nullable=False, default=""),
    Column("head", JSON, nullable=True),
    Column("contacts", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
