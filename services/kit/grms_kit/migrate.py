"""Applying a service's migrations at start, in a short-lived child process.

Alembic and its script machinery cost ~12 MB of resident memory in every process that
imports them, for a step that runs once at start; in a child they are gone when it exits.
The database URL travels in the environment (GRMS_MIGRATE_URL), never on a command line
that `ps` would show. `python -m grms_kit.migrate <location> <service>` is the child.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

__all__ = ["MigrationFailed", "upgrade_in_child"]

_URL_VARIABLE = "GRMS_MIGRATE_URL"


class MigrationFailed(Exception):
    """The migration child exited non-zero; the message holds the end of its output."""


async def upgrade_in_child(url: str, script_location: Path, service: str) -> None:
    """Bring `service`'s database up to head in a child process; raise MigrationFailed if it fails."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "grms_kit.migrate",
        str(script_location),
        service,
        env={**os.environ, _URL_VARIABLE: url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await proc.communicate()
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        tail = output.decode(errors="replace").strip().splitlines()[-5:]
        raise MigrationFailed(f"migrating {service} failed: {' | '.join(tail)}")


def _main(argv: list[str]) -> int:
    from grms_kit.migrations import upgrade

    location, service = argv
    upgrade(os.environ[_URL_VARIABLE], Path(location), service)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
