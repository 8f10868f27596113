"""Which image a byte string is, from its magic bytes: the one check the gateway and the complaints service share.

The gateway refuses a non-image before it is sent anywhere; the complaints service checks
again before it stores (it never trusts a caller's word). Both ask this function, so they
can never disagree on what counts as a photo.
"""

from __future__ import annotations

__all__ = ["sniff_image"]


def sniff_image(data: bytes) -> str | None:
    """The media type of `data` from its first bytes: image/jpeg, image/png, image/webp, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
