"""In-memory fakes of budgeting's ports: the real handlers run on them with no I/O."""

from __future__ import annotations

import copy

from grms_budgeting.domain.model import Agency, DomainEvent, Government
from grms_kit.clock import ManualClock
from grms_kit.errors import Conflict


class FakeGovernments:
    def __init__(self) -> None:
        self.rows: dict[str, Government] = {}
        self.seen: list[Government] = []

    def add(self, government: Government) -> None:
        self.rows[government.code] = government
        self.seen.append(government)

    def get(self, code: str) -> Government | None:
        return self.rows.get(code)

    def list(self, *, within: str, after: str, limit: int) -> list[Government]:
        codes = sorted(c for c in self.rows if c > after and (not within or c == within or c.startswith(within + ".")))
        return [self.rows[c] for c in codes[:limit]]


class FakeAgencies:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Agency] = {}
        self.seen: list[Agency] = []

    def add(self, agency: Agency) -> None:
        self.rows[(agency.government_code, agency.code)] = copy.deepcopy(agency)
        self.seen.append(agency)

    def get(self, government_code: str, code: str) -> Agency | None:
        found = self.rows.get((government_code, code))
        return copy.deepcopy(found) if found else None

    def save(self, agency: Agency, *, previous_version: int) -> None:
        stored = self.rows[(agency.government_code, agency.code)]
        if stored.version != previous_version:
            raise Conflict("changed by someone else")
        self.rows[(agency.government_code, agency.code)] = copy.deepcopy(agency)
        self.seen.append(agency)

    def list(self, government_code: str, *, after: str, limit: int) -> list[Agency]:
        keys = sorted(k for k in self.rows if k[0] == government_code and k[1] > after)
        return [self.rows[k] for k in keys[:limit]]


class FakeUnitOfWork:
    """Commits by moving raised events to `published`; nothing else happens."""

    def __init__(self) -> None:
        self.governments = FakeGovernments()
        self.agencies = FakeAgencies()
        self.clock = ManualClock()
        self.published: list[DomainEvent] = []
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self.governments.seen = []
        self.agencies.seen = []
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1
        for aggregate in [*self.governments.seen, *self.agencies.seen]:
            self.published.extend(aggregate.events)
            aggregate.events.clear()
