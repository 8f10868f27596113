"""Budgeting use cases for the reference data: register and change governments and agencies.

Each handler takes a command and, keyword-only, the unit of work and the caller; it checks
the caller's right to act, loads, applies the domain rule and commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grms_kit.errors import AlreadyExists, NotFound
from grms_kit.identity import Identity, Role
from grms_kit.paging import Page

from grms_budgeting.domain.model import Agency, AgencyHead, ContactChannel, Government, GovernmentLevel
from grms_budgeting.service_layer.ports import UnitOfWork

__all__ = [
    "RegisterAgency",
    "RegisterGovernment",
    "UpdateAgency",
    "get_agency",
    "get_government",
    "list_agencies",
    "list_governments",
    "register_agency",
    "register_government",
    "update_agency",
]


@dataclass(frozen=True)
class RegisterGovernment:
    code: str
    name: str
    level: GovernmentLevel | None = None


@dataclass(frozen=True)
class RegisterAgency:
    government_code: str
    code: str
    name: str
    short_name: str = ""
    head: AgencyHead | None = None
    contacts: list[ContactChannel] = field(default_factory=list)


@dataclass(frozen=True)
class UpdateAgency:
    government_code: str
    code: str
    changes: dict[str, object]
    expected_version: int | None = None


def _manager(actor: Identity, government_code: str) -> None:
    actor.require_role(Role.ADMIN)
    actor.require_government(government_code)


def register_government(cmd: RegisterGovernment, *, uow: UnitOfWork, actor: Identity) -> Government:
    """Register a regional government; its province must exist first."""
    _manager(actor, cmd.code.strip())
    with uow:
        code = cmd.code.strip()
        if uow.governments.get(code) is not None:
            raise AlreadyExists(f"government {code} is already registered")
        parent = uow.governments.get(code.split(".")[0]) if "." in code else None
        government = Government.register(code, cmd.name, cmd.level, parent=parent, now=uow.clock.now())
        uow.governments.add(government)
        uow.commit()
        return government


def get_government(code: str, *, uow: UnitOfWork) -> Government:
    """One government, or NotFound."""
    with uow:
        government = uow.governments.get(code)
        if government is None:
            raise NotFound(f"government {code} is not registered")
        return government


def list_governments(within: str, page: Page, *, uow: UnitOfWork) -> tuple[list[Government], str]:
    """Governments ordered by code, optionally only `within` and below; with the next token."""
    with uow:
        items = uow.governments.list(within=within, after=page.after(), limit=page.limit() + 1)
    return page.cut(items, lambda g: g.code)


def register_agency(cmd: RegisterAgency, *, uow: UnitOfWork, actor: Identity) -> Agency:
    """Register an agency of an existing government."""
    _manager(actor, cmd.government_code)
    with uow:
        government = uow.governments.get(cmd.government_code)
        if government is None:
            raise NotFound(f"government {cmd.government_code} is not registered")
        if uow.agencies.get(government.code, cmd.code.strip()) is not None:
            raise AlreadyExists(f"agency {cmd.code.strip()} already exists in government {government.code}")
        agency = Agency.register(
            government,
            cmd.code,
            cmd.name,
            short_name=cmd.short_name,
            head=cmd.head,
            contacts=cmd.contacts,
            now=uow.clock.now(),
        )
        uow.agencies.add(agency)
        uow.commit()
        return agency


def update_agency(cmd: UpdateAgency, *, uow: UnitOfWork, actor: Identity) -> Agency:
    """Change an agency; a stale expected_version is a Conflict, never a silent overwrite."""
    _manager(actor, cmd.government_code)
    with uow:
        agency = uow.agencies.get(cmd.government_code, cmd.code)
        if agency is None:
            raise NotFound(f"agency {cmd.code} of government {cmd.government_code} does not exist")
        previous = agency.version
        if agency.update(cmd.changes, expected_version=cmd.expected_version, now=uow.clock.now()):
            uow.agencies.save(agency, previous_version=previous)
            uow.commit()
        return agency


def get_agency(government_code: str, code: str, *, uow: UnitOfWork) -> Agency:
    """One agency, or NotFound."""
    with uow:
        agency = uow.agencies.get(government_code, code)
        if agency is None:
            raise NotFound(f"agency {code} of government {government_code} does not exist")
        return agency


def list_agencies(government_code: str, page: Page, *, uow: UnitOfWork) -> tuple[list[Agency], str]:
    """Agencies of a government ordered by code; with the next token."""
    with uow:
        if uow.governments.get(government_code) is None:
            raise NotFound(f"government {government_code} is not registered")
        items = uow.agencies.list(government_code, after=page.after(), limit=page.limit() + 1)
    return page.cut(items, lambda a: a.code)
