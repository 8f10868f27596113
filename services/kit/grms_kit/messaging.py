"""NATS: the connection that never gives up, and the JetStream streams of the suite."""

from __future__ import annotations

import asyncio
import logging
import time

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from grms_kit.backoff import Backoff
from grms_kit.events import stream_for, stream_subjects

__all__ = ["DUPLICATE_WINDOW", "connect_nats", "ensure_stream"]

log = logging.getLogger(__name__)

# Broker-side de-duplication by Nats-Msg-Id; consumers' inboxes cover everything older.
DUPLICATE_WINDOW = 120.0


async def connect_nats(url: str, *, name: str) -> NATS:
    """Connect to NATS, retrying with backoff until it answers; reconnects forever after."""

    last_logged = 0.0

    async def on_error(exc: Exception) -> None:
        # nats-py retries by itself every reconnect_time_wait; say so every 10 s, not 4× a second.
        nonlocal last_logged
        if isinstance(exc, OSError):
            now = time.monotonic()
            if now - last_logged < 10:
                return
            last_logged = now
            log.warning("cannot reach NATS at %s (%s); retrying", url, exc)
            return
        log.warning("nats error: %s", exc)

    async def on_disconnected() -> None:
        log.warning("nats disconnected; reconnecting")

    async def on_reconnected() -> None:
        log.info("nats reconnected")

    backoff = Backoff(0.1, 5.0)
    while True:
        try:
            return await nats.connect(
                url.split(","),
                name=name,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.25,
                connect_timeout=2,
                ping_interval=5,
                max_outstanding_pings=3,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
            )
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            delay = backoff.next()
            log.warning("cannot reach NATS at %s (%s); retrying in %.1fs", url, exc or type(exc).__name__, delay)
            await asyncio.sleep(delay)


async def ensure_stream(js: JetStreamContext, service: str) -> None:
    """Create (or align) the stream `GRMS_<SERVICE>` that `service` publishes into.

    Producer and consumers may both call this: the configuration is derived from the service
    name alone, so concurrent calls agree.
    """
    config = StreamConfig(
        name=stream_for(service),
        subjects=stream_subjects(service),
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW,
        num_replicas=1,
        deny_delete=True,
        deny_purge=False,
    )
    try:
        info = await js.stream_info(config.name)
    except nats.js.errors.NotFoundError:
        try:
            await js.add_stream(config)
            log.info("created stream %s", config.name)
        except nats.js.errors.BadRequestError:
            # Another process created it between our look-up and our add.
            await js.stream_info(config.name)
        return
    if sorted(info.config.subjects or []) != sorted(config.subjects or []):
        await js.update_stream(config)
