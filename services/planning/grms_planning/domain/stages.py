"""Planning stages (tahapan RKPD) of an agency-year: immutable snapshots when a stage closes, and diffs.

The agency-year moves through rancangan awal → rancangan → akhir (final); each close takes
a snapshot of every sub-activity with its indicators, locations and monthly plan, and every
procurement package. After the final stage the plan is locked: it changes only through a
new perubahan stage, which is closed again with its own snapshot. Budgeting's plan versions
(snapshot per stage change + line diff) are the model; this is planning's own copy of the idea.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from grms_kit.errors import Conflict, FailedPrecondition, FieldViolation, InvalidArgument

from grms_planning.domain.model import SubActivity
from grms_planning.domain.procurement import ProcurementPackage

__all__ = [
    "FieldChange",
    "ItemDiff",
    "Stage",
    "StageBook",
    "StageKind",
    "StageSnapshot",
    "check_stage_number",
    "diff_stages",
    "snapshot_content",
]


class StageKind(enum.StrEnum):
    """The stage of the year's plan (tahapan), in the order they are worked through."""

    RANCANGAN_AWAL = "rancangan_awal"
    RANCANGAN = "rancangan"
    AKHIR = "akhir"
    PERUBAHAN = "perubahan"


# What opens when a stage closes; None locks the plan until a perubahan is opened.
_NEXT: dict[StageKind, StageKind | None] = {
    StageKind.RANCANGAN_AWAL: StageKind.RANCANGAN,
    StageKind.RANCANGAN: StageKind.AKHIR,
    StageKind.AKHIR: None,
    StageKind.PERUBAHAN: None,
}


@dataclass(frozen=True)
class StageSnapshot:
    """What a closed stage keeps forever: counts, totals and the whole content.

    `content` is None when the snapshot was loaded without it (the stage list does not need it).
    """

    sub_activity_count: int
    package_count: int
    total_budget: int
    total_packaged: int
    content: dict[str, Any] | None


@dataclass(frozen=True)
class Stage:
    """One stage of an agency-year; it carries its snapshot once closed."""

    number: int
    kind: StageKind
    opened_at: dt.datetime
    opened_by: str
    reason: str
    closed_at: dt.datetime | None = None
    closed_by: str = ""
    snapshot: StageSnapshot | None = None

    @property
    def closed(self) -> bool:
        """Whether the stage is closed (and has its snapshot)."""
        return self.closed_at is not None


@dataclass
class StageBook:
    """The stages of one agency's plan for one fiscal year: the aggregate that locks editing.

    Every edit of the agency-year's sub-activities or packages calls `record_edit`, which
    moves `version`; closing a stage with a stale expected version is a Conflict, so a
    snapshot never misses an edit that was saved while the planner looked at the old state.
    """

    government_code: str
    agency_code: str
    fiscal_year: int
    stages: list[Stage]
    version: int

    @classmethod
    def start(
        cls, government_code: str, agency_code: str, fiscal_year: int, *, actor: str, now: dt.datetime
    ) -> StageBook:
        """A new book with the first stage, rancangan awal, open."""
        first = Stage(1, StageKind.RANCANGAN_AWAL, now, actor, "")
        return cls(government_code, agency_code, fiscal_year, [first], 1)

    @property
    def current(self) -> Stage | None:
        """The open stage, or None when the plan is locked."""
        last = self.stages[-1] if self.stages else None
        return last if last is not None and not last.closed else None

    @property
    def label(self) -> str:
        """The agency-year, for messages."""
        return f"the {self.fiscal_year} plan of agency {self.agency_code}"

    def stage(self, number: int) -> Stage | None:
        """The stage with `number`, if any."""
        return next((s for s in self.stages if s.number == number), None)

    def _check(self, expected_version: int | None) -> None:
        if expected_version is not None and expected_version != self.version:
            raise Conflict(f"{self.label} is at version {self.version}, not {expected_version}; reload and try again")

    def require_open(self) -> Stage:
        """The open stage, or FailedPrecondition saying how to change a locked plan."""
        current = self.current
        if current is None:
            last = self.stages[-1]
            raise FailedPrecondition(
                f"{self.label} is locked since stage {last.number} ({last.kind.value}) closed; "
                "open a perubahan stage to change it"
            )
        return current

    def record_edit(self) -> None:
        """Note an edit of the agency-year; refused while the plan is locked."""
        self.require_open()
        self.version += 1

    def close(self, snapshot: StageSnapshot, *, expected_version: int | None, actor: str, now: dt.datetime) -> Stage:
        """Close the open stage with `snapshot`; the next stage of the sequence opens, if any."""
        self._check(expected_version)
        current = self.require_open()
        closed = Stage(
            current.number, current.kind, current.opened_at, current.opened_by, current.reason, now, actor, snapshot
        )
        self.stages[-1] = closed
        following = _NEXT[current.kind]
        if following is not None:
            self.stages.append(Stage(current.number + 1, following, now, actor, ""))
        self.version += 1
        return closed

    def open_revision(self, reason: str, *, expected_version: int | None, actor: str, now: dt.datetime) -> Stage:
        """Open a perubahan stage of a locked plan, saying why; the reason is kept with the stage."""
        self._check(expected_version)
        reason = " ".join(reason.split())
        if not 5 <= len(reason) <= 1000:
            raise InvalidArgument.field("reason", "say why the plan changes, in 5 to 1000 characters")
        current = self.current
        if current is not None:
            raise FailedPrecondition(
                f"{self.label} is still open at stage {current.number} ({current.kind.value}); "
                "a perubahan opens only after the final stage is closed"
            )
        opened = Stage(self.stages[-1].number + 1, StageKind.PERUBAHAN, now, actor, reason)
        self.stages.append(opened)
        self.version += 1
        return opened


def _plain(value: Any) -> Any:
    return str(value) if value is not None else None


def snapshot_content(sub_activities: Iterable[SubActivity], packages: Iterable[ProcurementPackage]) -> StageSnapshot:
    """The snapshot of an agency-year: plain JSON of every sub-activity and package, with totals."""
    subs = sorted(sub_activities, key=lambda s: s.code)
    pkgs = sorted(packages, key=lambda p: (p.sub_activity_code, p.account_code, p.id))
    content = {
        "sub_activities": [
            {
                "code": s.code,
                "name": s.name,
                "budget": s.budget,
                "approved_budget": s.approved_budget,
                "status": s.status.value,
                "funding_sources": list(s.funding_sources),
                "tags": list(s.tags),
                "locations": [
                    {
                        "government_code": loc.government_code,
                        "village_code": loc.village_code,
                        "latitude": _plain(loc.latitude),
                        "longitude": _plain(loc.longitude),
                    }
                    for loc in s.locations
                ],
                "indicators": [
                    {
                        "level": i.level.value,
                        "kind": i.kind.value,
                        "name": i.name,
                        "unit": i.unit,
                        "target": format(i.target, "f"),
                        "formula": i.formula.value,
                    }
                    for i in s.indicators
                ],
                "months": [
                    {"month": m.month, "physical_percent": str(m.physical_percent), "disbursement": m.disbursement}
                    for m in (s.monthly_plan.months if s.monthly_plan else ())
                ],
            }
            for s in subs
        ],
        "packages": [
            {
                "id": p.id,
                "sub_activity_code": p.sub_activity_code,
                "account_code": p.account_code,
                "name": p.name,
                "procurement_type": p.procurement_type.value,
                "mode": p.mode.value,
                "method": p.method.value if p.method else None,
                "value": p.value,
                "domestic_product": p.domestic_product,
                "small_business": p.small_business,
                "selection": f"{p.selection.start}-{p.selection.end}" if p.selection else None,
                "contract": f"{p.contract.start}-{p.contract.end}",
                "use": f"{p.use.start}-{p.use.end}",
            }
            for p in pkgs
        ],
    }
    return StageSnapshot(
        sub_activity_count=len(subs),
        package_count=len(pkgs),
        total_budget=sum(s.effective_budget for s in subs),
        total_packaged=sum(p.value for p in pkgs),
        content=content,
    )


@dataclass(frozen=True)
class FieldChange:
    """One field of an item, before and after, as text ("" when absent)."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class ItemDiff:
    """How one item differs between two stages.

    `change` is "added", "removed" or "changed"; `entity` one of sub_activity, indicator,
    location, month, package; `key` names the item within its sub-activity.
    """

    change: str
    entity: str
    sub_activity_code: str
    key: str
    fields: tuple[FieldChange, ...] = field(default=())


ENTITY_ORDER = ("sub_activity", "indicator", "location", "month", "package")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _items(content: dict[str, Any]) -> Iterator[tuple[tuple[str, str, str], dict[str, str]]]:
    """Every item of a snapshot as ((sub-activity code, entity, key), flat text fields)."""
    for s in content["sub_activities"]:
        code = s["code"]
        parts = ("locations", "indicators", "months")
        yield (code, "sub_activity", ""), {k: _text(v) for k, v in s.items() if k not in parts and k != "code"}
        for i in s["indicators"]:
            key = f"{i['level']}: {i['name'].lower()}"
            yield (code, "indicator", key), {k: _text(v) for k, v in i.items() if k != "level"}
        for loc in s["locations"]:
            key = loc["village_code"] or loc["government_code"]
            yield (code, "location", key), {k: _text(v) for k, v in loc.items()}
        for m in s["months"]:
            yield (code, "month", f"{m['month']:02d}"), {k: _text(v) for k, v in m.items() if k != "month"}
    for p in content["packages"]:
        yield (
            (p["sub_activity_code"], "package", p["id"]),
            {k: _text(v) for k, v in p.items() if k not in ("id", "sub_activity_code")},
        )


def diff_stages(old: dict[str, Any], new: dict[str, Any]) -> list[ItemDiff]:
    """Items added, removed and changed (field by field) from snapshot content `old` to `new`.

    Ordered by sub-activity code, then entity (the sub-activity itself first), then key.
    """
    before = dict(_items(old))
    after = dict(_items(new))
    out: list[ItemDiff] = []

    def order(key: tuple[str, str, str]) -> tuple[str, int, str]:
        return (key[0], ENTITY_ORDER.index(key[1]), key[2])

    for key in sorted(before.keys() | after.keys(), key=order):
        code, entity, name = key
        a, b = before.get(key), after.get(key)
        if a is None and b is not None:
            fields = tuple(FieldChange(k, "", v) for k, v in b.items() if v != "")
            out.append(ItemDiff("added", entity, code, name, fields))
        elif b is None and a is not None:
            fields = tuple(FieldChange(k, v, "") for k, v in a.items() if v != "")
            out.append(ItemDiff("removed", entity, code, name, fields))
        elif a is not None and b is not None and a != b:
            keys = list(dict.fromkeys([*a, *b]))
            fields = tuple(FieldChange(k, a.get(k, ""), b.get(k, "")) for k in keys if a.get(k, "") != b.get(k, ""))
            out.append(ItemDiff("changed", entity, code, name, fields))
    return out


def check_stage_number(number: int, path: str, violations: list[FieldViolation]) -> None:
    """Append a violation unless `number` is a stage number (0 means the current working plan)."""
    if number < 0:
        violations.append(FieldViolation(path, "must be a stage number, or 0 for the current working plan"))
