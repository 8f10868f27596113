"""Complaints settings: `GRMS_COMPLAINTS_*` plus the shared `GRMS_*` variables."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from grms_kit.settings import ServiceSettings, service_config
from pydantic import BaseModel, Field, SecretStr, field_validator

from grms_complaints.domain.categories import DEFAULT_CATEGORIES, Category

__all__ = ["CUTI_BERSAMA_2025", "CategoryConfig", "Settings", "SlaCategory", "parse_pin_peppers"]

# Cuti bersama 2025 (SKB 3 Menteri on national holidays and collective leave for 2025):
# collective leave days are not public holidays, so the `holidays` package does not list them.
CUTI_BERSAMA_2025 = (
    dt.date(2025, 1, 28),
    dt.date(2025, 3, 28),
    dt.date(2025, 4, 2),
    dt.date(2025, 4, 3),
    dt.date(2025, 4, 4),
    dt.date(2025, 4, 7),
    dt.date(2025, 5, 13),
    dt.date(2025, 5, 30),
    dt.date(2025, 6, 9),
    dt.date(2025, 12, 26),
)


class SlaCategory(BaseModel):
    """The SLA of one complaint category, overriding the defaults of DOMAIN §7.2."""

    first_response_hours: int = Field(24, ge=1, le=24 * 30)
    verification_days: int = Field(3, ge=1, le=60)
    follow_up_days: int = Field(5, ge=1, le=60)
    resolution_days: int = Field(14, ge=1, le=365)
    field_check_resolution_days: int = Field(60, ge=1, le=365)
    requires_field_check: bool = False


class CategoryConfig(BaseModel):
    """One complaint category (an Open311 service); see grms_complaints.domain.categories."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,59}$")
    name: str = Field(min_length=2, max_length=200)
    name_en: str = Field(min_length=2, max_length=200)
    description: str = Field("", max_length=1000)
    group: str = Field("", max_length=60)
    keywords: list[str] = Field(default_factory=list)

    def to_domain(self) -> Category:
        """The domain category."""
        return Category(self.code, self.name, self.name_en, self.description, self.group, tuple(self.keywords))


def _default_categories() -> list[CategoryConfig]:
    return [
        CategoryConfig(
            code=c.code,
            name=c.name,
            name_en=c.name_en,
            description=c.description,
            group=c.group,
            keywords=list(c.keywords),
        )
        for c in DEFAULT_CATEGORIES
    ]


_PIN_PEPPER_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MIN_PIN_PEPPER_LENGTH = 32


def parse_pin_peppers(text: str) -> list[tuple[str, bytes]]:
    """`k2:…,k1:…` as [(id, pepper bytes)], the current first; ValueError naming the bad entry (never the pepper)."""
    pairs: list[tuple[str, bytes]] = []
    for n, entry in enumerate((e.strip() for e in text.split(",") if e.strip()), start=1):
        key_id, sep, pepper = entry.partition(":")
        if not sep or not _PIN_PEPPER_ID.match(key_id):
            raise ValueError(f"entry {n}: must be id:pepper, the id of letters, digits, '_' or '-' (at most 32)")
        if key_id == "auth":
            raise ValueError(f"entry {n}: the id 'auth' is reserved for the pepper derived from GRMS_AUTH_SECRET")
        if len(pepper) < MIN_PIN_PEPPER_LENGTH:
            raise ValueError(f"entry {n} ({key_id}): the pepper must be at least {MIN_PIN_PEPPER_LENGTH} characters")
        if any(key_id == seen for seen, _ in pairs):
            raise ValueError(f"entry {n}: the id {key_id!r} appears twice")
        pairs.append((key_id, pepper.encode()))
    return pairs


class Settings(ServiceSettings):
    """GRMS_COMPLAINTS_DATABASE_URL, GRMS_COMPLAINTS_GRPC_HOST, GRMS_COMPLAINTS_GRPC_PORT, …

    GRMS_COMPLAINTS_CUTI_BERSAMA is a JSON list of dates; GRMS_COMPLAINTS_SLA_CATEGORIES a
    JSON object of category code → SlaCategory; GRMS_COMPLAINTS_CATEGORIES a JSON list of
    CategoryConfig, the categories citizens choose from (default: DEFAULT_CATEGORIES).
    GRMS_COMPLAINTS_PHOTO_DIR and GRMS_COMPLAINTS_PHOTO_MAX_BYTES configure the photo store.
    GRMS_COMPLAINTS_PIN_PEPPERS is `id:pepper[,id:pepper…]`, the current pepper first (see
    domain.pins); `grms up` generates it into var/pin_peppers.
    """

    model_config = service_config("complaints")

    grpc_port: int = Field(50156, ge=1, le=65535)
    sla_scan_interval: float = Field(30.0, gt=0, le=3600)
    sla_scan_batch: int = Field(200, ge=1, le=5000)
    cuti_bersama: list[dt.date] = Field(default_factory=lambda: list(CUTI_BERSAMA_2025))
    sla_categories: dict[str, SlaCategory] = Field(default_factory=dict)
    categories: list[CategoryConfig] = Field(default_factory=_default_categories, min_length=1)
    #: Working days after resolution without a reply from the complainant before a complaint closes itself.
    auto_close_days: int = Field(10, ge=1, le=90)
    #: Where photos are stored by content hash; default `<GRMS_VAR_DIR>/complaint-photos`.
    photo_dir: Path | None = None
    #: The largest photo accepted, in bytes (default 5 MB).
    photo_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, le=15 * 1024 * 1024)

    #: Likely duplicates: within this distance and time window, suggested from this score up.
    duplicate_radius_m: float = Field(1000.0, gt=0, le=50_000)
    duplicate_window_days: int = Field(30, ge=1, le=365)
    duplicate_threshold: float = Field(0.45, gt=0, le=1)
    #: Note likely duplicates on each new complaint for the coordinator (one bounded query per filing).
    duplicate_check_at_intake: bool = True
    #: How often the notification dispatcher looks for messages to deliver, in seconds.
    notify_interval: float = Field(5.0, gt=0, le=3600)
    notify_max_attempts: int = Field(8, ge=1, le=50)
    #: E-mail to complainants: on when host and sender are set; otherwise the local log only.
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_sender: str = ""
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_timeout: float = Field(10.0, gt=0, le=120)
    #: The PIN peppers, `id:pepper` pairs separated by commas, the current one first; older ids
    #: keep verifying. Empty: one pepper derived from GRMS_AUTH_SECRET (id `auth`).
    pin_peppers: SecretStr = SecretStr("")

    @field_validator("pin_peppers")
    @classmethod
    def _pin_peppers_form(cls, value: SecretStr) -> SecretStr:
        parse_pin_peppers(value.get_secret_value())
        return value

    def pin_pepper_keys(self) -> list[tuple[str, bytes]]:
        """The configured PIN peppers as (id, key) pairs, the current one first; empty when unset."""
        return parse_pin_peppers(self.pin_peppers.get_secret_value())

    def photo_root(self) -> Path:
        """The directory of the photo store."""
        return self.photo_dir or self.var_dir / "complaint-photos"
