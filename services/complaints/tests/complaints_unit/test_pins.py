"""Tracking PINs: the peppered HMAC, the legacy scrypt rows, and the per-ticket attempt limit."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pytest
from grms_complaints.domain.attempts import AttemptLimiter
from grms_complaints.domain.pins import DERIVED_KEY_ID, PinGuard, PinHasher, pin_pepper, unguessable_pin_hash
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import NotFound, ResourceExhausted

from .conftest import PINS, file_cmd
from .fakes import FakeUnitOfWork

PEPPER = b"complaints-unit-test-pepper-0001"


def _legacy_scrypt(pin: str) -> str:
    """A row as the service stored it before the HMAC scheme: scrypt N=2^14, r=8, p=1."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def test_a_pin_round_trips_and_a_wrong_one_does_not() -> None:
    hasher = PinHasher(PEPPER)
    issued = hasher.issue()
    assert len(issued.pin) == 8 and issued.pin.isdigit()
    assert issued.pin not in repr(issued) and issued.pin_hash not in repr(issued)
    scheme, key_id, salt, digest = issued.pin_hash.split("$")
    assert scheme == "hmac-sha256" and key_id == "auth"
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    assert hasher.verify(issued.pin, issued.pin_hash)
    assert not hasher.verify(f"{(int(issued.pin) + 1) % 10**8:08d}", issued.pin_hash)
    assert not hasher.verify(issued.pin, "garbage") and not hasher.verify(issued.pin, "md5$00$00")
    assert hasher.hash("12345678") != hasher.hash("12345678")  # salted per row


def test_a_stored_hash_does_not_verify_under_another_pepper() -> None:
    stored = PinHasher(PEPPER).hash("12345678")
    assert not PinHasher(b"another-deployment-pepper-00001").verify("12345678", stored)


def test_the_pepper_is_not_in_what_is_stored() -> None:
    pepper = pin_pepper("a-service-secret-of-at-least-32-characters")
    assert len(pepper) == 32
    hasher = PinHasher(pepper)
    stored = hasher.hash("12345678")
    assert pepper.hex() not in stored and pepper.hex() not in repr(hasher)
    # Keyed: the digest is not a plain salted SHA-256 an attacker could search without the key.
    _, _, salt, digest = stored.split("$")
    assert hashlib.sha256(bytes.fromhex(salt) + b"12345678").hexdigest() != digest
    # The pepper is a key of its own, not the secret it is derived from.
    assert pin_pepper("another-service-secret-of-32-characters") != pepper


def test_a_short_pepper_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        PinHasher(b"short")
    with pytest.raises(ValueError, match="'old' must be at least 16 bytes"):
        PinHasher(PEPPER, "k1", {"old": b"short"})
    with pytest.raises(ValueError, match="pepper id"):
        PinHasher(PEPPER, "k$1")


def test_a_rotated_pepper_hashes_new_pins_and_old_ids_still_verify() -> None:
    k1, k2 = b"first-pepper-of-this-deployment-1", b"second-pepper-of-this-deployment2"
    before = PinHasher(k1, "k1")
    old_row = before.hash("12345678")
    assert old_row.startswith("hmac-sha256$k1$")
    after = PinHasher(k2, "k2", {"k1": k1})
    new_row = after.hash("87654321")
    assert new_row.startswith("hmac-sha256$k2$") and after.is_current(new_row) and not after.is_current(old_row)
    assert after.verify("12345678", old_row) and not after.verify("12345679", old_row)
    assert after.verify("87654321", new_row) and not before.verify("87654321", new_row)
    # The id picks the pepper: a row relabelled with another id does not verify.
    assert not after.verify("12345678", old_row.replace("$k1$", "$k2$", 1))
    # Once an id is dropped from the configuration its PINs no longer verify.
    assert not PinHasher(k2, "k2").verify("12345678", old_row)
    assert "first-pepper" not in repr(after) and k1.hex() not in repr(after)


def test_an_id_less_row_verifies_under_the_derived_pepper() -> None:
    derived = pin_pepper("a-service-secret-of-at-least-32-characters")
    salt = secrets.token_bytes(16)
    digest = hmac.new(derived, salt + b"13572468", hashlib.sha256).hexdigest()
    id_less = f"hmac-sha256${salt.hex()}${digest}"  # the form stored before key ids
    configured = PinHasher(b"a-configured-pepper-of-32-characters", "k1", {DERIVED_KEY_ID: derived})
    assert configured.verify("13572468", id_less) and not configured.verify("13572469", id_less)
    assert PinHasher(derived).verify("13572468", id_less)
    assert not PinHasher(b"a-configured-pepper-of-32-characters", "k1").verify("13572468", id_less)


def test_a_legacy_scrypt_row_still_verifies() -> None:
    hasher = PinHasher(PEPPER)
    legacy = _legacy_scrypt("24681357")
    assert hasher.verify("24681357", legacy) and not hasher.verify("24681358", legacy)
    assert not hasher.is_current(legacy) and hasher.is_current(hasher.hash("24681357"))


def test_a_legacy_row_is_tracked_through_the_handler(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = handlers.file_complaint(file_cmd(), uow=uow, pins=PINS, sla=sla)
    uow.complaints.rows[f.complaint.ticket_id].pin_hash = _legacy_scrypt("11223344")
    assert handlers.track_complaint(f.complaint.ticket_id, "11223344", uow=uow, pins=PINS).status
    with pytest.raises(NotFound):
        handlers.track_complaint(f.complaint.ticket_id, f.pin, uow=uow, pins=PINS)


def test_the_demo_hash_is_well_formed_and_verifies_no_pin() -> None:
    stored = unguessable_pin_hash()
    assert stored.startswith("hmac-sha256$")
    assert not any(PINS.hasher.verify(f"{pin:08d}", stored) for pin in range(0, 10**8, 10**8 // 200))


def test_an_unknown_ticket_answers_as_a_wrong_pin_does(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = handlers.file_complaint(file_cmd(), uow=uow, pins=PINS, sla=sla)
    wrong = f"{(int(f.pin) + 1) % 10**8:08d}"
    with pytest.raises(NotFound) as known:
        handlers.track_complaint(f.complaint.ticket_id, wrong, uow=uow, pins=PINS)
    with pytest.raises(NotFound) as unknown:
        handlers.track_complaint("A" * 16, wrong, uow=uow, pins=PINS)
    assert known.value.message == unknown.value.message


def test_too_many_wrong_pins_rest_the_ticket(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    pins = PinGuard(PinHasher(PEPPER), AttemptLimiter(max_failures=3, window=dt.timedelta(minutes=15)))
    f = handlers.file_complaint(file_cmd(), uow=uow, pins=pins, sla=sla)
    other = handlers.file_complaint(file_cmd(), uow=uow, pins=pins, sla=sla)
    ticket, wrong = f.complaint.ticket_id, f"{(int(f.pin) + 1) % 10**8:08d}"
    for _ in range(5):  # a complainant who knows the PIN is never counted
        handlers.track_complaint(ticket, f.pin, uow=uow, pins=pins)
    for _ in range(3):
        with pytest.raises(NotFound):
            handlers.track_complaint(ticket, wrong, uow=uow, pins=pins)
    # Over the limit: refused before the PIN is looked at, the right PIN too; other tickets are not.
    with pytest.raises(ResourceExhausted):
        handlers.track_complaint(ticket, f.pin, uow=uow, pins=pins)
    with pytest.raises(ResourceExhausted):
        handlers.rate_complaint(handlers.RateComplaint(ticket, wrong, 5), uow=uow, pins=pins)
    handlers.track_complaint(other.complaint.ticket_id, other.pin, uow=uow, pins=pins)
    uow.clock.advance(dt.timedelta(minutes=15))
    assert handlers.track_complaint(ticket, f.pin, uow=uow, pins=pins).ticket_id == ticket


def test_unknown_tickets_are_limited_too(uow: FakeUnitOfWork) -> None:
    # Otherwise the limit itself would tell which tickets exist.
    pins = PinGuard(PinHasher(PEPPER), AttemptLimiter(max_failures=2))
    for _ in range(2):
        with pytest.raises(NotFound):
            handlers.track_complaint("B" * 16, "12345678", uow=uow, pins=pins)
    with pytest.raises(ResourceExhausted):
        handlers.track_complaint("b" * 16, "12345678", uow=uow, pins=pins)  # the same ticket, as typed


def test_the_limiter_forgets_the_oldest_tickets_beyond_its_bound() -> None:
    now = dt.datetime(2025, 5, 9, tzinfo=dt.UTC)
    limiter = AttemptLimiter(max_failures=1, max_tickets=2)
    for ticket in ("T1", "T2", "T3"):
        limiter.failed(ticket, now)
    limiter.check("T1", now)  # forgotten: bounded memory
    with pytest.raises(ResourceExhausted):
        limiter.check("T3", now)
