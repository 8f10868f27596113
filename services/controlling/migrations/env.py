"""Alembic environment of controlling."""

from grms_controlling.adapters.tables import metadata
from grms_kit.migrations import run_env

run_env(metadata)
