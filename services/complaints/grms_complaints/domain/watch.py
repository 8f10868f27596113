"""Watch tokens: a short-lived capability to follow one complaint's public status without the PIN.

Issued with a tracking answer (after the PIN was checked), so a live status page can re-read
the status as often as it likes without the PIN travelling again and without paying the
PIN's scrypt cost each time. `<expiry unix seconds>.<HMAC-SHA256 of ticket and expiry>`,
under a key derived from the service's secret; a bad, foreign or expired token is NotFound,
the same answer as a wrong PIN.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from grms_kit.errors import NotFound

__all__ = ["WATCH_TTL", "check_watch_token", "issue_watch_token", "watch_key"]

WATCH_TTL = dt.timedelta(minutes=30)
_NOT_FOUND = "no complaint with this ticket and watch token"


def watch_key(secret: str) -> bytes:
    """The key watch tokens are signed with, derived from the service's secret."""
    return hmac.new(secret.encode(), b"grms-complaints-watch-v1", hashlib.sha256).digest()


def _mac(key: bytes, ticket_id: str, expires: int) -> str:
    return hmac.new(key, f"{ticket_id}|{expires}".encode(), hashlib.sha256).hexdigest()


def issue_watch_token(key: bytes, ticket_id: str, now: dt.datetime, ttl: dt.timedelta = WATCH_TTL) -> str:
    """A token to watch `ticket_id` until `now + ttl`."""
    expires = int((now + ttl).timestamp())
    return f"{expires}.{_mac(key, ticket_id, expires)}"


def check_watch_token(key: bytes, ticket_id: str, token: str, now: dt.datetime) -> None:
    """NotFound unless `token` was issued for `ticket_id` and has not expired."""
    expires_text, _, mac = token.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        raise NotFound(_NOT_FOUND)
    expires = int(expires_text)
    if not hmac.compare_digest(mac, _mac(key, ticket_id, expires)) or expires < now.timestamp():
        raise NotFound(_NOT_FOUND)
