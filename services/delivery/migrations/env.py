"""Alembic environment of delivery."""

from grms_delivery.adapters.tables import metadata
from grms_kit.migrations import run_env

run_env(metadata)
