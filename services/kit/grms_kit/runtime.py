"""The life of a service process: start, wait for its database and NATS, serve, stop cleanly.

Start-up never crashes on a dependency that is not there yet: the gRPC port is bound
first (so a port in use fails at once, by name), health says NOT_SERVING, and the
database migration and the NATS connection are retried with backoff until they succeed.
Shutdown: NOT_SERVING, stop accepting calls with a grace period, stop the relay and the
consumers, flush and close NATS, close the database.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from grms_kit.backoff import Backoff
from grms_kit.clock import Clock
from grms_kit.consumer import EventConsumer
from grms_kit.db import Database
from grms_kit.grpc_server import GrpcServer, PortInUse, Registrar
from grms_kit.identity import TokenCodec
from grms_kit.logging import configure_logging
from grms_kit.messaging import connect_nats, ensure_stream
from grms_kit.migrate import upgrade_in_child
from grms_kit.outbox import OutboxRelay
from grms_kit.settings import ConfigError, ServiceSettings
from grms_kit.tables import MessagingTables
from grms_kit.telemetry import setup_telemetry

__all__ = ["ServiceRuntime", "run_main"]

log = logging.getLogger(__name__)


class ServiceRuntime:
    """Everything one service process runs, built by the service's bootstrap."""

    def __init__(
        self,
        name: str,
        settings: ServiceSettings,
        db: Database,
        tables: MessagingTables,
        clock: Clock,
        *,
        migrations: Path,
        grpc_services: Sequence[tuple[Registrar, Any, str]],
        consumers: Sequence[EventConsumer] = (),
        background: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.name = name
        self.settings = settings
        self.db = db
        self.tables = tables
        self.clock = clock
        self.migrations = migrations
        self.consumers = list(consumers)
        # Loops of the service's own (an SLA scheduler, …): started once the database is
        # migrated and NATS is up, cancelled on shutdown like the relay and the consumers.
        self.background = list(background)
        self.grpc_services = list(grpc_services)
        self.server: GrpcServer | None = None  # made inside the event loop, as grpc.aio requires
        self.nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self.relay = OutboxRelay(db, tables, self.jetstream, clock)
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()

    def jetstream(self) -> JetStreamContext:
        """The JetStream context (available once connected)."""
        if self._js is None:
            raise RuntimeError("not connected to NATS yet")
        return self._js

    async def _until(self, what: str, attempt: Callable[[], Awaitable[None]]) -> None:
        backoff = Backoff(0.2, 5.0)
        while True:
            try:
                await attempt()
                return
            except Exception as exc:
                delay = backoff.next()
                log.warning("%s not ready (%s: %s); retrying in %.1fs", what, type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)

    async def _start_dependencies(self) -> None:
        await self._until("database", lambda: upgrade_in_child(self.db.url, self.migrations, self.name))
        self.nc = await connect_nats(self.settings.nats_url, name=f"grms-{self.name}")
        self._js = self.nc.jetstream(timeout=5.0)
        await self._until("stream", lambda: ensure_stream(self.jetstream(), self.name))
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        for consumer in self.consumers:
            self._tasks.append(asyncio.create_task(consumer.run(self.jetstream), name=f"consumer-{consumer.name}"))
        for i, loop in enumerate(self.background):
            self._tasks.append(asyncio.create_task(loop(), name=f"background-{i}"))
        assert self.server is not None
        await self.server.set_serving(True)
        self.ready.set()
        log.info("%s serving on %s", self.name, self.settings.grpc_address)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set, then shut down gracefully."""
        self.server = GrpcServer(
            self.settings.grpc_address, self.grpc_services, TokenCodec(self.settings.auth_secret.get_secret_value())
        )
        await self.server.start()
        log.info("%s listening on %s (not serving until ready)", self.name, self.settings.grpc_address)
        starting = asyncio.create_task(self._start_dependencies(), name="start-dependencies")
        try:
            await stop.wait()
        finally:
            starting.cancel()
            await self.shutdown()

    async def shutdown(self) -> None:
        """Stop serving, stop the background tasks, flush and close NATS, close the database."""
        if self.server is not None:
            await self.server.stop(self.settings.shutdown_grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.nc is not None and not self.nc.is_closed:
            # The relay and consumers are stopped already, so nothing is left to drain but
            # the acks just sent: flush them and close. (nc.drain() would wait out its
            # timeout on the cancelled pull subscriptions' queues.)
            try:
                await asyncio.wait_for(self.nc.flush(), 2)
            except Exception as exc:
                log.warning("nats flush on shutdown: %s", exc)
            await self.nc.close()
        self.db.dispose()
        log.info("%s stopped", self.name)


def run_main(name: str, build: Callable[[], ServiceRuntime]) -> None:
    """The `main()` of a service: configure, build, run until SIGTERM/SIGINT, exit cleanly.

    Exit status 2 means a configuration error or a port in use, said on stderr by name.
    """
    setup_telemetry(f"grms-{name}")
    try:
        runtime = build()
    except ConfigError as exc:
        print(f"grms-{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(name, runtime.settings.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await runtime.run(stop)

    try:
        asyncio.run(main())
    except PortInUse as exc:
        print(f"grms-{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
