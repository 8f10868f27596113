"""Citizens' proposals: anyone submits and follows one by its public id; planners review them.

Submitting and reading the public view need no login. Reviewing, accepting, rejecting and
listing (which shows the proposer's name and contact) are for planners and admins of the
proposal's government.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from grms_kit.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from grms_kit.identity import Identity, Role
from grms_kit.paging import Page

from grms_planning.domain.proposal import PUBLIC_ID_PATTERN, Proposal, ProposalCategory, ProposalStatus
from grms_planning.service_layer.ports import UnitOfWork

__all__ = [
    "AcceptProposal",
    "RejectProposal",
    "ReviewProposal",
    "SubmitProposal",
    "accept_proposal",
    "get_proposal",
    "get_public_proposal",
    "list_proposals",
    "reject_proposal",
    "review_proposal",
    "submit_proposal",
]

_SEP = "\t"


@dataclass(frozen=True)
class SubmitProposal:
    government_code: str
    category: ProposalCategory
    title: str
    description: str
    proposer_name: str
    proposer_contact: str = ""
    village_code: str = ""


@dataclass(frozen=True)
class ReviewProposal:
    public_id: str
    note: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class AcceptProposal:
    public_id: str
    sub_activity_id: str
    note: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class RejectProposal:
    public_id: str
    reason: str
    expected_version: int | None = None


def _staff(actor: Identity, government_code: str) -> None:
    actor.require_role(Role.PLANNER, Role.ADMIN)
    actor.require_government(government_code)


def _find(uow: UnitOfWork, public_id: str) -> Proposal:
    public_id = public_id.strip().upper()
    found = uow.proposals.get(public_id) if PUBLIC_ID_PATTERN.match(public_id) else None
    if found is None:
        raise NotFound(f"proposal {public_id} does not exist")
    return found


def _load_for_staff(uow: UnitOfWork, public_id: str, actor: Identity, expected_version: int | None) -> Proposal:
    proposal = _find(uow, public_id)
    try:
        _staff(actor, proposal.government_code)
    except PermissionDenied:
        if actor.has_role(Role.PLANNER, Role.ADMIN):
            # Another government's proposal is reported as missing, so staff cannot probe ids.
            raise NotFound(f"proposal {proposal.public_id} does not exist") from None
        raise
    if expected_version is not None and expected_version != proposal.version:
        raise Conflict(f"proposal {proposal.public_id} is at version {proposal.version}, not {expected_version}")
    return proposal


def submit_proposal(cmd: SubmitProposal, *, uow: UnitOfWork) -> Proposal:
    """Record a citizen's proposal to a known government; no login needed. Raises ProposalStatusChanged."""
    with uow:
        proposal = Proposal.submit(
            government_code=cmd.government_code,
            village_code=cmd.village_code,
            category=cmd.category,
            title=cmd.title,
            description=cmd.description,
            proposer_name=cmd.proposer_name,
            proposer_contact=cmd.proposer_contact,
            now=uow.clock.now(),
        )
        if not uow.reference.government_known(proposal.government_code):
            raise InvalidArgument.field("government_code", f"government {proposal.government_code} is not known")
        uow.proposals.add(proposal)
        uow.commit()
        return proposal


def get_public_proposal(public_id: str, *, uow: UnitOfWork) -> Proposal:
    """A proposal by its public id, for anyone: callers must show only its public parts."""
    with uow:
        return _find(uow, public_id)


def get_proposal(public_id: str, *, uow: UnitOfWork, actor: Identity) -> Proposal:
    """A proposal with the proposer's personal data, for staff of its government."""
    with uow:
        return _load_for_staff(uow, public_id, actor, None)


def _change(uow: UnitOfWork, proposal: Proposal, previous: int) -> Proposal:
    uow.proposals.save(proposal, previous_version=previous)
    uow.commit()
    return proposal


def review_proposal(cmd: ReviewProposal, *, uow: UnitOfWork, actor: Identity) -> Proposal:
    """Take a submitted proposal under review."""
    with uow:
        proposal = _load_for_staff(uow, cmd.public_id, actor, cmd.expected_version)
        previous = proposal.version
        proposal.review(now=uow.clock.now(), note=cmd.note)
        return _change(uow, proposal, previous)


def accept_proposal(cmd: AcceptProposal, *, uow: UnitOfWork, actor: Identity) -> Proposal:
    """Accept a proposal under review, linked to a sub-activity of the same government."""
    with uow:
        proposal = _load_for_staff(uow, cmd.public_id, actor, cmd.expected_version)
        sub_activity = uow.sub_activities.get(cmd.sub_activity_id.strip()) if cmd.sub_activity_id.strip() else None
        if cmd.sub_activity_id.strip() and (
            sub_activity is None or sub_activity.government_code != proposal.government_code
        ):
            raise FailedPrecondition(
                f"sub-activity {cmd.sub_activity_id} does not exist in government {proposal.government_code}"
            )
        previous = proposal.version
        proposal.accept(cmd.sub_activity_id.strip(), now=uow.clock.now(), note=cmd.note)
        return _change(uow, proposal, previous)


def reject_proposal(cmd: RejectProposal, *, uow: UnitOfWork, actor: Identity) -> Proposal:
    """Reject a proposal, with a public reason."""
    with uow:
        proposal = _load_for_staff(uow, cmd.public_id, actor, cmd.expected_version)
        previous = proposal.version
        proposal.reject(cmd.reason, now=uow.clock.now())
        return _change(uow, proposal, previous)


def list_proposals(
    government_code: str, status: ProposalStatus | None, page: Page, *, uow: UnitOfWork, actor: Identity
) -> tuple[list[Proposal], str]:
    """A government's proposals, oldest first, optionally of one status; with the next page token."""
    _staff(actor, government_code)
    after: tuple[dt.datetime, str] | None = None
    token = page.after()
    if token:
        parts = token.split(_SEP)
        try:
            if len(parts) != 2:
                raise ValueError(token)
            after = (dt.datetime.fromisoformat(parts[0]), parts[1])
        except ValueError:
            raise InvalidArgument.field("page.page_token", "is not a token of this list") from None
    with uow:
        items = uow.proposals.list(government_code, status=status, after=after, limit=page.limit() + 1)
    return page.cut(items, lambda p: _SEP.join((p.created_at.isoformat(), p.public_id)))
