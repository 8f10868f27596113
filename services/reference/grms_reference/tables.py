"""The replica tables: a service's own copy of budgeting's governments and agencies."""

from __future__ import annotations

from dataclasses import dataclass

from grms_kit.tables import UtcDateTime
from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, String, Table

__all__ = ["ReferenceTables", "add_reference_tables"]


@dataclass(frozen=True)
class ReferenceTables:
    """The two replica tables of one service."""

    government: Table
    agency: Table


def add_reference_tables(metadata: MetaData) -> ReferenceTables:
    """Define ref_government and ref_agency on `metadata`.

    The whole protobuf message is kept (`payload`) beside the keys and the columns queries
    filter on, so the copy returns exactly what budgeting published.
    """
    government = Table(
        "ref_government",
        metadata,
        Column("code", String(20), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("synced_at", UtcDateTime, nullable=False),
    )
    agency = Table(
        "ref_agency",
        metadata,
        Column("government_code", String(20), primary_key=True),
        Column("code", String(40), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("synced_at", UtcDateTime, nullable=False),
    )
    return ReferenceTables(government=government, agency=agency)
