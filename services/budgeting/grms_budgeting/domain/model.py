"""Governments (pemda) and their agencies (OPD): the reference data every service copies."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field, replace

from grms_kit.errors import Conflict, FieldViolation, InvalidArgument

__all__ = [
    "Agency",
    "AgencyHead",
    "AgencyRegistered",
    "AgencyUpdated",
    "ContactChannel",
    "ContactKind",
    "DomainEvent",
    "Government",
    "GovernmentLevel",
    "GovernmentRegistered",
    "level_of_code",
]

_GOV_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
_AGENCY_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,39}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]{1,63})+$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_NIP = re.compile(r"^\d{18}$")
UPDATABLE_FIELDS = frozenset({"name", "short_name", "head", "contacts"})


class GovernmentLevel(enum.StrEnum):
    """The tier of a regional government."""

    PROVINCE = "province"
    REGENCY = "regency"
    CITY = "city"


class ContactKind(enum.StrEnum):
    """How an agency can be reached."""

    EMAIL = "email"
    PHONE = "phone"
    WHATSAPP = "whatsapp"


def level_of_code(code: str) -> GovernmentLevel:
    """The level a Kemendagri region code implies: "33" province, "33.01"–"33.69" regency, "33.71"+ city."""
    if "." not in code:
        return GovernmentLevel.PROVINCE
    return GovernmentLevel.CITY if int(code.split(".")[1]) >= 71 else GovernmentLevel.REGENCY


def _name(value: str, path: str, violations: list[FieldViolation], *, required: bool = True) -> str:
    value = " ".join(value.split())
    if not value and not required:
        return value
    if not 2 <= len(value) <= 200:
        violations.append(FieldViolation(path, "must be 2 to 200 characters"))
    return value


@dataclass
class DomainEvent:
    """Something that happened to an aggregate, raised by the domain, published after commit."""


@dataclass
class GovernmentRegistered(DomainEvent):
    government: Government


@dataclass
class AgencyRegistered(DomainEvent):
    agency: Agency


@dataclass
class AgencyUpdated(DomainEvent):
    agency: Agency
    changed_fields: list[str]


@dataclass
class Government:
    """A regional government: the province "33" or one of its regencies/cities "33.xx"."""

    code: str
    name: str
    level: GovernmentLevel
    parent_code: str
    created_at: dt.datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls, code: str, name: str, level: GovernmentLevel | None, *, parent: Government | None, now: dt.datetime
    ) -> Government:
        """Validate and create a government; a regency or city needs its province as `parent`."""
        violations: list[FieldViolation] = []
        code = code.strip()
        if not _GOV_CODE.match(code):
            violations.append(FieldViolation("code", 'must be a Kemendagri region code like "33" or "33.74"'))
        name = _name(name, "name", violations)
        if violations:
            raise InvalidArgument(violations)
        implied = level_of_code(code)
        if level is not None and level != implied:
            raise InvalidArgument.field("level", f"code {code} is a {implied.value}, not a {level.value}")
        parent_code = code.split(".")[0] if "." in code else ""
        if parent_code and parent is None:
            raise InvalidArgument.field("code", f"province {parent_code} must be registered first")
        government = cls(code=code, name=name, level=implied, parent_code=parent_code, created_at=now)
        government.events.append(GovernmentRegistered(government))
        return government


@dataclass(frozen=True)
class AgencyHead:
    """The head of an agency (Kepala OPD)."""

    name: str
    title: str = ""
    nip: str = ""


@dataclass(frozen=True)
class ContactChannel:
    """One verified-or-not way to reach an agency."""

    kind: ContactKind
    value: str
    verified: bool = False
    verified_at: dt.datetime | None = None


def _normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s\-().]", "", value)
    if digits.startswith("0"):
        digits = "+62" + digits[1:]
    elif digits.startswith("62"):
        digits = "+" + digits
    return digits


def _check_head(head: AgencyHead | None, violations: list[FieldViolation]) -> AgencyHead | None:
    if head is None:
        return None
    name = _name(head.name, "head.name", violations)
    title = " ".join(head.title.split())
    if len(title) > 200:
        violations.append(FieldViolation("head.title", "must be at most 200 characters"))
    nip = head.nip.replace(" ", "")
    if nip and not _NIP.match(nip):
        violations.append(FieldViolation("head.nip", "must be an 18-digit NIP"))
    return AgencyHead(name=name, title=title, nip=nip)


def _check_contacts(
    contacts: list[ContactChannel],
    violations: list[FieldViolation],
    *,
    now: dt.datetime,
    previous: list[ContactChannel],
) -> list[ContactChannel]:
    checked: list[ContactChannel] = []
    seen: set[tuple[ContactKind, str]] = set()
    verified_before = {(c.kind, c.value): c.verified_at for c in previous if c.verified}
    for i, contact in enumerate(contacts):
        path = f"contacts[{i}]"
        value = contact.value.strip()
        if contact.kind == ContactKind.EMAIL:
            value = value.lower()
            if not _EMAIL.match(value):
                violations.append(FieldViolation(f"{path}.value", "must be an e-mail address"))
        else:
            value = _normalize_phone(value)
            if not _E164.match(value):
                violations.append(FieldViolation(f"{path}.value", 'must be a phone number like "+62 24 3515591"'))
        if (contact.kind, value) in seen:
            violations.append(FieldViolation(path, "is listed twice"))
        seen.add((contact.kind, value))
        verified_at = None
        if contact.verified:
            verified_at = verified_before.get((contact.kind, value)) or contact.verified_at or now
        checked.append(
            ContactChannel(kind=contact.kind, value=value, verified=contact.verified, verified_at=verified_at)
        )
    if len(checked) > 20:
        violations.append(FieldViolation("contacts", "at most 20 channels"))
    return checked


@dataclass
class Agency:
    """A regional agency (OPD) of one government, with its head and contact channels."""

    government_code: str
    code: str
    name: str
    short_name: str
    head: AgencyHead | None
    contacts: list[ContactChannel]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls,
        government: Government,
        code: str,
        name: str,
        *,
        short_name: str = "",
        head: AgencyHead | None = None,
        contacts: list[ContactChannel] | None = None,
        now: dt.datetime,
    ) -> Agency:
        """Validate and create an agency of `government` at version 1."""
        violations: list[FieldViolation] = []
        code = code.strip()
        if not _AGENCY_CODE.match(code):
            violations.append(FieldViolation("code", "must be 1 to 40 letters, digits, dots or dashes"))
        name = _name(name, "name", violations)
        short_name = _name(short_name, "short_name", violations, required=False)
        head = _check_head(head, violations)
        checked = _check_contacts(contacts or [], violations, now=now, previous=[])
        if violations:
            raise InvalidArgument(violations)
        agency = cls(
            government_code=government.code,
            code=code,
            name=name,
            short_name=short_name,
            head=head,
            contacts=checked,
            version=1,
            created_at=now,
            updated_at=now,
        )
        agency.events.append(AgencyRegistered(agency))
        return agency

    def update(self, changes: dict[str, object], *, expected_version: int | None, now: dt.datetime) -> list[str]:
        """Apply `changes` (fields among name, short_name, head, contacts); return what changed.

        Raises Conflict when `expected_version` is given and stale. Nothing changes, and no
        event is raised, when the new values equal the old ones.
        """
        unknown = sorted(set(changes) - UPDATABLE_FIELDS)
        if unknown:
            raise InvalidArgument.field("update_mask", f"cannot update {', '.join(unknown)}")
        if not changes:
            raise InvalidArgument.field("update_mask", "names no field to update")
        if expected_version is not None and expected_version != self.version:
            raise Conflict(f"agency {self.code} is at version {self.version}, not {expected_version}")
        violations: list[FieldViolation] = []
        new = replace(self, events=[])
        if "name" in changes:
            new.name = _name(str(changes["name"]), "name", violations)
        if "short_name" in changes:
            new.short_name = _name(str(changes["short_name"]), "short_name", violations, required=False)
        if "head" in changes:
            head = changes["head"]
            new.head = _check_head(head if isinstance(head, AgencyHead) else None, violations)
        if "contacts" in changes:
            contacts = changes["contacts"]
            new.contacts = _check_contacts(
                list(contacts) if isinstance(contacts, list) else [], violations, now=now, previous=self.contacts
            )
        if violations:
            raise InvalidArgument(violations)
        changed = [f for f in sorted(changes) if getattr(new, f) != getattr(self, f)]
        if not changed:
            return []
        for name in changed:
            setattr(self, name, getattr(new, name))
        self.version += 1
        self.updated_at = now
        self.events.append(AgencyUpdated(self, changed))
        return changed
