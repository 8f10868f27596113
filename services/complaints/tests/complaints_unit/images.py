"""Tiny, structurally valid JPEG, PNG and WebP files for the photo tests (the pixels do not matter)."""

from __future__ import annotations

import struct
import zlib

__all__ = ["jpeg", "png", "webp"]


def jpeg(payload: bytes, *, exif: bytes = b"") -> bytes:
    """SOI, a JFIF APP0, an optional APP1 (Exif), a scan holding `payload`, EOI."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif if exif else b""
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + app1 + sos + payload + b"\xff\xd9"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(payload: bytes, *, text: bytes = b"") -> bytes:
    """The PNG signature, IHDR, an optional tEXt, one IDAT holding `payload`, IEND."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    extra = _png_chunk(b"tEXt", text) if text else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + extra
        + _png_chunk(b"IDAT", payload)
        + _png_chunk(b"IEND", b"")
    )


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def webp(payload: bytes, *, exif: bytes = b"") -> bytes:
    """RIFF/WEBP with a "VP8 " chunk holding `payload`; with `exif`, a VP8X header flagging an EXIF chunk."""
    body = b""
    if exif:
        body += _riff_chunk(b"VP8X", bytes([0x08]) + bytes(9))
    body += _riff_chunk(b"VP8 ", payload)
    if exif:
        body += _riff_chunk(b"EXIF", exif)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
