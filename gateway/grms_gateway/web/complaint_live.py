"""Live public tracking: GET /pengaduan/lacak/{ticket}/events streams status changes as server-sent events.

The tracking page (after the PIN was checked) receives a 30-minute watch token from the
complaints service and opens this stream with it; the PIN never travels again. The stream
sends the public view at once, then again whenever it changes: nudged by the complaints
events on NATS (grms_gateway.live) and, as the fallback, re-read every `live_recheck`
seconds; an idle stream carries a heartbeat comment every `live_heartbeat` seconds. When the
token expires the stream says `end` and closes. Only the redacted public view is ever sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from grms.complaints.v1 import complaints_service_pb2 as pb

from grms_gateway.errors import UpstreamError
from grms_gateway.i18n import format_wib, negotiate, translate
from grms_gateway.schemas.complaints import tracked_out
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.throttle import limited
from grms_gateway.web import board_words  # noqa: F401  (complaint.live)

__all__ = ["router", "sse"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
_TICKET = re.compile(r"^[A-Za-z2-7]{16}$")
_TOKEN = re.compile(r"^\d{1,12}\.[0-9a-f]{64}$")


def sse(event: str, data: dict[str, Any], event_id: str = "") -> bytes:
    """One server-sent event: `event:`, `id:` and a one-line JSON `data:`."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id else "")
    return (head + "data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n\n").encode()


def _view(answer: pb.TrackComplaintResponse, lang: str) -> dict[str, Any]:
    tracked = tracked_out(answer)
    return {
        "status": tracked.status,
        "status_label": translate(f"complaint.status.{tracked.status}", lang),  # type: ignore[arg-type]
        "agency_code": tracked.agency_code,
        "update_time": format_wib(tracked.update_time) if tracked.update_time else "",
        "replies": [
            {"text": r.text, "time": format_wib(r.create_time) if r.create_time else ""} for r in tracked.replies
        ],
    }


async def _watch(gateway: Gateway, ticket_id: str, token: str) -> pb.TrackComplaintResponse | None:
    """The public view, or None once the token is no good (expired, foreign)."""
    request = pb.WatchComplaintRequest(ticket_id=ticket_id, watch_token=token)
    try:
        answer = await gateway.clients.complaints.call("WatchComplaint", request, ctx=gateway.clients.context(None))
    except UpstreamError as err:
        if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return None
        raise
    return answer.tracked  # type: ignore[no-any-return]


@router.get("/pengaduan/lacak/{ticket_id}/events", response_model=None, dependencies=[Depends(limited("public_read"))])
async def events(
    request: Request, ticket_id: str, gateway: GatewayDep, token: Annotated[str, Query(max_length=100)] = ""
) -> Response:
    """The live status of one complaint for the holder of its watch token (text/event-stream)."""
    if not _TICKET.match(ticket_id) or not _TOKEN.match(token):
        return Response(status_code=404)
    ticket_id = ticket_id.upper()
    lang = negotiate(query=request.query_params.get("lang"), cookies=request.cookies, accept_language=None)
    settings, feed = gateway.settings, gateway.feed
    # Listen before the first read, so that no change falls between the two.
    queue = feed.listen(ticket_id) if feed is not None else None

    def stop_listening() -> None:
        if queue is not None and feed is not None:
            feed.forget(ticket_id, queue)

    if feed is not None:
        feed.start()
        with contextlib.suppress(TimeoutError):  # NATS away: the periodic re-check still serves
            await asyncio.wait_for(feed.connected.wait(), timeout=2)
    try:
        first = await _watch(gateway, ticket_id, token)
    except UpstreamError:
        stop_listening()
        return Response(status_code=503, headers={"Retry-After": "10"})
    if first is None:
        stop_listening()
        return Response(status_code=404)

    async def stream() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        try:
            view = _view(first, lang)
            yield b"retry: 5000\n\n" + sse("status", view, str(first.update_time.seconds))
            next_check = loop.time() + settings.live_recheck
            while not await request.is_disconnected():
                wait = min(settings.live_heartbeat, max(0.0, next_check - loop.time()))
                nudged = False
                if queue is not None:
                    try:
                        await asyncio.wait_for(queue.get(), timeout=wait)
                        nudged = True
                    except TimeoutError:
                        pass
                else:
                    await asyncio.sleep(wait)
                if not nudged and loop.time() < next_check:
                    yield b": ping\n\n"
                    continue
                next_check = loop.time() + settings.live_recheck
                try:
                    answer = await _watch(gateway, ticket_id, token)
                except UpstreamError:
                    continue  # the service is away for a moment: the next check tries again
                if answer is None:
                    yield sse("end", {"reason": "expired"})
                    return
                fresh = _view(answer, lang)
                if fresh != view:
                    view = fresh
                    yield sse("status", view, str(answer.update_time.seconds))
        finally:
            stop_listening()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", "Connection": "keep-alive"},
    )
