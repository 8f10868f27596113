"""Photo attachments: recognised by their bytes, never by the type a client claims, and named by content hash.

A photo is JPEG, PNG or WebP as its magic bytes say; anything else (a PDF renamed .jpg, an
HTML page sent as image/png) is refused. Its name is the SHA-256 of its bytes, so the same
photo is stored once however often it is attached, and a stored file cannot be swapped
for another without its name changing.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from dataclasses import dataclass

from grms_kit.errors import FieldViolation, InvalidArgument

__all__ = [
    "DEFAULT_MAX_PHOTO_BYTES",
    "MAX_ATTACHMENTS",
    "MEDIA_TYPES",
    "Attachment",
    "AttachmentSource",
    "Photo",
    "check_photo",
    "check_sha256",
    "sniff_image",
]

DEFAULT_MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: At most this many photos on one complaint, whoever adds them.
MAX_ATTACHMENTS = 10
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sniff_image(data: bytes) -> str | None:
    """The media type of `data` from its first bytes: image/jpeg, image/png, image/webp, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


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


def check_photo(content: bytes, *, max_bytes: int, field: str = "photo") -> Photo:
    """The checked photo; InvalidArgument naming `field` when empty, too large or not JPEG/PNG/WebP."""
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
    return Photo(content=content, media_type=media_type, sha256=hashlib.sha256(content).hexdigest())


def check_sha256(value: str) -> str:
    """A photo's name, lower-cased; InvalidArgument unless 64 hex digits."""
    value = value.strip().lower()
    if not _SHA256.match(value):
        raise InvalidArgument.field("sha256", "must be 64 hexadecimal digits")
    return value
