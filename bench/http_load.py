"""A lean HTTP/1.1 load generator for bench (f): keep-alive connections posting one prepared request.

Why not httpx: measured on this 2-core machine, the httpx client spent 2.5–3.0 ms of CPU per
request — more than the naive server (~1 ms) and than our gateway (~1.2 ms) — so the instrument
took the CPU the servers were competing for. BENCH.md's reference figures come from wrk, which
costs tens of microseconds a request; wrk is not installed here, so this client does what wrk
does: each worker owns one keep-alive connection and writes the same pre-encoded request back to
back, reading the status line, the headers and a Content-Length body. Both sides of (f) are
driven by it, so their ratio stays a comparison of the servers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

__all__ = ["post_load"]


def _request(url: str, body: dict[str, Any]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\n"
        f"Host: {parts.hostname}:{parts.port}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    return parts.hostname or "127.0.0.1", parts.port or 80, head + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One request on an open connection: its status (the body is read and dropped)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked responses are not supported by this load generator")
    if length:
        await reader.readexactly(length)
    return status


async def post_load(
    url: str, body: dict[str, Any], seconds: float, *, concurrency: int, expect: int = 201
) -> tuple[float, list[float], Counter[str]]:
    """`concurrency` workers POST `body` back to back for `seconds`: (`expect`s per s, their latencies in ms, others).

    A dropped connection counts as one failed request and is reopened.
    """
    host, port, request = _request(url, body)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            while time.perf_counter() < stop:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                t = time.perf_counter()
                try:
                    status = await _exchange(reader, writer, request)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                    errors[type(exc).__name__] += 1
                    writer.close()
                    reader = writer = None
                    continue
                if status == expect:
                    latencies.append((time.perf_counter() - t) * 1000)
                else:
                    errors[f"HTTP {status}"] += 1
        finally:
            if writer is not None:
                writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, errors
