"""Alembic environment of monev."""

from grms_kit.migrations import run_env
from grms_monev.adapters.tables import metadata

run_env(metadata)
