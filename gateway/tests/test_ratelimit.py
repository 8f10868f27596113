"""The token-bucket limiter on a fake clock, who the client is behind X-Forwarded-For, the settings (no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest
from grms_gateway.config import GatewaySettings
from grms_gateway.media import parse_networks
from grms_gateway.ratelimit import TokenBucketLimiter, Verdict, client_address
from grms_gateway.throttle import PublicLimits
from pydantic import ValidationError


class FakeClock:
    """Seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_a_burst_then_the_steady_rate_then_refusals_with_retry_after() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(per_minute=6, burst=3, clock=clock)  # one token every 10 s
    assert [limiter.take("a").allowed for _ in range(4)] == [True, True, True, False]
    refused = limiter.take("a")
    assert refused == Verdict(False, pytest.approx(10.0)) and refused.retry_after_seconds() == 10
    clock.advance(4.0)
    assert limiter.take("a").retry_after == pytest.approx(6.0)
    clock.advance(6.0)
    assert limiter.take("a").allowed and not limiter.take("a").allowed
    # Refusals take nothing: after 10 s exactly one more, never a debt.
    clock.advance(10.0)
    assert limiter.take("a").allowed
    # Each key its own bucket.
    assert limiter.take("b").allowed


def test_the_bucket_never_holds_more_than_the_burst() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(per_minute=60, burst=2, clock=clock)
    clock.advance(3600)
    assert [limiter.take("a").allowed for _ in range(3)] == [True, True, False]
    assert limiter.take("a").retry_after_seconds() == 1  # 1 s a token; a fraction rounds up


def test_a_rate_of_zero_disables_the_limit_and_stores_nothing() -> None:
    limiter = TokenBucketLimiter(per_minute=0, burst=1, clock=FakeClock())
    assert not limiter.enabled
    assert all(limiter.take("a").allowed for _ in range(1000)) and len(limiter) == 0


def test_memory_stays_bounded_and_full_buckets_go_first() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(per_minute=60, burst=2, max_keys=100, clock=clock)
    limiter.take("busy")
    limiter.take("busy")  # empty now
    for i in range(99):
        limiter.take(f"idle-{i}")
    clock.advance(5.0)  # every idle bucket refills to full; busy's too (2 s at one a second)
    assert len(limiter) == 100
    limiter.take("busy")
    limiter.take("busy")  # busy is empty again, and the most recently used
    for i in range(99):
        limiter.take(f"flood-{i}")
        assert len(limiter) <= 100
    # The refilled idle buckets made room; busy kept its (empty) bucket.
    assert not limiter.take("busy").allowed
    assert not any(key.startswith("idle-") for key in limiter._buckets)
    # A flood of keys that all stay hot: the least recently used goes, memory stays bounded.
    for i in range(99, 1000):
        limiter.take(f"flood-{i}")
        assert len(limiter) <= 100
    assert "flood-999" in limiter._buckets and "flood-0" not in limiter._buckets and "busy" not in limiter._buckets


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucketLimiter(per_minute=-1, burst=1)
    with pytest.raises(ValueError):
        TokenBucketLimiter(per_minute=1, burst=1, max_keys=0)


PROXIES = parse_networks(["10.0.0.0/8", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        # No trusted proxy: the peer, whatever the header says.
        ("203.0.113.7", ["198.51.100.1"], (), "203.0.113.7"),
        # An untrusted peer cannot name another client.
        ("203.0.113.7", ["198.51.100.1"], PROXIES, "203.0.113.7"),
        # Behind our proxy: the address it appended.
        ("10.0.0.5", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        # A client's own X-Forwarded-For is left of what our proxy appended: never believed.
        ("10.0.0.5", ["1.2.3.4, 198.51.100.1"], PROXIES, "198.51.100.1"),
        # Two trusted hops: the right-most untrusted address.
        ("10.0.0.5", ["1.2.3.4, 198.51.100.1, 10.1.1.1"], PROXIES, "198.51.100.1"),
        # The header repeated: the values in order, as one list.
        ("10.0.0.5", ["1.2.3.4", "198.51.100.1, 10.1.1.1"], PROXIES, "198.51.100.1"),
        # Every hop trusted: the left-most.
        ("10.0.0.5", ["10.9.9.9, 10.1.1.1"], PROXIES, "10.9.9.9"),
        # No header behind the proxy: the proxy itself.
        ("10.0.0.5", [], PROXIES, "10.0.0.5"),
        # Garbage where an address should be: the trusted hop that passed it on.
        ("10.0.0.5", ["198.51.100.1, not-an-ip, 10.1.1.1"], PROXIES, "10.1.1.1"),
        # Ports and brackets are stripped; IPv6; IPv4-mapped IPv6 peers.
        ("10.0.0.5", ["198.51.100.1:51234"], PROXIES, "198.51.100.1"),
        ("2001:db8::1", ["[2001:db8:ffff::9]:443, 2a00:1450::1"], PROXIES, "2a00:1450::1"),
        ("::ffff:10.0.0.5", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        (None, ["198.51.100.1"], PROXIES, "unknown"),
    ],
)
def test_the_client_address(peer: str | None, forwarded: list[str], trusted: tuple, client: str) -> None:
    assert client_address(peer, forwarded, trusted) == client


def test_the_limits_come_from_the_settings_and_a_bad_proxy_network_is_refused(tmp_path: Path) -> None:
    settings = GatewaySettings(
        auth_secret="x" * 40,
        var_dir=tmp_path,
        ratelimit_intake_per_minute=0,
        ratelimit_tracking_per_minute=30,
        ratelimit_tracking_burst=4,
        trusted_proxies=["10.0.0.0/8"],
    )
    limits = PublicLimits.from_settings(settings)
    assert not limits.limiters["intake"].enabled
    tracking = limits.limiters["tracking"]
    assert (tracking.per_second, tracking.capacity) == (0.5, 4.0)
    assert limits.limiters["open311_key"].capacity == 240  # the production defaults elsewhere
    assert [str(n) for n in limits.trusted_proxies] == ["10.0.0.0/8"]
    with pytest.raises(ValidationError, match="trusted_proxies"):
        GatewaySettings(auth_secret="x" * 40, var_dir=tmp_path, trusted_proxies=["10.0.0.300/8"])
