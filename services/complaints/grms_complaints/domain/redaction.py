"""Redaction of personal data from any text that goes public: NIK, Indonesian phone numbers, e-mails.

Decision: regular expressions, not an NER model (RELIABILITY.md §B.4 — the regex recognizers
did the job in the trial and need no model download). Over-redacting a 16-digit number that
was not a NIK is the accepted price: a false positive hides a number, a false negative
publishes a citizen's identity.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED_EMAIL", "REDACTED_NIK", "REDACTED_PHONE", "redact"]

REDACTED_NIK = "[NIK disembunyikan]"
REDACTED_PHONE = "[nomor telepon disembunyikan]"
REDACTED_EMAIL = "[email disembunyikan]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# A NIK is 16 digits, possibly written in groups (3374 0123 4567 0001).
_NIK = re.compile(r"(?<!\d)\d{4}[ .\-]?\d{4}[ .\-]?\d{4}[ .\-]?\d{4}(?!\d)")
# +62 / 62 / 0 followed by a mobile (8xx) or area-code number, with the usual separators.
_PHONE = re.compile(r"(?<![\w+])(?:\+62|62|\(?0)[ .\-]?\(?\d{2,4}\)?(?:[ .\-]?\d{2,4}){2,4}(?!\d)")


def redact(text: str) -> str:
    """`text` with NIKs, Indonesian phone numbers and e-mail addresses replaced by placeholders."""
    text = _EMAIL.sub(REDACTED_EMAIL, text)
    text = _NIK.sub(REDACTED_NIK, text)
    return _PHONE.sub(REDACTED_PHONE, text)
