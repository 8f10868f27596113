"""The tamper-evident audit chain of a budget plan: each entry's hash covers the previous hash.

hash_n = SHA-256(prev_hash ‖ canonical_json(entry)), with prev_hash of the first entry = 64 zeros.
A silent UPDATE of any stored field breaks the chain at that entry. A chain alone does not
stop someone who can rewrite every row and recompute; anchoring the head hash outside the
database (RELIABILITY §B.4) is the part that closes that gap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditRecord",
    "canonical_json",
    "chain",
    "entry_hash",
    "lines_digest",
    "verify_chain",
]

GENESIS_HASH = "0" * 64


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and raw UTF-8: the same bytes for the same value, always."""
    return _CANONICAL.encode(value)  # one encoder, not one per call: a bulk import encodes every line


def lines_digest(lines: Iterable[Any]) -> str:
    """The SHA-256 (hex) over many values, each as its canonical JSON followed by a newline.

    A bulk import is one audit entry carrying this digest of every imported line: changing,
    adding, dropping or reordering any line changes it, and the entry's own hash covers it.
    """
    digest = hashlib.sha256()
    for value in lines:
        digest.update(canonical_json(value).encode())
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    """What happened, before it is placed in a chain: raised by the plan, stamped by the unit of work."""

    actor: str
    agency_code: str
    action: str
    old: Any
    new: Any


@dataclass(frozen=True)
class AuditEntry:
    """One link of a plan's audit chain."""

    plan_id: str
    seq: int
    actor: str
    agency_code: str
    action: str
    old: Any
    new: Any
    at: dt.datetime
    request_id: str
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """The hashed content: everything but the hashes themselves."""
        return {
            "plan_id": self.plan_id,
            "seq": self.seq,
            "actor": self.actor,
            "agency": self.agency_code,
            "action": self.action,
            "old": self.old,
            "new": self.new,
            "at": self.at.astimezone(dt.UTC).isoformat(),
            "request_id": self.request_id,
        }


def entry_hash(entry: AuditEntry, prev_hash: str) -> str:
    """The SHA-256 (hex) of `prev_hash` followed by the entry's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical_json(entry.body())).encode()).hexdigest()


def chain(
    plan_id: str, records: Iterable[AuditRecord], *, after_seq: int, prev_hash: str, at: dt.datetime, request_id: str
) -> list[AuditEntry]:
    """Link `records` onto a chain whose head is (`after_seq`, `prev_hash`)."""
    out: list[AuditEntry] = []
    for offset, r in enumerate(records, start=1):
        draft = AuditEntry(
            plan_id, after_seq + offset, r.actor, r.agency_code, r.action, r.old, r.new, at, request_id, prev_hash, ""
        )
        linked = AuditEntry(**{**draft.__dict__, "hash": entry_hash(draft, prev_hash)})
        out.append(linked)
        prev_hash = linked.hash
    return out


def verify_chain(entries: Iterable[AuditEntry]) -> int | None:
    """The seq of the first entry that does not verify (content, link or numbering), or None if intact.

    `entries` are one plan's chain in seq order.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq or entry.prev_hash != prev_hash or entry_hash(entry, prev_hash) != entry.hash:
            return entry.seq
        prev_hash = entry.hash
        expected_seq += 1
    return None
