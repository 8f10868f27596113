"""Tracking PINs: issued once in clear, stored as a salted, peppered HMAC-SHA256.

A PIN is 8 random digits (~26.6 bits): too few for any hash to make an offline search slow,
so the strength comes from a key the database does not hold. Stored form:

    hmac-sha256$<16-byte salt, hex>$<HMAC-SHA256(pepper, salt || pin), hex>

The pepper is derived from the service's secret settings (like the watch-token key), never
written to the database: a stolen database alone cannot be searched for PINs. Online guessing
is bounded by the per-ticket attempt limit (domain.attempts) and the 80-bit random ticket id.

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
import secrets
from dataclasses import dataclass, field

from grms_kit.errors import NotFound

from grms_complaints.domain.attempts import AttemptLimiter

__all__ = ["IssuedPin", "PinGuard", "PinHasher", "new_pin", "pin_pepper", "unguessable_pin_hash"]

NOT_FOUND = "no complaint with this ticket and PIN"

SCHEME = "hmac-sha256"
LEGACY_SCHEME = "scrypt"
_LEGACY_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_SALT_BYTES = 16


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
    """Hashes and verifies PINs under one pepper."""

    pepper: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.pepper) < 16:
            raise ValueError("the PIN pepper must be at least 16 bytes")

    def __repr__(self) -> str:
        return "PinHasher(<pepper>)"

    def _digest(self, salt: bytes, pin: str) -> str:
        return hmac.new(self.pepper, salt + pin.encode(), hashlib.sha256).hexdigest()

    def hash(self, pin: str) -> str:
        """`hmac-sha256$<salt hex>$<digest hex>` of `pin` with a fresh salt."""
        salt = secrets.token_bytes(_SALT_BYTES)
        return f"{SCHEME}${salt.hex()}${self._digest(salt, pin)}"

    def issue(self) -> IssuedPin:
        """A new PIN and its hash."""
        pin = new_pin()
        return IssuedPin(pin, self.hash(pin))

    def verify(self, pin: str, stored: str) -> bool:
        """True when `pin` matches `stored` (this scheme or the legacy scrypt one); compared in constant time."""
        try:
            scheme, salt_hex, expected = stored.split("$")
            salt = bytes.fromhex(salt_hex)
        except ValueError:
            return False
        if scheme == SCHEME:
            return hmac.compare_digest(self._digest(salt, pin), expected)
        if scheme == LEGACY_SCHEME:
            digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_LEGACY_SCRYPT)
            return hmac.compare_digest(digest.hex(), expected)
        return False

    def verify_nothing(self, pin: str) -> bool:
        """The work of a wrong-PIN check against no row: an unknown ticket costs what a known one does."""
        return self.verify(pin, _DUMMY)

    def is_current(self, stored: str) -> bool:
        """False for a row still in the legacy form."""
        return stored.startswith(SCHEME + "$")


_DUMMY = f"{SCHEME}${'00' * _SALT_BYTES}${'00' * 32}"


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
