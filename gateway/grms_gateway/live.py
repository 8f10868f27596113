"""The complaints' events from NATS JetStream, fanned out by ticket to the live tracking pages.

One ephemeral ordered consumer per gateway on `grms.complaints.>`, delivering only new
messages: it acknowledges nothing and keeps no state on the server, so it costs the stream
nothing when the gateway stops. Each message names its ticket (every complaints event has
`ticket_id` as field 1); the listeners of that ticket get a nudge and re-read the public view
themselves through the complaints service, so no event payload ever reaches a browser. When
NATS cannot be reached the feed keeps trying in the background and the pages fall back on
their periodic re-check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

import nats
from grms.complaints.v1 import events_pb2
from grms_kit.events import Header
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

__all__ = ["SUBJECTS", "ComplaintFeed"]

SUBJECTS = "grms.complaints.>"
log = logging.getLogger(__name__)


def _ticket_of(msg: Msg) -> str | None:
    """The ticket a complaints event is about, or None for anything this feed does not know."""
    full_name = (msg.headers or {}).get(Header.TYPE, "")
    cls = getattr(events_pb2, full_name.rsplit(".", 1)[-1], None) if full_name.startswith("grms.complaints.") else None
    if cls is None or "ticket_id" not in cls.DESCRIPTOR.fields_by_name:
        return None
    try:
        event = cls.FromString(msg.data)
    except Exception:  # a malformed payload is not this feed's business
        return None
    return str(event.ticket_id) or None


class ComplaintFeed:
    """Listeners by ticket; `run()` keeps the NATS subscription alive until cancelled."""

    def __init__(self, nats_url: str, *, retry_seconds: float = 5.0) -> None:
        self.nats_url = nats_url
        self.retry_seconds = retry_seconds
        self.connected = asyncio.Event()
        self._listeners: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Follow the events from now on (idempotent): started by the first live page, not at boot."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="complaint-feed")

    async def stop(self) -> None:
        """Stop following, if started."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def listen(self, ticket_id: str) -> asyncio.Queue[str]:
        """A queue that receives `ticket_id` whenever an event about it arrives."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=16)
        self._listeners[ticket_id].add(queue)
        return queue

    def forget(self, ticket_id: str, queue: asyncio.Queue[str]) -> None:
        """Stop delivering to `queue`."""
        listeners = self._listeners.get(ticket_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[ticket_id]

    def listeners(self, ticket_id: str) -> int:
        """How many pages follow `ticket_id` now."""
        return len(self._listeners.get(ticket_id, ()))

    def notify(self, ticket_id: str) -> None:
        """Nudge every listener of `ticket_id`; a listener that is behind already has a nudge waiting."""
        for queue in list(self._listeners.get(ticket_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(ticket_id)

    async def _on_message(self, msg: Msg) -> None:
        ticket_id = _ticket_of(msg)
        if ticket_id is not None:
            self.notify(ticket_id)

    async def run(self) -> None:
        """Subscribe, and subscribe again after the connection is lost for good; until cancelled."""
        while True:
            nc = None
            closed = asyncio.Event()

            async def on_closed(closed: asyncio.Event = closed) -> None:
                closed.set()

            try:
                nc = await nats.connect(
                    self.nats_url,
                    connect_timeout=2,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    closed_cb=on_closed,
                )
                js = nc.jetstream()
                await js.subscribe(
                    SUBJECTS, cb=self._on_message, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
                )
                self.connected.set()
                log.info("live tracking follows %s", SUBJECTS)
                await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # no NATS, no stream yet: the pages re-check on their own meanwhile
                log.warning("live tracking cannot follow complaints events yet: %s", exc)
            finally:
                self.connected.clear()
                if nc is not None and not nc.is_closed:
                    with contextlib.suppress(Exception):
                        await nc.close()
            await asyncio.sleep(self.retry_seconds)
