"""Recurring complaints: counting complaints' events into clusters, and turning a cluster into a proposal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from grms_kit.errors import InvalidArgument, NotFound
from grms_kit.identity import Identity, Role

from grms_planning.domain.proposal import Proposal
from grms_planning.domain.recurring import ComplaintCluster, check_cluster_key, proposal_from_cluster
from grms_planning.service_layer.ports import ComplaintClusterRepository, UnitOfWork

__all__ = ["ProposeFromComplaints", "list_recurring", "propose_from_complaints", "record_complaint"]

WIB = ZoneInfo("Asia/Jakarta")
# A page of the planners' list: the largest clusters first; more would not be read anyway.
LIST_LIMIT = 500


@dataclass(frozen=True)
class ProposeFromComplaints:
    government_code: str
    year: int
    village_code: str
    category_code: str


def record_complaint(
    government_code: str,
    village_code: str,
    category_code: str,
    received_at: dt.datetime,
    *,
    clusters: ComplaintClusterRepository,
) -> ComplaintCluster | None:
    """Count a received complaint into its cluster (the year is the WIB year); None when it has no village.

    Runs inside the consumer's transaction (inbox row and count commit together). A complaint
    without a village (unknown, or confidential: complaints sends no place then) is not clustered.
    """
    if not village_code:
        return None
    year = received_at.astimezone(WIB).year
    found = clusters.get(government_code, year, village_code, category_code)
    if found is None:
        cluster = ComplaintCluster.first(government_code, year, village_code, category_code, at=received_at)
        clusters.add(cluster)
        return cluster
    previous = found.version
    found.record(received_at)
    clusters.save(found, previous_version=previous)
    return found


def _planner(actor: Identity, government_code: str) -> None:
    actor.require_role(Role.PLANNER, Role.ADMIN)
    actor.require_government(government_code)


def list_recurring(
    government_code: str, year: int, *, threshold: int, uow: UnitOfWork, actor: Identity
) -> list[ComplaintCluster]:
    """The clusters of a government's year at or above `threshold`, largest first (proposed ones too)."""
    if not 2000 <= year <= 2100:
        raise InvalidArgument.field("year", "must be a year like 2025")
    _planner(actor, government_code)
    with uow:
        return uow.clusters.list(government_code, year, min_count=threshold, limit=LIST_LIMIT)


def propose_from_complaints(
    cmd: ProposeFromComplaints, *, threshold: int, uow: UnitOfWork, actor: Identity
) -> tuple[Proposal, ComplaintCluster]:
    """Create the proposal (under review) of a cluster at the threshold and link the two, in one transaction."""
    check_cluster_key(cmd.government_code, cmd.year, cmd.village_code, cmd.category_code)
    _planner(actor, cmd.government_code)
    with uow:
        cluster = uow.clusters.get(cmd.government_code, cmd.year, cmd.village_code, cmd.category_code)
        if cluster is None:
            raise NotFound(
                f"no complaints of {cmd.category_code} in {cmd.village_code} in {cmd.year} are known to planning"
            )
        proposal = proposal_from_cluster(cluster, threshold=threshold, now=uow.clock.now())
        previous = cluster.version
        cluster.link(proposal.public_id, threshold=threshold)
        uow.clusters.save(cluster, previous_version=previous)
        uow.proposals.add(proposal)
        uow.commit()
        return proposal, cluster
