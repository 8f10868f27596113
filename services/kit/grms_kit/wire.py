"""Protobuf conversions every service needs: times as Timestamps (UTC), rupiah as Money."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from grms.common.v1 import money_pb2

__all__ = ["money", "timestamp"]


def timestamp(value: dt.datetime | None) -> Timestamp | None:
    """An aware datetime as a protobuf Timestamp in UTC; None stays None (field unset)."""
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value.astimezone(dt.UTC))
    return out


def money(rupiah: int) -> money_pb2.Money:
    """Whole rupiah as grms.common.v1.Money."""
    return money_pb2.Money(rupiah=rupiah)
