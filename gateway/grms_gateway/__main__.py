"""`python -m grms_gateway`: load settings, bind the port, serve the app with uvicorn (one worker)."""

from __future__ import annotations

import socket
import sys

import uvicorn
from grms_kit.logging import configure_logging
from grms_kit.settings import ConfigError, load_settings
from grms_kit.telemetry import setup_telemetry

from grms_gateway.app import create_app
from grms_gateway.config import GatewaySettings

__all__ = ["bind", "main"]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; OSError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def main() -> int:
    """Run the gateway until SIGINT/SIGTERM; exit 2 on a configuration error or a port in use."""
    setup_telemetry("grms-gateway")
    try:
        settings = load_settings(GatewaySettings)
    except ConfigError as exc:
        print(f"grms-gateway: {exc}", file=sys.stderr)
        return 2
    configure_logging("gateway", settings.log_level)
    # Bind first, ourselves: a port in use fails at once, by name, before anything else starts.
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        print(
            f"grms-gateway: cannot listen on {settings.host}:{settings.port} (GRMS_GATEWAY_PORT): "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    config = uvicorn.Config(
        create_app(settings),
        workers=1,
        log_config=None,
        lifespan="on",
        server_header=False,
        # Who the client is behind a proxy is the gateway's own setting (GRMS_GATEWAY_TRUSTED_PROXIES,
        # throttle.py); uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 on its own.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    print(f"grms-gateway: serving on http://{settings.host}:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
    return 0 if server.started else 3


if __name__ == "__main__":
    sys.exit(main())
