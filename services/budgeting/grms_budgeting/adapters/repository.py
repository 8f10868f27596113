"""SQL repositories for governments and agencies (SQLAlchemy Core, explicit row mapping)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from grms_kit.errors import Conflict
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from grms_budgeting.adapters.tables import agency as agency_table
from grms_budgeting.adapters.tables import government as government_table
from grms_budgeting.domain.model import Agency, AgencyHead, ContactChannel, ContactKind, Government, GovernmentLevel

__all__ = ["SqlAgencyRepository", "SqlGovernmentRepository"]


class SqlGovernmentRepository:
    """Governments in the budgeting database."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[Government] = []

    def add(self, government: Government) -> None:
        """Insert a new government."""
        self.session.execute(
            insert(government_table).values(
                code=government.code,
                name=government.name,
                level=government.level.value,
                parent_code=government.parent_code or None,
                created_at=government.created_at,
            )
        )
        self.seen.append(government)

    def get(self, code: str) -> Government | None:
        """The government with `code`, if any."""
        row = self.session.execute(select(government_table).where(government_table.c.code == code)).first()
        return _government(row._mapping) if row else None

    def list(self, *, within: str, after: str, limit: int) -> list[Government]:
        """Governments ordered by code, after `after`, optionally `within` a province."""
        t = government_table
        query = select(t).where(t.c.code > after).order_by(t.c.code).limit(limit)
        if within:
            query = query.where(or_(t.c.code == within, t.c.code.like(f"{within}.%")))
        return [_government(r._mapping) for r in self.session.execute(query)]


class SqlAgencyRepository:
    """Agencies in the budgeting database, saved with optimistic concurrency."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[Agency] = []

    def add(self, agency: Agency) -> None:
        """Insert a new agency."""
        self.session.execute(insert(agency_table).values(**_agency_row(agency)))
        self.seen.append(agency)

    def get(self, government_code: str, code: str) -> Agency | None:
        """The agency, if any."""
        t = agency_table
        row = self.session.execute(select(t).where(t.c.government_code == government_code, t.c.code == code)).first()
        return _agency(row._mapping) if row else None

    def save(self, agency: Agency, *, previous_version: int) -> None:
        """Write a changed agency; Conflict when someone else saved it since it was loaded."""
        t = agency_table
        result = self.session.execute(
            update(t)
            .where(t.c.government_code == agency.government_code, t.c.code == agency.code)
            .where(t.c.version == previous_version)
            .values(**_agency_row(agency))
        )
        if result.rowcount != 1:
            raise Conflict(f"agency {agency.code} was changed by someone else; reload and try again")
        self.seen.append(agency)

    def list(self, government_code: str, *, after: str, limit: int) -> list[Agency]:
        """Agencies of a government ordered by code, after `after`."""
        t = agency_table
        query = (
            select(t).where(t.c.government_code == government_code, t.c.code > after).order_by(t.c.code).limit(limit)
        )
        return [_agency(r._mapping) for r in self.session.execute(query)]


def _government(row: Any) -> Government:
    return Government(
        code=row["code"],
        name=row["name"],
        level=GovernmentLevel(row["level"]),
        parent_code=row["parent_code"] or "",
        created_at=row["created_at"],
    )


def _agency_row(agency: Agency) -> dict[str, Any]:
    return {
        "government_code": agency.government_code,
        "code": agency.code,
        "name": agency.name,
        "short_name": agency.short_name,
        "head": None
        if agency.head is None
        else {"name": agency.head.name, "title": agency.head.title, "nip": agency.head.nip},
        "contacts": [
            {
                "kind": c.kind.value,
                "value": c.value,
                "verified": c.verified,
                "verified_at": c.verified_at.isoformat() if c.verified_at else None,
            }
            for c in agency.contacts
        ],
        "version": agency.version,
        "created_at": agency.created_at,
        "updated_at": agency.updated_at,
    }


def _agency(row: Any) -> Agency:
    head = row["head"]
    return Agency(
        government_code=row["government_code"],
        code=row["code"],
        name=row["name"],
        short_name=row["short_name"],
        head=AgencyHead(**head) if head else None,
        contacts=[
            ContactChannel(
                kind=ContactKind(c["kind"]),
                value=c["value"],
                verified=c["verified"],
                verified_at=dt.datetime.fromisoformat(c["verified_at"]) if c["verified_at"] else None,
            )
            for c in row["contacts"]
        ],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
