"""Tracking PINs: issued once in clear, stored as a salted, peppered HMAC-SHA256.

A PIN is 8 random digits (~26.6 bits): too few for any hash to make an offline search slow,
so the strength comes from a key the database does not hold. Stored form:

    hmac-sha256$<key id>$<16-byte salt, hex>$<HMAC-SHA256(pepper[key id], salt || pin), hex>

The peppers are a setting of their own (GRMS_COMPLAINTS_PIN_PEPPERS, generated into var/ by
`grms up`), never written to the database: a stolen database alone cannot be searched for PINs.
New PINs use the current pepper; older ones keep verifying under theirs as long as their id
stays configured, so a pepper rotates without invalidating a single PIN, and rotating the
auth secret no longer touches PINs. Without configured peppers the pepper is derived from the
service's secret under the id `auth`; rows of the earlier id-less form
(`hmac-sha256$salt$digest`) were made with that derived pepper and verify under it.
Online guessing is bounded by the per-ticket attempt limit (domain.attempts) and the 80-bit
random ticket id.

Decision: scrypt (N=2^14) per PIN was rejected after profiling — it was 78 % of the intake's
CPU, and for a 10^8 space a memory-hard hash buys seconds against an attacker, while the
pepper (OWASP ASVS: a lookup secret under 112 bits is a salted approved one-way hash; the
pepper adds a secret key) buys the whole key space. Rows of the old `scrypt$` form still
verify, so databases filed before keep working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from grms_kit.errors import NotFound

from grms_complaints.domain.attempts import AttemptLimiter

__all__ = [
    "DERIVED_KEY_ID",
    "IssuedPin",
    "PinGuard",
    "PinHasher",
    "new_pin",
    "pin_pepper",
    "unguessable_pin_hash",
]

NOT_FOUND = "no complaint with this ticket and PIN"

SCHEME = "hmac-sha256"
LEGACY_SCHEME = "scrypt"
_LEGACY_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_SALT_BYTES = 16
#: The key id of the pepper derived from the service's secret (and of the id-less rows).
DERIVED_KEY_ID = "auth"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def new_pin() -> str:
    """A random 8-digit PIN, shown to the complainant once."""
    return f"{secrets.randbelow(10**8):08d}"


def pin_pepper(secret: str) -> bytes:
    """The PIN pepper, derived from the service's secret (a key of its own, not the secret itself)."""
    return hmac.new(secret.encode(), b"grms-complaints-pin-v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class IssuedPin:
    """A new PIN and its stored form: the clear PIN goes to the complainant once, the hash is stored."""

    pin: str
    pin_hash: str = field(repr=False)

    def __repr__(self) -> str:
        return "IssuedPin(<secret>)"


@dataclass(frozen=True)
class PinHasher:
    """Hashes PINs under the current pepper and verifies them under any pepper still configured.

    `pepper` is the current pepper, known as `key_id`; `retired` holds earlier peppers by id
    (they verify, they never hash).
    """

    pepper: bytes = field(repr=False)
    key_id: str = DERIVED_KEY_ID
    retired: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    _keys: dict[str, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = {**self.retired, self.key_id: self.pepper}
        for key_id, pepper in keys.items():
            if not KEY_ID.match(key_id):
                raise ValueError(f"PIN pepper id {key_id!r}: letters, digits, '_' or '-', at most 32")
            if len(pepper) < 16:
                raise ValueError(f"the PIN pepper {key_id!r} must be at least 16 bytes")
        object.__setattr__(self, "_keys", keys)

    def __repr__(self) -> str:
        return f"PinHasher(<pepper {self.key_id}>, retired={sorted(self.retired)})"

    @staticmethod
    def _digest(pepper: bytes, salt: bytes, pin: str) -> str:
        return hmac.new(pepper, salt + pin.encode(), hashlib.sha256).hexdigest()

    def hash(self, pin: str) -> str:
        """`hmac-sha256$<key id>$<salt hex>$<digest hex>` of `pin` with a fresh salt, under the current pepper."""
        salt = secrets.token_bytes(_SALT_BYTES)
        return f"{SCHEME}${self.key_id}${salt.hex()}${self._digest(self.pepper, salt, pin)}"

    def issue(self) -> IssuedPin:
        """A new PIN and its hash."""
        pin = new_pin()
        return IssuedPin(pin, self.hash(pin))

    def verify(self, pin: str, stored: str) -> bool:
        """True when `pin` matches `stored` (any configured pepper, or the legacy scrypt form); constant time."""
        parts = stored.split("$")
        if len(parts) == 3:  # hmac-sha256$salt$digest (made with the derived pepper) or scrypt$salt$digest
            scheme, salt_hex, expected = parts
            key_id = DERIVED_KEY_ID
        elif len(parts) == 4:
            scheme, key_id, salt_hex, expected = parts
        else:
            return False
        try:
            salt = bytes.fromhex(salt_hex)
        except ValueError:
            return False
        if scheme == SCHEME:
            pepper = self._keys.get(key_id)
            if pepper is None:  # a pepper no longer configured: the PIN cannot be checked
                return False
            return hmac.compare_digest(self._digest(pepper, salt, pin), expected)
        if scheme == LEGACY_SCHEME and len(parts) == 3:
            digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_LEGACY_SCRYPT)
            return hmac.compare_digest(digest.hex(), expected)
        return False

    def verify_nothing(self, pin: str) -> bool:
        """The work of a wrong-PIN check against no row: an unknown ticket costs what a known one does."""
        return self.verify(pin, f"{SCHEME}${self.key_id}${_DUMMY}")

    def is_current(self, stored: str) -> bool:
        """True only for a row hashed under the current pepper (False for legacy and retired ones)."""
        return stored.startswith(f"{SCHEME}${self.key_id}$")


_DUMMY = f"{'00' * _SALT_BYTES}${'00' * 32}"


@dataclass(frozen=True)
class PinGuard:
    """Every complainant action's PIN check: the attempt limit, then the hash; new PINs too."""

    hasher: PinHasher
    attempts: AttemptLimiter = field(default_factory=AttemptLimiter)

    def issue(self) -> IssuedPin:
        """A new PIN and its hash."""
        return self.hasher.issue()

    def admit(self, ticket_id: str, pin: str, stored: str | None, now: dt.datetime) -> None:
        """Pass when `pin` matches `stored` (None: no such ticket); NotFound either way it does not.

        ResourceExhausted once the ticket had too many wrong PINs in the window (domain.attempts).
        An unknown ticket costs the same hash as a wrong PIN, so timing tells nothing.
        """
        self.attempts.check(ticket_id, now)
        ok = self.hasher.verify(pin, stored) if stored is not None else self.hasher.verify_nothing(pin)
        if not ok:
            self.attempts.failed(ticket_id, now)
            raise NotFound(NOT_FOUND)


def unguessable_pin_hash() -> str:
    """A well-formed hash no PIN will ever verify against (demo tickets: not trackable)."""
    return PinHasher(secrets.token_bytes(32)).hash(new_pin())
