"""Schemas of the token endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = ["TokenOut"]


class TokenOut(BaseModel):
    """An OAuth2 bearer token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
