"""Photo attachments: recognised by their bytes, never by the type a client claims, and named by content hash.

A photo is JPEG, PNG or WebP as its magic bytes say; anything else (a PDF renamed .jpg, an
HTML page sent as image/png) is refused. Its metadata is stripped before it is stored — Exif
(with the GPS position of the camera, often the complainant's home), XMP, IPTC and text
chunks — without touching the pixels, so a photo of an anonymous complaint says no more
than the public list does. Its name is the SHA-256 of its bytes, so the same
photo is stored once however often it is attached, and a stored file cannot be swapped
for another without its name changing.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
import struct
from dataclasses import dataclass

from grms_kit.errors import FieldViolation, InvalidArgument
from grms_kit.images import sniff_image

__all__ = [
    "DEFAULT_MAX_PHOTO_BYTES",
    "MAX_ATTACHMENTS",
    "Attachment",
    "AttachmentSource",
    "Photo",
    "check_photo",
    "check_sha256",
    "sniff_image",
    "strip_metadata",
]

DEFAULT_MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: At most this many photos on one complaint, whoever adds them.
MAX_ATTACHMENTS = 10
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class AttachmentSource(enum.StrEnum):
    """Who added a photo: the complainant (at filing, or later with ticket and PIN) or staff."""

    COMPLAINANT = "complainant"
    STAFF = "staff"


@dataclass(frozen=True)
class Photo:
    """Checked photo bytes: their media type (from the bytes), size and SHA-256."""

    content: bytes
    media_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class Attachment:
    """A photo on a complaint: the link between the complaint and the stored content."""

    sha256: str
    media_type: str
    size_bytes: int
    source: AttachmentSource
    # The staff member who added it; "" when the complainant did (never their identity).
    added_by: str
    added_at: dt.datetime


class UnreadableImage(ValueError):
    """The bytes start like an image but their structure cannot be read."""


# JPEG segments that may carry where and by whom a photo was taken: APP1 (Exif, XMP) and
# APP13 (Photoshop IPTC). Markers without a length: TEM, RSTn, SOI, EOI.
_JPEG_DROP = {0xE1, 0xED}
_JPEG_NO_LENGTH = {0x01, *range(0xD0, 0xD8), 0xD8, 0xD9}
# PNG chunks with metadata: eXIf and the text chunks (XMP travels in iTXt).
_PNG_DROP = {b"eXIf", b"tEXt", b"iTXt", b"zTXt"}
# WebP chunks with metadata, and their flags in the VP8X header.
_WEBP_DROP = {b"EXIF": 0x08, b"XMP ": 0x04}


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(b"\xff\xd8")
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise UnreadableImage("a JPEG segment does not start with a marker")
        marker = data[i + 1] if i + 1 < len(data) else -1
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _JPEG_NO_LENGTH:
            out += data[i : i + 2]
            i += 2
            if marker == 0xD9:
                break
            continue
        if i + 4 > len(data):
            raise UnreadableImage("a JPEG segment is cut short")
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise UnreadableImage("a JPEG segment is longer than the file")
        if marker == 0xDA:  # start of scan: the compressed image follows to the end, kept as it is
            out += data[i:]
            return bytes(out)
        if marker not in _JPEG_DROP:
            out += data[i:end]
        i = end
    return bytes(out)


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    i = 8
    while i < len(data):
        if i + 12 > len(data):
            raise UnreadableImage("a PNG chunk is cut short")
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise UnreadableImage("a PNG chunk is longer than the file")
        if kind not in _PNG_DROP:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            break
    return bytes(out)


def _strip_webp(data: bytes) -> bytes:
    chunks = bytearray()
    flags_at: int | None = None
    dropped = 0
    i = 12
    while i < len(data):
        if i + 8 > len(data):
            raise UnreadableImage("a WebP chunk is cut short")
        kind = data[i : i + 4]
        (size,) = struct.unpack("<I", data[i + 4 : i + 8])
        end = i + 8 + size + (size & 1)
        if end > len(data):
            raise UnreadableImage("a WebP chunk is longer than the file")
        if kind in _WEBP_DROP:
            dropped |= _WEBP_DROP[kind]
        else:
            if kind == b"VP8X":
                flags_at = 12 + len(chunks) + 8
            chunks += data[i:end]
        i = end
    out = bytearray(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks)
    if flags_at is not None and flags_at < len(out):
        out[flags_at] &= ~dropped & 0xFF
    return bytes(out)


def strip_metadata(data: bytes, media_type: str) -> bytes:
    """The image without its metadata (Exif with GPS, XMP, IPTC, text chunks); the pixels are untouched.

    UnreadableImage when the container's structure cannot be followed.
    """
    if media_type == "image/jpeg":
        return _strip_jpeg(data)
    if media_type == "image/png":
        return _strip_png(data)
    return _strip_webp(data)


def check_photo(content: bytes, *, max_bytes: int, field: str = "photo") -> Photo:
    """The checked photo without its metadata; InvalidArgument naming `field` when empty, too large,
    not JPEG/PNG/WebP or unreadable. Its name is the hash of what is stored: the stripped bytes."""
    violations: list[FieldViolation] = []
    if not content:
        violations.append(FieldViolation(field, "is empty"))
    elif len(content) > max_bytes:
        violations.append(FieldViolation(field, f"is too large: at most {max_bytes} bytes"))
    media_type = sniff_image(content)
    if content and media_type is None:
        violations.append(FieldViolation(field, "must be a JPEG, PNG or WebP image"))
    if violations or media_type is None:
        raise InvalidArgument(violations)
    try:
        content = strip_metadata(content, media_type)
    except UnreadableImage as exc:
        raise InvalidArgument.field(
            field, f"is not a readable {media_type.removeprefix('image/').upper()} image: {exc}"
        ) from None
    return Photo(content=content, media_type=media_type, sha256=hashlib.sha256(content).hexdigest())


def check_sha256(value: str) -> str:
    """A photo's name, lower-cased; InvalidArgument unless 64 hex digits."""
    value = value.strip().lower()
    if not _SHA256.match(value):
        raise InvalidArgument.field("sha256", "must be 64 hexadecimal digits")
    return value
