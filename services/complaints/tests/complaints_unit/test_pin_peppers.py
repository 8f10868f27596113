"""PIN peppers from the settings: their own variable, rotation by id, the derived fallback."""

from __future__ import annotations

import pytest
from grms_complaints.bootstrap import pin_hasher
from grms_complaints.config import Settings
from grms_complaints.domain.pins import PinHasher, pin_pepper
from grms_kit.settings import ConfigError, load_settings

SECRET = "complaints-unit-auth-secret-0123456789"
ROTATED_SECRET = "complaints-unit-auth-secret-rotated-0000"
K1 = "k1:first-pin-pepper-0123456789abcdefghij"
K2 = "k2:second-pin-pepper-0123456789abcdefghi"


def _settings(secret: str = SECRET, peppers: str = "") -> Settings:
    return Settings(auth_secret=secret, pin_peppers=peppers)


def test_unset_peppers_fall_back_to_the_one_derived_from_the_secret() -> None:
    hasher = pin_hasher(_settings())
    stored = hasher.hash("12345678")
    assert stored.startswith("hmac-sha256$auth$")
    assert PinHasher(pin_pepper(SECRET)).verify("12345678", stored)


def test_rotating_the_auth_secret_keeps_pins_made_under_a_configured_pepper() -> None:
    stored = pin_hasher(_settings(peppers=K1)).hash("12345678")
    assert stored.startswith("hmac-sha256$k1$")
    assert pin_hasher(_settings(ROTATED_SECRET, K1)).verify("12345678", stored)


def test_a_new_pepper_first_hashes_new_pins_and_the_old_ones_still_verify() -> None:
    derived_row = pin_hasher(_settings()).hash("11111111")
    k1_row = pin_hasher(_settings(peppers=K1)).hash("22222222")
    rotated = pin_hasher(_settings(peppers=f"{K2},{K1}"))
    assert rotated.hash("33333333").startswith("hmac-sha256$k2$")
    assert rotated.verify("22222222", k1_row) and not rotated.is_current(k1_row)
    # PINs from before any pepper was configured verify while the auth secret is unchanged.
    assert rotated.verify("11111111", derived_row)
    assert not pin_hasher(_settings(ROTATED_SECRET, f"{K2},{K1}")).verify("11111111", derived_row)
    # Dropping k1 retires its PINs.
    assert not pin_hasher(_settings(peppers=K2)).verify("22222222", k1_row)


@pytest.mark.parametrize(
    ("peppers", "message"),
    [
        ("k1", "entry 1: must be id:pepper"),
        ("k1:short", r"entry 1 \(k1\): the pepper must be at least 32"),
        (f"{K1},{K1}", "entry 2: the id 'k1' appears twice"),
        ("auth:derived-pepper-cannot-be-configured-00", "reserved"),
        ("k 1:pepper-with-a-bad-id-0123456789abcdef", "entry 1: must be id:pepper"),
    ],
)
def test_malformed_peppers_are_refused_by_name_without_echoing_them(
    monkeypatch: pytest.MonkeyPatch, peppers: str, message: str
) -> None:
    monkeypatch.setenv("GRMS_AUTH_SECRET", SECRET)
    monkeypatch.setenv("GRMS_COMPLAINTS_PIN_PEPPERS", peppers)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(Settings)
    assert "GRMS_COMPLAINTS_PIN_PEPPERS" in str(info.value) or "pin_peppers" in str(info.value)
    assert "0123456789" not in str(info.value)
