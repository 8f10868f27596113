"""Monev's tables: the copy of budgeting's reference data and the kit's messaging tables."""

from __future__ import annotations

from grms_kit.tables import add_messaging_tables, new_metadata
from grms_reference.tables import add_reference_tables

__all__ = ["messaging", "metadata", "reference"]

metadata = new_metadata()
messaging = add_messaging_tables(metadata)
reference = add_reference_tables(metadata)
