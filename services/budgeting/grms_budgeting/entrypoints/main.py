"""`python -m grms_budgeting`: run the budgeting service until SIGTERM."""

from __future__ import annotations

from grms_kit.runtime import run_main

from grms_budgeting import bootstrap

__all__ = ["main"]


def main() -> None:
    """Run budgeting."""
    run_main(bootstrap.SERVICE, bootstrap.build)
