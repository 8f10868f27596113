"""Keeping and reading the copy: event handlers that apply budgeting's facts, and queries.

Budgeting's events carry the whole resource and its version, so applying them is
order-insensitive: an agency change is applied only when its version is newer than the
copy's, and a redelivered or late event changes nothing.
"""

from __future__ import annotations

from grms.budgeting.v1 import agency_pb2, events_pb2, government_pb2
from grms_kit.clock import Clock
from grms_kit.consumer import EventContext, Handlers
from grms_kit.db import Database
from grms_kit.errors import NotFound
from grms_kit.paging import Page
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from grms_reference.tables import ReferenceTables

__all__ = ["ReferenceReplica"]


class ReferenceReplica:
    """One service's copy of the reference data: its event handlers and its queries."""

    def __init__(self, db: Database, tables: ReferenceTables, clock: Clock) -> None:
        self.db = db
        self.t = tables
        self.clock = clock
        self.handlers = Handlers(source="budgeting")
        self.handlers.on(events_pb2.GovernmentRegistered)(self._government_registered)
        self.handlers.on(events_pb2.AgencyRegistered)(self._agency_changed)
        self.handlers.on(events_pb2.AgencyUpdated)(self._agency_changed)

    def _government_registered(
        self, session: Session, event: events_pb2.GovernmentRegistered, ctx: EventContext
    ) -> None:
        g = event.government
        t = self.t.government
        if session.execute(select(t.c.code).where(t.c.code == g.code)).first():
            return
        session.execute(
            insert(t).values(code=g.code, name=g.name, payload=g.SerializeToString(), synced_at=self.clock.now())
        )

    def _agency_changed(
        self, session: Session, event: events_pb2.AgencyRegistered | events_pb2.AgencyUpdated, ctx: EventContext
    ) -> None:
        a = event.agency
        t = self.t.agency
        key = (t.c.government_code == a.government_code, t.c.code == a.code)
        values = {"name": a.name, "version": a.version, "payload": a.SerializeToString(), "synced_at": self.clock.now()}
        current = session.execute(select(t.c.version).where(*key)).scalar_one_or_none()
        if current is None:
            session.execute(insert(t).values(government_code=a.government_code, code=a.code, **values))
        elif a.version > current:
            session.execute(update(t).where(*key).values(**values))

    # Queries, run on the database thread through Database.run.

    def list_governments(self, within: str, page: Page) -> tuple[list[government_pb2.Government], str]:
        """Known governments ordered by code, optionally `within` a province."""
        t = self.t.government
        query = select(t.c.code, t.c.payload).where(t.c.code > page.after()).order_by(t.c.code)
        if within:
            query = query.where(or_(t.c.code == within, t.c.code.like(f"{within}.%")))
        with self.db.engine.connect() as conn:
            rows = conn.execute(query.limit(page.limit() + 1)).all()
        items, token = page.cut(rows, lambda r: r.code)
        return [government_pb2.Government.FromString(r.payload) for r in items], token

    def list_agencies(self, government_code: str, page: Page) -> tuple[list[agency_pb2.Agency], str]:
        """Known agencies of a government ordered by code."""
        t = self.t.agency
        query = (
            select(t.c.code, t.c.payload)
            .where(t.c.government_code == government_code, t.c.code > page.after())
            .order_by(t.c.code)
            .limit(page.limit() + 1)
        )
        with self.db.engine.connect() as conn:
            rows = conn.execute(query).all()
        items, token = page.cut(rows, lambda r: r.code)
        return [agency_pb2.Agency.FromString(r.payload) for r in items], token

    def get_agency(self, government_code: str, code: str) -> agency_pb2.Agency:
        """The copy of one agency, or NotFound (not registered, or not arrived yet)."""
        t = self.t.agency
        with self.db.engine.connect() as conn:
            payload = conn.execute(
                select(t.c.payload).where(t.c.government_code == government_code, t.c.code == code)
            ).scalar_one_or_none()
        if payload is None:
            raise NotFound(f"agency {code} of government {government_code} is not known here")
        return agency_pb2.Agency.FromString(payload)
