"""The reference copy applies budgeting's facts in any order, each at most once in effect."""

from __future__ import annotations

import datetime as dt

import pytest
from grms.budgeting.v1 import agency_pb2, events_pb2, government_pb2
from grms_kit.clock import ManualClock
from grms_kit.consumer import EventContext
from grms_kit.db import Database
from grms_kit.errors import NotFound
from grms_kit.paging import Page
from grms_reference.replica import ReferenceReplica
from grms_reference.tables import add_reference_tables
from sqlalchemy import MetaData


@pytest.fixture
def replica(database_url: str):  # type: ignore[no-untyped-def]
    metadata = MetaData()
    tables = add_reference_tables(metadata)
    db = Database(database_url)
    metadata.create_all(db.engine)
    yield ReferenceReplica(db, tables, ManualClock())
    db.dispose()


def _apply(replica: ReferenceReplica, event) -> None:  # type: ignore[no-untyped-def]
    message_cls, handler = replica.handlers.lookup(event.DESCRIPTOR.full_name)  # type: ignore[misc]
    ctx = EventContext("id", event.DESCRIPTOR.full_name, "s", "grms-budgeting", "33", dt.datetime.now(dt.UTC), 1)
    with replica.db.session() as session, session.begin():
        handler(session, message_cls.FromString(event.SerializeToString()), ctx)


def _agency(version: int, name: str) -> agency_pb2.Agency:
    return agency_pb2.Agency(government_code="33", code="4.01", name=name, version=version)


def test_late_and_repeated_events_never_roll_the_copy_back(replica: ReferenceReplica) -> None:
    _apply(replica, events_pb2.AgencyUpdated(agency=_agency(3, "Bappeda v3"), changed_fields=["name"]))
    _apply(replica, events_pb2.AgencyRegistered(agency=_agency(1, "Bappeda v1")))
    _apply(replica, events_pb2.AgencyUpdated(agency=_agency(2, "Bappeda v2"), changed_fields=["name"]))
    _apply(replica, events_pb2.AgencyUpdated(agency=_agency(3, "Bappeda v3"), changed_fields=["name"]))
    copy = replica.get_agency("33", "4.01")
    assert (copy.version, copy.name) == (3, "Bappeda v3")
    _apply(replica, events_pb2.AgencyUpdated(agency=_agency(4, "Bappeda v4"), changed_fields=["name"]))
    assert replica.get_agency("33", "4.01").name == "Bappeda v4"


def test_governments_and_agencies_are_listed_from_the_copy(replica: ReferenceReplica) -> None:
    for code, name in [("33", "Provinsi Jawa Tengah"), ("33.74", "Kota Semarang"), ("33.01", "Kabupaten Cilacap")]:
        event = events_pb2.GovernmentRegistered(government=government_pb2.Government(code=code, name=name))
        _apply(replica, event)
        _apply(replica, event)
    items, token = replica.list_governments("33", Page(size=2))
    rest, _ = replica.list_governments("33", Page(size=2, token=token))
    assert [g.code for g in items + rest] == ["33", "33.01", "33.74"]
    with pytest.raises(NotFound):
        replica.get_agency("33", "none")
