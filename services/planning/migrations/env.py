"""Alembic environment of planning."""

from grms_kit.migrations import run_env
from grms_planning.adapters.tables import metadata

run_env(metadata)
