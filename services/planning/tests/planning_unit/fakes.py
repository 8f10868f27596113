"""In-memory fakes of planning's ports: the real handlers run on them with no I/O."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from grms_kit.clock import ManualClock
from grms_kit.errors import Conflict
from grms_planning.domain.model import DomainEvent, SubActivity
from grms_planning.domain.procurement import ProcurementPackage
from grms_planning.domain.proposal import Proposal
from grms_planning.domain.recurring import ComplaintCluster
from grms_planning.domain.stages import Stage, StageBook, StageSnapshot

T = TypeVar("T")


def _stored(aggregate: T) -> T:
    """A copy as a database would keep it: state only, no pending events."""
    kept = copy.deepcopy(aggregate)
    kept.events = []  # type: ignore[attr-defined]
    return kept


class FakeSubActivities:
    def __init__(self) -> None:
        self.rows: dict[str, SubActivity] = {}
        # Budgeting's approved amounts by (government, year, agency) then sub-activity code.
        self.approved: dict[tuple[str, int, str], dict[str, int]] = {}
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

    def codes(self, government_code: str, fiscal_year: int, agency_code: str) -> set[str]:
        return {
            s.code
            for s in self.rows.values()
            if (s.government_code, s.fiscal_year, s.agency_code) == (government_code, fiscal_year, agency_code)
        }

    def add_many(self, sub_activities: list[SubActivity]) -> None:
        for s in sub_activities:
            self.add(s)

    def approved_amounts(self, government_code: str, fiscal_year: int, agency_code: str) -> dict[str, int]:
        return dict(self.approved.get((government_code, fiscal_year, agency_code), {}))

    def save(self, sub_activity: SubActivity, *, previous_version: int) -> None:
        if self.rows[sub_activity.id].version != previous_version:
            raise Conflict("changed by someone else")
        self.rows[sub_activity.id] = _stored(sub_activity)
        self.seen.append(sub_activity)

    def list(
        self, government_code: str, fiscal_year: int, *, agency_code: str, after: tuple[str, ...], limit: int | None
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

    def add_many(self, packages: list[ProcurementPackage]) -> None:
        for p in packages:
            self.add(p)

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


class FakeStages:
    """Books as a database keeps them: the content of a snapshot only through `content()`."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, int], StageBook] = {}
        self.contents: dict[tuple[str, str, int, int], dict[str, Any]] = {}

    def _keep(self, book: StageBook) -> None:
        key = (book.government_code, book.agency_code, book.fiscal_year)
        stages = []
        for stage in book.stages:
            snap = stage.snapshot
            if snap is not None and snap.content is not None:
                self.contents.setdefault((*key, stage.number), copy.deepcopy(snap.content))
                snap = StageSnapshot(
                    snap.sub_activity_count, snap.package_count, snap.total_budget, snap.total_packaged, None
                )
            stages.append(
                Stage(
                    stage.number,
                    stage.kind,
                    stage.opened_at,
                    stage.opened_by,
                    stage.reason,
                    stage.closed_at,
                    stage.closed_by,
                    snap,
                )
            )
        self.rows[key] = StageBook(*key, stages, book.version)

    def get(self, government_code: str, agency_code: str, fiscal_year: int) -> StageBook | None:
        found = self.rows.get((government_code, agency_code, fiscal_year))
        return copy.deepcopy(found) if found else None

    def add(self, book: StageBook) -> bool:
        if (book.government_code, book.agency_code, book.fiscal_year) in self.rows:
            return False
        self._keep(book)
        return True

    def count_edit(self, government_code: str, agency_code: str, fiscal_year: int) -> bool:
        found = self.rows.get((government_code, agency_code, fiscal_year))
        if found is None or found.current is None:
            return False
        found.version += 1
        return True

    def save(self, book: StageBook, *, previous_version: int) -> None:
        if self.rows[(book.government_code, book.agency_code, book.fiscal_year)].version != previous_version:
            raise Conflict("changed by someone else")
        self._keep(book)

    def content(self, government_code: str, agency_code: str, fiscal_year: int, number: int) -> dict[str, Any] | None:
        found = self.contents.get((government_code, agency_code, fiscal_year, number))
        return copy.deepcopy(found) if found is not None else None


class FakeClusters:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int, str, str], ComplaintCluster] = {}

    def get(self, government_code: str, year: int, village_code: str, category_code: str) -> ComplaintCluster | None:
        found = self.rows.get((government_code, year, village_code, category_code))
        return copy.deepcopy(found) if found else None

    def add(self, cluster: ComplaintCluster) -> None:
        key = (cluster.government_code, cluster.year, cluster.village_code, cluster.category_code)
        assert key not in self.rows
        self.rows[key] = copy.deepcopy(cluster)

    def save(self, cluster: ComplaintCluster, *, previous_version: int) -> None:
        key = (cluster.government_code, cluster.year, cluster.village_code, cluster.category_code)
        if self.rows[key].version != previous_version:
            raise Conflict("changed by someone else")
        self.rows[key] = copy.deepcopy(cluster)

    def list(self, government_code: str, year: int, *, min_count: int, limit: int) -> list[ComplaintCluster]:
        items = [
            c
            for c in self.rows.values()
            if c.government_code == government_code and c.year == year and c.complaint_count >= min_count
        ]
        items.sort(key=lambda c: (-c.complaint_count, c.village_code, c.category_code))
        return [copy.deepcopy(c) for c in items[:limit]]


class FakeProposals:
    def __init__(self) -> None:
        self.rows: dict[str, Proposal] = {}
        self.seen: list[Proposal] = []

    def add(self, proposal: Proposal) -> None:
        self.rows[proposal.public_id] = _stored(proposal)
        self.seen.append(proposal)

    def get(self, public_id: str) -> Proposal | None:
        found = self.rows.get(public_id)
        return copy.deepcopy(found) if found else None


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
        self.stages = FakeStages()
        self.clusters = FakeClusters()
        self.proposals = FakeProposals()
        self.reference = FakeReference()
        self.clock = ManualClock()
        self.published: list[DomainEvent] = []
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self.sub_activities.seen = []
        self.packages.seen = []
        self.proposals.seen = []
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1
        for aggregate in [*self.sub_activities.seen, *self.packages.seen, *self.proposals.seen]:
            self.published.extend(aggregate.events)
            aggregate.events.clear()
