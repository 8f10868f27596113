"""Alembic environment of the gateway's accounts store."""

from grms_gateway.accounts import metadata
from grms_kit.migrations import run_env

run_env(metadata)
