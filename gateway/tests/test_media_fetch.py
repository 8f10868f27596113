"""The SSRF-guarded photo fetch (media.py) against a real HTTP server on a loopback port."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grms_gateway.media import FetchError, FetchPolicy, address_refusal, fetch, fetch_photo, parse_networks

from .media_server import Answer, MediaServer, media_server

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x11" * 2000 + b"\xff\xd9"
LOOPBACK = parse_networks(["127.0.0.1/32", "::1/128"])


@pytest.fixture
def server() -> Iterator[MediaServer]:
    with media_server() as started:
        yield started


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.1.10", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_which_addresses_are_refused(address: str, reason: str | None) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == reason


def test_an_allowed_network_is_reachable_and_nothing_else_is() -> None:
    allow = parse_networks(["127.0.0.1/32"])
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), allow) is None
    assert address_refusal(ipaddress.ip_address("127.0.0.2"), allow) == "loopback"
    with pytest.raises(ValueError):
        parse_networks(["semua"])


async def test_loopback_is_refused_by_default_without_a_connection(server: MediaServer) -> None:
    server.answers["/foto.jpg"] = Answer(JPEG)
    for url in (f"{server.url}/foto.jpg", server.url.replace("127.0.0.1", "localhost") + "/foto.jpg"):
        with pytest.raises(FetchError, match="loopback"):
            await fetch_photo(url, FetchPolicy(max_bytes=100_000))
    assert server.requests == []  # refused before connecting


async def test_fetch_within_the_limits(server: MediaServer) -> None:
    policy = FetchPolicy(max_bytes=10_000, allow_networks=LOOPBACK)
    server.answers["/foto.jpg"] = Answer(JPEG, headers={"Content-Type": "text/plain"})
    assert await fetch_photo(f"{server.url}/foto.jpg", policy) == JPEG  # the type comes from the bytes
    assert server.requests[0][1]["host"] == server.url.removeprefix("http://")

    server.answers["/besar.jpg"] = Answer(JPEG + b"\x00" * 20_000)
    with pytest.raises(FetchError, match="larger than the limit"):
        await fetch_photo(f"{server.url}/besar.jpg", policy)
    server.answers["/besar-mengalir.jpg"] = Answer(JPEG + b"\x00" * 5_000_000, chunked=True)
    with pytest.raises(FetchError, match="larger than the limit"):
        await fetch_photo(f"{server.url}/besar-mengalir.jpg", policy)
    server.answers["/dokumen.pdf"] = Answer(b"%PDF-1.7\n" + JPEG, headers={"Content-Type": "image/jpeg"})
    with pytest.raises(FetchError, match="not a JPEG, PNG or WebP"):
        await fetch_photo(f"{server.url}/dokumen.pdf", policy)
    with pytest.raises(FetchError, match="HTTP 404"):
        await fetch_photo(f"{server.url}/tidak-ada.jpg", policy)
    for url in ("ftp://127.0.0.1/foto.jpg", "file:///etc/passwd", f"http://user:pw@{server.url[7:]}/foto.jpg"):
        with pytest.raises(FetchError):
            await fetch_photo(url, policy)

    slow = FetchPolicy(max_bytes=10_000, allow_networks=LOOPBACK, read_timeout=0.3, total_timeout=2)
    server.answers["/lambat.jpg"] = Answer(JPEG, delay=1.0)
    with pytest.raises(FetchError, match="in time"):
        await fetch_photo(f"{server.url}/lambat.jpg", slow)


async def test_redirects_are_checked_again_and_bounded(server: MediaServer) -> None:
    policy = FetchPolicy(max_bytes=10_000, allow_networks=LOOPBACK)
    server.answers["/foto.jpg"] = Answer(JPEG)
    server.answers["/pindah"] = Answer(status=302, headers={"Location": "/foto.jpg"})
    assert await fetch_photo(f"{server.url}/pindah", policy) == JPEG

    server.answers["/ke-metadata"] = Answer(status=301, headers={"Location": "http://169.254.169.254/latest/"})
    with pytest.raises(FetchError, match="link-local"):
        await fetch_photo(f"{server.url}/ke-metadata", policy)
    server.answers["/berputar"] = Answer(status=307, headers={"Location": "/berputar"})
    server.requests.clear()
    with pytest.raises(FetchError, match="more than 3 redirects"):
        await fetch_photo(f"{server.url}/berputar", policy)
    assert server.paths() == ["/berputar"] * 4

    # The bearer token goes to the host it was meant for, never on to another one.
    other_host = server.url.replace("127.0.0.1", "localhost")
    server.answers["/ke-host-lain"] = Answer(status=302, headers={"Location": f"{other_host}/foto.jpg"})
    server.requests.clear()
    content, _ = await fetch(f"{server.url}/ke-host-lain", policy, headers={"Authorization": "Bearer rahasia"})
    assert content == JPEG
    assert [h.get("authorization") for _, h in server.requests] == ["Bearer rahasia", None]


async def test_every_checked_address_is_tried_in_turn(server: MediaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host with two addresses where the first refuses connections (like IPv6 on an IPv4-only host)."""
    server.answers["/foto.jpg"] = Answer(JPEG)
    port = int(server.url.rsplit(":", 1)[1])
    loop = asyncio.get_running_loop()

    async def resolve(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "foto.example.id"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("127.0.0.2", "127.0.0.1")]

    monkeypatch.setattr(loop, "getaddrinfo", resolve)
    allow = parse_networks(["127.0.0.1/32", "127.0.0.2/32"])
    url = f"http://foto.example.id:{port}/foto.jpg"
    assert await fetch_photo(url, FetchPolicy(max_bytes=10_000, allow_networks=allow)) == JPEG
    assert server.requests[-1][1]["host"] == f"foto.example.id:{port}"
    # One address refused makes the host refused, whatever the other is.
    with pytest.raises(FetchError, match=r"127\.0\.0\.2"):
        await fetch_photo(url, FetchPolicy(max_bytes=10_000, allow_networks=LOOPBACK[:1]))


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for "localhost", made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "localhost.pem", tmp_path / "localhost.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


async def test_https_is_verified_against_the_host_name_though_the_ip_is_dialled(
    certificate: tuple[Path, Path],
) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    policy = FetchPolicy(max_bytes=10_000, allow_networks=LOOPBACK, tls_context=trust)
    with media_server(tls=certificate) as tls_server:
        tls_server.answers["/foto.jpg"] = Answer(JPEG)
        assert await fetch_photo(f"{tls_server.url}/foto.jpg", policy) == JPEG
        by_ip = tls_server.url.replace("localhost", "127.0.0.1")
        with pytest.raises(FetchError, match="could not be reached"):  # the certificate is not for the IP
            await fetch_photo(f"{by_ip}/foto.jpg", policy)
        with pytest.raises(FetchError, match="could not be reached"):  # nor from a known authority
            await fetch_photo(f"{tls_server.url}/foto.jpg", FetchPolicy(max_bytes=10_000, allow_networks=LOOPBACK))
