"""Recurring complaints: complaints clustered by government, year, village and category, offered as proposals.

Planning learns of complaints only from complaints' ComplaintReceived events, which carry no
complainant identity; a cluster keeps counts and times, never a ticket or a person. A cluster
that reaches the threshold in a year is offered to planners as a proposal for the next year;
accepting it creates a proposal (under review) linked to the cluster, once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from grms_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument

from grms_planning.domain.proposal import Proposal, ProposalCategory

__all__ = [
    "CATEGORY_OF_COMPLAINT",
    "RECURRING_PROPOSER",
    "ComplaintCluster",
    "check_cluster_key",
    "proposal_from_cluster",
]

_GOV_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
_VILLAGE_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,59}$")

# Complaints' default categories (grms_complaints.domain.categories) by the proposal field they
# belong to; a category a deployment adds falls under "other" until it is listed here.
CATEGORY_OF_COMPLAINT: dict[str, ProposalCategory] = {
    "jalan_rusak": ProposalCategory.INFRASTRUCTURE,
    "penerangan_jalan": ProposalCategory.INFRASTRUCTURE,
    "banjir_drainase": ProposalCategory.ENVIRONMENT,
    "sampah_lingkungan": ProposalCategory.ENVIRONMENT,
    "layanan_kesehatan": ProposalCategory.HEALTH,
    "pendidikan": ProposalCategory.EDUCATION,
    "administrasi_perizinan": ProposalCategory.GOVERNANCE,
    "bantuan_sosial": ProposalCategory.SOCIAL,
}

# Who "proposes" a proposal born of complaints: the complaints channel, never a complainant.
RECURRING_PROPOSER = "Pengaduan masyarakat berulang (LaporGub)"


@dataclass
class ComplaintCluster:
    """The complaints of one category in one village of one government in one calendar year (WIB)."""

    government_code: str
    year: int
    village_code: str
    category_code: str
    complaint_count: int
    first_received_at: dt.datetime
    last_received_at: dt.datetime
    proposal_public_id: str
    version: int

    @classmethod
    def first(
        cls, government_code: str, year: int, village_code: str, category_code: str, *, at: dt.datetime
    ) -> ComplaintCluster:
        """A cluster with its first complaint."""
        return cls(government_code, year, village_code, category_code, 1, at, at, "", 1)

    def record(self, at: dt.datetime) -> None:
        """Count one more complaint received at `at`."""
        self.complaint_count += 1
        self.first_received_at = min(self.first_received_at, at)
        self.last_received_at = max(self.last_received_at, at)
        self.version += 1

    def offered(self, threshold: int) -> bool:
        """Whether planners are offered this cluster: at the threshold and not yet proposed."""
        return self.complaint_count >= threshold and not self.proposal_public_id

    def link(self, proposal_public_id: str, *, threshold: int) -> None:
        """Link the proposal created from this cluster; a cluster becomes a proposal once."""
        if self.proposal_public_id:
            raise FailedPrecondition(
                f"the complaints of {self.category_code} in {self.village_code} ({self.year}) "
                f"were already proposed as {self.proposal_public_id}"
            )
        if self.complaint_count < threshold:
            raise FailedPrecondition(
                f"{self.complaint_count} complaints of {self.category_code} in {self.village_code} ({self.year}) "
                f"are below the threshold of {threshold}"
            )
        self.proposal_public_id = proposal_public_id
        self.version += 1


def check_cluster_key(government_code: str, year: int, village_code: str, category_code: str) -> None:
    """InvalidArgument naming each malformed part of a cluster's key."""
    violations: list[FieldViolation] = []
    if not _GOV_CODE.match(government_code):
        violations.append(FieldViolation("government_code", 'must be a region code like "33.74"'))
    if not 2000 <= year <= 2100:
        violations.append(FieldViolation("year", "must be a year like 2025"))
    if not _VILLAGE_CODE.match(village_code):
        violations.append(FieldViolation("village_code", 'must be a village code like "33.74.01.1001"'))
    if not _CATEGORY.match(category_code):
        violations.append(FieldViolation("category_code", "must be a complaint category code like 'jalan_rusak'"))
    if violations:
        raise InvalidArgument(violations)


def proposal_from_cluster(
    cluster: ComplaintCluster, *, threshold: int, village_name: str = "", now: dt.datetime
) -> Proposal:
    """The proposal (under review) a planner accepts from a cluster, for the year after the complaints."""
    place = f"{village_name} ({cluster.village_code})" if village_name else cluster.village_code
    category = CATEGORY_OF_COMPLAINT.get(cluster.category_code, ProposalCategory.OTHER)
    proposal = Proposal.submit(
        government_code=cluster.government_code,
        village_code=cluster.village_code,
        category=category,
        title=f"Pengaduan berulang {cluster.category_code} di {cluster.village_code}"[:200],
        description=(
            f"{cluster.complaint_count} pengaduan masyarakat berkategori {cluster.category_code} dari desa/kelurahan "
            f"{place} diterima pada tahun {cluster.year} (ambang {threshold}). Diusulkan untuk rencana tahun "
            f"{cluster.year + 1}."
        ),
        proposer_name=RECURRING_PROPOSER,
        proposer_contact="",
        now=now,
    )
    proposal.review(now=now, note=f"Dari klaster pengaduan berulang {cluster.year}")
    return proposal
