"""Keyset paging (AIP-158): opaque page tokens that carry the last key of the previous page."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from grms_kit.errors import InvalidArgument

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Page"]

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page:
    """A page request: `token` is opaque to callers (the last key of the previous page)."""

    size: int = 0
    token: str = ""

    def limit(self) -> int:
        """The page size to use, defaulted and capped."""
        if self.size < 0:
            raise InvalidArgument.field("page.page_size", "must not be negative")
        return min(self.size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)

    def after(self) -> str:
        """The key after which this page starts ("" for the first page)."""
        if not self.token:
            return ""
        try:
            return base64.b64decode(self.token.encode(), altchars=b"-_", validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise InvalidArgument.field("page.page_token", "is not a token this service issued") from None

    def cut(self, items: list[T], key: Callable[[T], str]) -> tuple[list[T], str]:
        """Trim `items` (fetched with limit() + 1) to this page; return them and the next token."""
        limit = self.limit()
        if len(items) <= limit:
            return items, ""
        items = items[:limit]
        return items, base64.urlsafe_b64encode(key(items[-1]).encode()).decode()
