"""Recurring complaints: clusters by government, WIB year, village and category; a proposal once per cluster."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_kit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from grms_planning.domain.proposal import ProposalCategory, ProposalStatus, ProposalStatusChanged
from grms_planning.domain.recurring import RECURRING_PROPOSER
from grms_planning.service_layer import recurring

from .fakes import FakeUnitOfWork
from .test_handlers import PLANNER, SEMARANG

VILLAGE = "33.74.01.1001"
JAN = dt.datetime(2025, 1, 10, 3, 0, tzinfo=dt.UTC)


def _count(
    uow: FakeUnitOfWork, n: int, *, village: str = VILLAGE, category: str = "jalan_rusak", at: dt.datetime = JAN
) -> None:
    for i in range(n):
        recurring.record_complaint("33", village, category, at + dt.timedelta(days=i), clusters=uow.clusters)


def test_complaints_cluster_by_village_category_and_wib_year() -> None:
    uow = FakeUnitOfWork()
    _count(uow, 3)
    _count(uow, 2, category="banjir_drainase")
    _count(uow, 1, village="33.74.01.1002")
    # 31 Dec 2024 20:00 UTC is already 1 Jan 2025 in WIB.
    recurring.record_complaint(
        "33", VILLAGE, "jalan_rusak", dt.datetime(2024, 12, 31, 20, 0, tzinfo=dt.UTC), clusters=uow.clusters
    )
    assert recurring.record_complaint("33", "", "jalan_rusak", JAN, clusters=uow.clusters) is None
    counts = {(k[1], k[2], k[3]): c.complaint_count for k, c in uow.clusters.rows.items()}
    assert counts == {
        (2025, VILLAGE, "jalan_rusak"): 4,
        (2025, VILLAGE, "banjir_drainase"): 2,
        (2025, "33.74.01.1002", "jalan_rusak"): 1,
    }
    cluster = uow.clusters.rows[("33", 2025, VILLAGE, "jalan_rusak")]
    assert cluster.first_received_at == dt.datetime(2024, 12, 31, 20, 0, tzinfo=dt.UTC)
    assert cluster.last_received_at == JAN + dt.timedelta(days=2)


def test_only_clusters_at_the_threshold_are_listed_largest_first() -> None:
    uow = FakeUnitOfWork()
    _count(uow, 6)
    _count(uow, 5, category="banjir_drainase")
    _count(uow, 4, category="pendidikan")
    listed = recurring.list_recurring("33", 2025, threshold=5, uow=uow, actor=PLANNER)
    assert [(c.category_code, c.complaint_count) for c in listed] == [("jalan_rusak", 6), ("banjir_drainase", 5)]
    assert recurring.list_recurring("33", 2024, threshold=5, uow=uow, actor=PLANNER) == []
    with pytest.raises(PermissionDenied):
        recurring.list_recurring("33", 2025, threshold=5, uow=uow, actor=SEMARANG)


def test_a_cluster_becomes_one_proposal_under_review_for_the_next_year() -> None:
    uow = FakeUnitOfWork()
    _count(uow, 5)
    _count(uow, 4, category="pendidikan")
    cmd = recurring.ProposeFromComplaints("33", 2025, VILLAGE, "jalan_rusak")
    proposal, cluster = recurring.propose_from_complaints(cmd, threshold=5, uow=uow, actor=PLANNER)
    assert cluster.proposal_public_id == proposal.public_id
    assert proposal.status == ProposalStatus.UNDER_REVIEW and proposal.category == ProposalCategory.INFRASTRUCTURE
    assert proposal.village_code == VILLAGE and proposal.proposer_name == RECURRING_PROPOSER
    assert proposal.proposer_contact == "" and "2026" in proposal.description and "5 pengaduan" in proposal.description
    assert [type(e) for e in uow.published] == [ProposalStatusChanged, ProposalStatusChanged]
    assert uow.proposals.rows[proposal.public_id].status == ProposalStatus.UNDER_REVIEW
    assert not uow.clusters.rows[("33", 2025, VILLAGE, "jalan_rusak")].offered(5)

    with pytest.raises(FailedPrecondition, match="already proposed"):
        recurring.propose_from_complaints(cmd, threshold=5, uow=uow, actor=PLANNER)
    with pytest.raises(FailedPrecondition, match="below the threshold"):
        recurring.propose_from_complaints(
            recurring.ProposeFromComplaints("33", 2025, VILLAGE, "pendidikan"), threshold=5, uow=uow, actor=PLANNER
        )
    with pytest.raises(NotFound):
        recurring.propose_from_complaints(
            recurring.ProposeFromComplaints("33", 2025, VILLAGE, "sampah_lingkungan"),
            threshold=5,
            uow=uow,
            actor=PLANNER,
        )
    with pytest.raises(InvalidArgument) as error:
        recurring.propose_from_complaints(
            recurring.ProposeFromComplaints("33", 1900, "33.74", "Jalan Rusak"), threshold=5, uow=uow, actor=PLANNER
        )
    assert {v.field for v in error.value.violations} == {"year", "village_code", "category_code"}
    assert len(uow.proposals.rows) == 1
