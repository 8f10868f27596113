"""Alembic environment of complaints."""

from grms_complaints.adapters.tables import metadata
from grms_kit.migrations import run_env

run_env(metadata)
