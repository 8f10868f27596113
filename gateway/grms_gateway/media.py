"""Fetching a photo from a URL someone else named (Open311 `media_url`, WhatsApp media), guarded against SSRF.

A URL from the outside must not make the gateway reach into its own network. So, for every
hop of a fetch (the URL itself and each redirect, at most `max_redirects`):

* only http and https, no user name or password in the URL;
* the host is resolved here and EVERY address it resolves to is checked: loopback, private,
  link-local, multicast, reserved, unspecified and other non-global addresses are refused
  (an IPv4 address mapped into IPv6 is judged as the IPv4 address);
* the connection goes to an address that was checked — the URL is rewritten to the IP, with
  the original Host header and TLS server name (certificates are still verified against the
  host name) — so a DNS answer that changes between check and connect cannot slip by; the
  checked addresses are tried in the resolver's order until one accepts the connection;
* redirects are never followed by the HTTP client: each Location is checked like the first
  URL, and an Authorization header is dropped when the host changes;
* connect and read timeouts and a deadline for the whole fetch; the body is streamed and the
  fetch stops as soon as it is one byte over the limit (a Content-Length over it is refused
  before reading).

`allow_networks` lists networks that are reachable even so: for tests (a local image server
on 127.0.0.1) and a deliberately local media server — empty by default, and the check
itself is never switched off. Proxies from the environment are ignored.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx
from grms_kit.images import sniff_image

__all__ = ["FetchError", "FetchPolicy", "address_refusal", "fetch", "fetch_photo", "parse_networks"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "GRMS-gateway/1 (+https://jatengprov.go.id; media fetch)"
# The most telling name first: 169.254.169.254 is "private" too, but "link-local" says more.
_CHECKS = (
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_unspecified", "unspecified"),
    ("is_reserved", "reserved"),
    ("is_private", "private"),
)


class FetchError(Exception):
    """The URL could not be fetched, or what came back is not acceptable; the message says why.

    `transient` is true when trying again later may work (a timeout, a refused connection, an
    HTTP 429 or 5xx answer), false for an answer that will not change (not an image, too large).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetch."""

    max_bytes: int
    allow_networks: tuple[Network, ...] = ()
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_redirects: int = 3
    #: The TLS trust to verify servers with; None for the system's certificate authorities (tests
    #: pass a context trusting their own certificate — verification itself is never off).
    tls_context: ssl.SSLContext | None = None


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR strings ("127.0.0.1/32", "10.0.0.0/8") as networks; ValueError for a bad one."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def address_refusal(address: Address, allow: tuple[Network, ...] = ()) -> str | None:
    """Why `address` may not be reached ("loopback", "private", …), or None when it may."""
    if any(address in network for network in allow if network.version == address.version):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_refusal(address.ipv4_mapped, allow)
    for attribute, reason in _CHECKS:
        if getattr(address, attribute):
            return reason
    if not address.is_global:
        return "non-public"
    return None


async def _checked_addresses(host: str, port: int, policy: FetchPolicy) -> list[str]:
    """The addresses of `host` in the resolver's order, after checking every one of them."""
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise FetchError(f"the host {host!r} cannot be resolved", transient=True) from None
        # An IPv6 scope ("fe80::1%eth0") is not part of the address.
        addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))
        if not addresses:
            raise FetchError(f"the host {host!r} cannot be resolved", transient=True)
    for address in addresses:
        reason = address_refusal(address, policy.allow_networks)
        if reason is not None:
            raise FetchError(f"the host {host!r} is a {reason} address ({address}), which is not fetched")
    return [str(a) for a in addresses]


def _target(raw: str) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise FetchError("not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise FetchError("only http and https URLs are fetched")
    if url.userinfo:
        raise FetchError("a URL with a user name or password is not fetched")
    return url


async def _read(response: httpx.Response, policy: FetchPolicy) -> tuple[bytes, str]:
    if response.status_code != 200:
        transient = response.status_code == 429 or response.status_code >= 500
        raise FetchError(f"the server answered HTTP {response.status_code}", transient=transient)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(f"larger than the limit of {policy.max_bytes} bytes")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > policy.max_bytes:
            raise FetchError(f"larger than the limit of {policy.max_bytes} bytes")
    return bytes(body), response.headers.get("content-type", "")


async def _hop(
    client: httpx.AsyncClient, url: httpx.URL, headers: dict[str, str], policy: FetchPolicy
) -> tuple[bytes, str] | httpx.URL:
    """One request: the body and type, or the URL a redirect points to. Each checked address is
    tried in turn until one accepts the connection (an IPv6 address first on an IPv4-only host)."""
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await _checked_addresses(url.host, port, policy)
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    request_headers = {**headers, "Host": url.netloc.decode("ascii")}
    for attempt, address in enumerate(addresses, start=1):
        try:
            async with client.stream(
                "GET", url.copy_with(host=address), headers=request_headers, extensions=extensions
            ) as response:
                if response.status_code in _REDIRECTS and response.headers.get("location"):
                    return _target(str(url.join(response.headers["location"])))
                return await _read(response, policy)
        except httpx.ConnectError:
            if attempt == len(addresses):
                raise
    raise FetchError(f"the host {url.host!r} has no address")  # not reached: there is always one


async def _fetch(url: str, policy: FetchPolicy, headers: Mapping[str, str]) -> tuple[bytes, str]:
    current = _target(url)
    sent = {"User-Agent": _USER_AGENT, **headers}
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    verify = policy.tls_context if policy.tls_context is not None else True
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=timeout, verify=verify) as client:
        for _ in range(policy.max_redirects + 1):
            try:
                answer = await _hop(client, current, sent, policy)
            except httpx.TimeoutException:
                raise FetchError("the server did not answer in time", transient=True) from None
            except httpx.HTTPError as exc:
                raise FetchError(f"the server could not be reached ({type(exc).__name__})", transient=True) from None
            if not isinstance(answer, httpx.URL):
                return answer
            if answer.host != current.host:  # the token was for the first host only
                sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
            current = answer
    raise FetchError(f"more than {policy.max_redirects} redirects")


async def fetch(url: str, policy: FetchPolicy, *, headers: Mapping[str, str] | None = None) -> tuple[bytes, str]:
    """The body (at most `policy.max_bytes`) and Content-Type of `url`; FetchError says why not."""
    try:
        async with asyncio.timeout(policy.total_timeout):
            return await _fetch(url, policy, headers or {})
    except TimeoutError:
        raise FetchError("the server did not answer in time", transient=True) from None


async def fetch_photo(url: str, policy: FetchPolicy, *, headers: Mapping[str, str] | None = None) -> bytes:
    """The bytes of a JPEG, PNG or WebP photo at `url` (its type read from the bytes, not the header)."""
    content, _ = await fetch(url, policy, headers=headers)
    if sniff_image(content) is None:
        raise FetchError("not a JPEG, PNG or WebP image")
    return content
