"""Citizens' proposals (usulan warga, Musrenbang, aspirasi): submitted, reviewed, accepted or rejected.

A proposal has a random public id the proposer keeps to follow it without logging in; its
status and every change to it are public, while the proposer's name and contact are not.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
from dataclasses import dataclass, field

from grms_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument

from grms_planning.domain.model import DomainEvent

__all__ = [
    "PUBLIC_ID_PATTERN",
    "Proposal",
    "ProposalCategory",
    "ProposalChange",
    "ProposalStatus",
    "ProposalStatusChanged",
    "new_public_id",
]

# 80 random bits as 16 Crockford base32 characters: unguessable, easy to read aloud or type.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PUBLIC_ID_PATTERN = re.compile(r"^U-[0-9A-HJKMNP-TV-Z]{16}$")
_GOV_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
_VILLAGE_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def new_public_id() -> str:
    """A fresh public id, e.g. "U-7K2M9QX4T1H8RZ3B" (80 bits from the OS's CSPRNG)."""
    number = secrets.randbits(80)
    chars = []
    for _ in range(16):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "U-" + "".join(reversed(chars))


class ProposalStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ProposalCategory(enum.StrEnum):
    """What the proposal is about (bidang usulan)."""

    INFRASTRUCTURE = "infrastructure"
    HEALTH = "health"
    EDUCATION = "education"
    ECONOMY = "economy"
    SOCIAL = "social"
    ENVIRONMENT = "environment"
    GOVERNANCE = "governance"
    OTHER = "other"


_NEXT: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    ProposalStatus.SUBMITTED: frozenset({ProposalStatus.UNDER_REVIEW, ProposalStatus.REJECTED}),
    ProposalStatus.UNDER_REVIEW: frozenset({ProposalStatus.ACCEPTED, ProposalStatus.REJECTED}),
    ProposalStatus.ACCEPTED: frozenset(),
    ProposalStatus.REJECTED: frozenset(),
}


@dataclass(frozen=True)
class ProposalChange:
    """One public entry of a proposal's history: the status it reached, when, and the public note."""

    status: ProposalStatus
    at: dt.datetime
    note: str = ""
    sub_activity_id: str = ""


@dataclass
class ProposalStatusChanged(DomainEvent):
    proposal: Proposal


def _text(value: str, path: str, violations: list[FieldViolation], *, low: int, high: int) -> str:
    value = " ".join(value.split())
    if not low <= len(value) <= high:
        violations.append(FieldViolation(path, f"must be {low} to {high} characters"))
    return value


@dataclass
class Proposal:
    """A citizen's proposal to one regional government."""

    public_id: str
    government_code: str
    village_code: str
    category: ProposalCategory
    title: str
    description: str
    proposer_name: str
    proposer_contact: str
    status: ProposalStatus
    sub_activity_id: str
    history: list[ProposalChange]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def submit(
        cls,
        *,
        government_code: str,
        village_code: str,
        category: ProposalCategory,
        title: str,
        description: str,
        proposer_name: str,
        proposer_contact: str,
        now: dt.datetime,
        public_id: str | None = None,
    ) -> Proposal:
        """Validate and record a new proposal; its first history entry is the submission."""
        violations: list[FieldViolation] = []
        government_code = government_code.strip()
        village_code = village_code.strip()
        if not _GOV_CODE.match(government_code):
            violations.append(FieldViolation("government_code", 'must be a region code like "33" or "33.74"'))
        if village_code:
            if not _VILLAGE_CODE.match(village_code):
                violations.append(FieldViolation("village_code", 'must be a village code like "33.74.01.1001"'))
            elif not village_code.startswith(government_code + "."):
                violations.append(FieldViolation("village_code", f"is not a village of {government_code}"))
        title = _text(title, "title", violations, low=5, high=200)
        description = description.strip()
        if not 10 <= len(description) <= 5000:
            violations.append(FieldViolation("description", "must be 10 to 5000 characters"))
        proposer_name = _text(proposer_name, "proposer_name", violations, low=2, high=100)
        proposer_contact = _text(proposer_contact, "proposer_contact", violations, low=0, high=200)
        if violations:
            raise InvalidArgument(violations)
        proposal = cls(
            public_id=public_id or new_public_id(),
            government_code=government_code,
            village_code=village_code,
            category=category,
            title=title,
            description=description,
            proposer_name=proposer_name,
            proposer_contact=proposer_contact,
            status=ProposalStatus.SUBMITTED,
            sub_activity_id="",
            history=[ProposalChange(ProposalStatus.SUBMITTED, now)],
            version=1,
            created_at=now,
            updated_at=now,
        )
        proposal.events.append(ProposalStatusChanged(proposal))
        return proposal

    def _move(self, to: ProposalStatus, *, now: dt.datetime, note: str = "", sub_activity_id: str = "") -> None:
        if to not in _NEXT[self.status]:
            raise FailedPrecondition(f"proposal {self.public_id} is {self.status.value}; it cannot become {to.value}")
        self.status = to
        self.history.append(ProposalChange(to, now, note, sub_activity_id))
        self.version += 1
        self.updated_at = now
        self.events.append(ProposalStatusChanged(self))

    def review(self, *, now: dt.datetime, note: str = "") -> None:
        """Take a submitted proposal under review."""
        self._move(ProposalStatus.UNDER_REVIEW, now=now, note=_note(note, required=False))

    def accept(self, sub_activity_id: str, *, now: dt.datetime, note: str = "") -> None:
        """Accept a proposal under review into the plan, linked to the sub-activity that carries it."""
        if not sub_activity_id.strip():
            raise InvalidArgument.field("sub_activity_id", "is required: an accepted proposal names its sub-activity")
        self._move(ProposalStatus.ACCEPTED, now=now, note=_note(note, required=False), sub_activity_id=sub_activity_id)
        self.sub_activity_id = sub_activity_id

    def reject(self, reason: str, *, now: dt.datetime) -> None:
        """Reject a proposal; the reason is required and public."""
        self._move(ProposalStatus.REJECTED, now=now, note=_note(reason, required=True, path="reason"))


def _note(value: str, *, required: bool, path: str = "note") -> str:
    value = " ".join(value.split())
    if required and len(value) < 5:
        raise InvalidArgument.field(path, "is required: say why, in at least 5 characters")
    if len(value) > 1000:
        raise InvalidArgument.field(path, "must be at most 1000 characters")
    return value
