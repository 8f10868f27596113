"""Alembic environment of budgeting."""

from grms_budgeting.adapters.tables import metadata
from grms_kit.migrations import run_env

run_env(metadata)
