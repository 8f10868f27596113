"""Rate limits for the public, unauthenticated doors: token buckets per client key, and the client's address.

ASVS 5.0 2.4.1 (anti-automation) and RELIABILITY.md B.3 rule 5: citizens file, track and
add photos without a login, so each of those doors admits a client (its IP address, or an
Open311 api_key) at a steady rate with a burst on top. Staff routes (a token) and the
signed channel webhooks (one sender for many citizens) are never limited here.

A token bucket per key: it holds up to `burst` tokens, refills at `per_minute` tokens a
minute, and each request takes one; an empty bucket refuses and says how long until the next
token (Retry-After). Chosen over slowapi/`limits` (RELIABILITY.md B.2 trial) because the
gateway runs one process per replica and this needs no storage and no decorator magic; a
shared store (Redis) is the next step once the gateway has several replicas, and with N
replicas a client gets at most N times the configured rate meanwhile.

Memory is bounded: at most `max_keys` buckets. A bucket that has refilled completely is
the same as no bucket, so those are dropped first; if the table is still full the least
recently used bucket goes (that client starts again with a full bucket, the one way a flood
of distinct keys can win anything).

The client's address is the socket peer, unless the peer is one of the configured trusted
proxies: then X-Forwarded-For is read from the right, skipping trusted addresses, and the
first untrusted one is the client. Addresses further left were written by the client itself
and are never believed.

Example::

    limiter = TokenBucketLimiter(per_minute=5, burst=10)
    verdict = limiter.take("203.0.113.7")
    if not verdict.allowed:
        ...  # 429 with Retry-After: verdict.retry_after_seconds()
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice

from grms_gateway.media import Network as IPNetwork

__all__ = ["TokenBucketLimiter", "Verdict", "client_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Verdict:
    """One request's answer: allowed, or refused with the seconds until a token is back."""

    allowed: bool
    retry_after: float = 0.0

    def retry_after_seconds(self) -> int:
        """Retry-After as whole seconds, at least 1 for a refusal (the header takes integers)."""
        return max(1, math.ceil(self.retry_after)) if not self.allowed else 0


class TokenBucketLimiter:
    """Token buckets per key: `burst` at once, then `per_minute` a minute; `per_minute=0` disables it."""

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 0 or burst < 0 or max_keys < 1:
            raise ValueError("per_minute and burst must be >= 0 and max_keys >= 1")
        self.per_second = per_minute / 60.0
        self.capacity = float(max(burst, 1))
        self.max_keys = max_keys
        self.clock = clock
        #: key → (tokens left, when they were counted); least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """False when the rate is 0: every request is allowed and nothing is stored."""
        return self.per_second > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> Verdict:
        """Take one token from `key`'s bucket, or say how long until there is one."""
        if not self.enabled:
            return Verdict(True)
        now = self.clock()
        tokens = self._level(key, now)
        if tokens >= 1.0:
            self._store(key, tokens - 1.0, now)
            return Verdict(True)
        self._store(key, tokens, now)
        return Verdict(False, (1.0 - tokens) / self.per_second)

    def _level(self, key: str, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return self.capacity
        tokens, since = found
        # A clock that steps back (it should not: monotonic) never takes tokens away.
        return min(self.capacity, tokens + max(0.0, now - since) * self.per_second)

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        if len(self._buckets) > self.max_keys:
            self._evict(now)

    def _evict(self, now: float) -> None:
        # First the buckets that are full again (forgetting them changes nothing), oldest first,
        # looking at no more than a small batch so one request never scans the whole table.
        for key in list(islice(self._buckets, 16)):
            if len(self._buckets) <= self.max_keys:
                return
            if self._level(key, now) >= self.capacity:
                del self._buckets[key]
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


def _address(value: str) -> IPAddress | None:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in networks)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """The client's IP address: `peer`, or — when `peer` is a trusted proxy — the right-most
    untrusted address of X-Forwarded-For (`forwarded_for`: the header's values, in order).

    When every forwarded address is trusted, the left-most one is the client. An entry that is
    not an IP address ends the walk: the trusted hop to its right is the client then, since
    nothing a trusted proxy did not check can be believed.
    """
    if not peer:
        return "unknown"
    current = _address(peer)
    if current is None or not trusted or not _trusted(current, trusted):
        return str(current) if current is not None else peer
    hops = [part for value in forwarded_for for part in value.split(",") if part.strip()]
    for raw in reversed(hops):
        hop = _address(raw)
        if hop is None:
            break
        current = hop
        if not _trusted(hop, trusted):
            break
    return str(current)
