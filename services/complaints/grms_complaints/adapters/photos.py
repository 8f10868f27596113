"""The photo store: content-addressed files in a directory (`GRMS_COMPLAINTS_PHOTO_DIR`).

A photo lives at `<root>/<first two hex digits>/<sha256>`; it is written to a temporary file
in the same directory and renamed into place, so a reader never sees half a photo and two
writers of the same photo end with the same single file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from grms_complaints.domain.attachments import DEFAULT_MAX_PHOTO_BYTES, check_sha256

__all__ = ["FilePhotoStore"]


class FilePhotoStore:
    """Photos by SHA-256 under `root`; the same content is stored once."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_PHOTO_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        """Where the photo named `sha256` lives."""
        sha256 = check_sha256(sha256)
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, content: bytes) -> None:
        """Store `content` under `sha256` (checked against the bytes); a no-op when it is there already."""
        if hashlib.sha256(content).hexdigest() != sha256:
            raise ValueError(f"content does not hash to {sha256}")
        target = self.path(sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes | None:
        """The content, or None when nothing is stored under `sha256`."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None
