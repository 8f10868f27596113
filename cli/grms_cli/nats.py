"""Port checks for the embedded nats-server (its binary and config: grms_kit.nats_server)."""

from __future__ import annotations

import socket

__all__ = ["port_is_free"]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port and we may bind it."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
