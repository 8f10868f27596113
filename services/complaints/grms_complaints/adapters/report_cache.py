"""What duplicate detection reads of recent complaints, kept in memory by ticket id.

Every filing compares the new complaint with up to a hundred recent neighbours; reading their
texts, times and places from the database and rebuilding them was most of the intake's cost.
What a `Report` holds never changes after filing (text, place, time, government, category:
no use case edits them), so a cached copy is never stale; status and merges, which do change,
are filtered by the pool query itself. Bounded (least recently used go first) and shared by
the service's database threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from grms_complaints.domain.duplicates import Report

__all__ = ["ReportCache"]


class ReportCache:
    """Reports by ticket id, at most `size` of them."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._reports: OrderedDict[str, Report] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._reports)

    def get_many(self, ticket_ids: Iterable[str]) -> dict[str, Report]:
        """The cached reports among `ticket_ids`."""
        found: dict[str, Report] = {}
        with self._lock:
            for ticket_id in ticket_ids:
                report = self._reports.get(ticket_id)
                if report is not None:
                    self._reports.move_to_end(ticket_id)
                    found[ticket_id] = report
        return found

    def put(self, reports: Iterable[Report]) -> None:
        """Remember `reports` (a complaint whose filing rolls back is never asked for: harmless)."""
        with self._lock:
            for report in reports:
                self._reports[report.ticket_id] = report
                self._reports.move_to_end(report.ticket_id)
            while len(self._reports) > self.size:
                self._reports.popitem(last=False)
