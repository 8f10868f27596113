"""In-memory fakes of planning's ports: the real handlers run on them with no I/O."""

from __future__ import annotations

import copy
from typing import TypeVar

from grms_kit.clock import ManualClock
from grms_kit.errors import Conflict
from grms_planning.domain.model import DomainEvent, SubActivity
from grms_planning.domain.procurement import ProcurementPackage

T = TypeVar("T")


def _stored(aggregate: T) -> T:
    """A copy as a database would keep it: state only, no pending events."""
    kept = copy.deepcopy(aggregate)
    kept.events = []  # type: ignore[attr-defined]
    return kept


class FakeSubActivities:
    def __init__(self) -> None:
        self.rows: dict[str, SubActivity] = {}
        self.seen: list[SubActivity] = []

    def add(self, sub_activity: SubActivity) -> None:
        self.rows[sub_activity.id] = _stored(sub_activity)
        self.seen.append(sub_activity)

    def get(self, sub_activity_id: str) -> SubActivity | None:
        found = self.rows.get(sub_activity_id)
        return copy.deepcopy(found) if found else None

    def find(self, government_code: str, fiscal_year: int, agency_code: str, code: str) -> SubActivity | None:
        for s in self.rows.values():
            if (s.government_code, s.fiscal_year, s.agency_code, s.code) == (
                government_code,
                fiscal_year,
                agency_code,
                code,
            ):
                return copy.deepcopy(s)
        return None

    def save(self, sub_activity: SubActivity, *, previous_version: int) -> None:
        if self.rows[sub_activity.id].version != previous_version:
            raise Conflict("changed by someone else")
        self.rows[sub_activity.id] = _stored(sub_activity)
        self.seen.append(sub_activity)

    def list(
        self, government_code: str, fiscal_year: int, *, agency_code: str, after: tuple[str, ...], limit: int
    ) -> list[SubActivity]:
        items = sorted(
            (
                s
                for s in self.rows.values()
                if s.government_code == government_code
                and s.fiscal_year == fiscal_year
                and (not agency_code or s.agency_code == agency_code)
                and (s.agency_code, s.code) > after
            ),
            key=lambda s: (s.agency_code, s.code),
        )
        return [copy.deepcopy(s) for s in items[:limit]]


class FakePackages:
    def __init__(self) -> None:
        self.rows: dict[str, ProcurementPackage] = {}
        self.seen: list[ProcurementPackage] = []

    def add(self, package: ProcurementPackage) -> None:
        self.rows[package.id] = _stored(package)
        self.seen.append(package)

    def list(
        self,
        government_code: str,
        fiscal_year: int,
        *,
        agency_code: str,
        sub_activity_id: str,
        after: tuple[str, ...],
        limit: int | None,
    ) -> list[ProcurementPackage]:
        def key(p: ProcurementPackage) -> tuple[str, ...]:
            return (p.agency_code, p.sub_activity_code, p.account_code, p.id)

        items = sorted(
            (
                p
                for p in self.rows.values()
                if p.government_code == government_code
                and p.fiscal_year == fiscal_year
                and (not agency_code or p.agency_code == agency_code)
                and (not sub_activity_id or p.sub_activity_id == sub_activity_id)
                and key(p) > after
            ),
            key=key,
        )
        return [copy.deepcopy(p) for p in (items if limit is None else items[:limit])]


class FakeReference:
    def __init__(self) -> None:
        self.governments: set[str] = {"33", "33.74", "33.01"}
        self.agencies: set[tuple[str, str]] = {("33", "1.02.0.00.0.00.01.0000"), ("33.74", "DINKES")}

    def government_known(self, code: str) -> bool:
        return code in self.governments

    def agency_known(self, government_code: str, code: str) -> bool:
        return (government_code, code) in self.agencies


class FakeUnitOfWork:
    """Commits by moving raised events to `published`; nothing else happens."""

    def __init__(self) -> None:
        self.sub_activities = FakeSubActivities()
        self.packages = FakePackages()
        self.reference = FakeReference()
        self.clock = ManualClock()
        self.published: list[DomainEvent] = []
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self.sub_activities.seen = []
        self.packages.seen = []
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1
        for aggregate in [*self.sub_activities.seen, *self.packages.seen]:
            self.published.extend(aggregate.events)
            aggregate.events.clear()
