"""Identity tokens and the authorization checks on an identity."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from grms_kit.errors import PermissionDenied, Unauthenticated
from grms_kit.identity import ANONYMOUS, Identity, Role, TokenCodec, current_identity, use_identity

SECRET = "k" * 40


def _alice() -> Identity:
    return Identity(
        sub="u-1", roles=frozenset({Role.PLANNER}), government="33", agencies=frozenset({"1.02"}), name="Alice"
    )


def test_round_trip() -> None:
    codec = TokenCodec(SECRET)
    assert codec.verify(codec.issue(_alice())) == _alice()


def test_unknown_roles_are_dropped() -> None:
    codec = TokenCodec(SECRET)
    token = codec.issue(Identity(sub="u", roles=frozenset({"planner", "superuser"})))
    assert codec.verify(token).roles == frozenset({"planner"})


def test_expired_token() -> None:
    codec = TokenCodec(SECRET)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    token = codec.issue(_alice(), now=old, ttl=dt.timedelta(minutes=5))
    with pytest.raises(Unauthenticated, match="expired"):
        codec.verify(token)


def test_wrong_secret() -> None:
    token = TokenCodec("x" * 40).issue(_alice())
    with pytest.raises(Unauthenticated, match="invalid token"):
        TokenCodec(SECRET).verify(token)


def test_alg_none_is_rejected() -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {
        "iss": "grms-gateway",
        "aud": "grms",
        "sub": "root",
        "iat": now,
        "exp": now + 600,
        "roles": [Role.ADMIN],
        "gov": "33",
    }
    token = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(Unauthenticated):
        TokenCodec(SECRET).verify(token)


def test_missing_claims_and_garbage_are_rejected() -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    token = jwt.encode({"sub": "u", "exp": now + 60}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        TokenCodec(SECRET).verify(token)
    with pytest.raises(Unauthenticated):
        TokenCodec(SECRET).verify("not-a-token")


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        TokenCodec("short")


def test_require_role() -> None:
    _alice().require_role(Role.PLANNER, Role.ADMIN)
    with pytest.raises(PermissionDenied, match="admin"):
        _alice().require_role(Role.ADMIN)
    with pytest.raises(Unauthenticated):
        ANONYMOUS.require_role(Role.PLANNER)


def test_require_government() -> None:
    alice = _alice()
    alice.require_government("33")
    alice.require_government("33.01")
    for other in ("34", "331", "3", ""):
        with pytest.raises(PermissionDenied):
            alice.require_government(other)
    with pytest.raises(PermissionDenied):
        Identity(sub="x").require_government("33")


def test_current_identity_is_contextual() -> None:
    assert current_identity() is ANONYMOUS
    token = use_identity(_alice())
    try:
        assert current_identity().sub == "u-1"
    finally:
        from grms_kit.identity import _current

        _current.reset(token)
    assert current_identity() is ANONYMOUS
