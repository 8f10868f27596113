"""A real gateway on a free port for browser and streaming tests: uvicorn on a background loop of its own.

`serve_gateway` runs whatever backend an async context manager brings up (real services, the fake
suite), serves `create_app` in front of it and yields `{"url": …}` plus what `after_start` adds;
leaving it stops uvicorn, then the backend (complaints_stack.live_complaints is the common case).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from grms_gateway.__main__ import bind
from grms_gateway.app import create_app
from grms_gateway.config import GatewaySettings
from grms_kit.testing import free_port

Backend = Callable[[int], AbstractAsyncContextManager[GatewaySettings]]
AfterStart = Callable[[dict[str, Any]], Awaitable[None]]


def serve_gateway(name: str, backend: Backend, *, after_start: AfterStart | None = None) -> Iterator[dict[str, Any]]:
    """Start `backend(http_port)`, serve the gateway it configures, run `after_start(live)`; yield `live`."""
    ready = threading.Event()
    live: dict[str, Any] = {}
    servers: list[uvicorn.Server] = []

    async def main() -> None:
        http_port = free_port()
        async with backend(http_port) as settings:
            server = uvicorn.Server(uvicorn.Config(create_app(settings), log_config=None, lifespan="on"))
            servers.append(server)
            live["url"] = f"http://127.0.0.1:{http_port}"
            serving = asyncio.create_task(server.serve(sockets=[bind("127.0.0.1", http_port)]))
            while not server.started and not serving.done():
                await asyncio.sleep(0.02)
            if server.started and after_start is not None:
                await after_start(live)
            live["started"] = server.started
            ready.set()
            await serving

    def run() -> None:
        try:
            asyncio.run(main())
        finally:
            ready.set()

    thread = threading.Thread(target=run, name=f"live-gateway-{name}", daemon=True)
    thread.start()
    try:
        assert ready.wait(60) and live.get("started"), f"the {name} gateway did not start"
        yield live
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(30)
