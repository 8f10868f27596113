"""Controlling's tables: the copy of budgeting's reference data and the kit's messaging tables."""

from __future__ import annotations

from grms_kit.tables import add_messaging_tables
from grms_reference.tables import add_reference_tables
from sqlalchemy import MetaData

__all__ = ["messaging", "metadata", "reference"]

metadata = MetaData()
messaging = add_messaging_tables(metadata)
reference = add_reference_tables(metadata)
