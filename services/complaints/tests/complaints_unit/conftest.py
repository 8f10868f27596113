"""Shared builders for complaints's unit tests."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_complaints.adapters.calendar import sla_policy
from grms_complaints.domain.model import Channel, Complainant, ComplaintClass, Location
from grms_complaints.domain.pins import PinGuard, PinHasher
from grms_complaints.domain.sla import JAKARTA, SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.clock import ManualClock
from grms_kit.identity import Identity, Role

from .fakes import FakeUnitOfWork

OFFICER = Identity(sub="officer-33", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33")
AGENCY = Identity(
    sub="dinkes-head", roles=frozenset({Role.AGENCY_HEAD}), government="33", agencies=frozenset({"DINKES"})
)
NAME, NIK, PHONE, EMAIL = "Siti Rahayu", "3374015512900003", "0812-2555-0101", "siti.rahayu@example.id"
# The pepper of the unit tests: a real keyed hash, under a key of the tests' own.
PINS = PinGuard(PinHasher(b"complaints-unit-test-pepper-0001"))
# Friday 9 May 2025, 16:00 WIB: Monday 12 May is Waisak, Tuesday 13 May cuti bersama.
FRIDAY_1600_WIB = dt.datetime(2025, 5, 9, 16, 0, tzinfo=JAKARTA).astimezone(dt.UTC)


@pytest.fixture
def sla() -> SlaPolicy:
    return sla_policy([dt.date(2025, 5, 13)])


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(ManualClock(FRIDAY_1600_WIB))


def file_cmd(**changes: object) -> handlers.FileComplaint:
    values: dict[str, object] = {
        "government_code": "33",
        "complaint_class": ComplaintClass.PENGADUAN,
        "category_code": "jalan_rusak",
        "channel": Channel.WEB,
        "title": "Jalan berlubang di Jl. Pemuda",
        "description": f"Lubang besar di depan kantor pos, sudah tiga minggu. Hubungi saya di {PHONE}.",
        "location": Location(latitude=-6.9826, longitude=110.4098, address="Jl. Pemuda, Semarang"),
        "complainant": Complainant(reporter_ref="", name=NAME, nik=NIK, phone=PHONE, email=EMAIL),
    }
    values.update(changes)
    return handlers.FileComplaint(**values)  # type: ignore[arg-type]


def filed(uow: FakeUnitOfWork, sla: SlaPolicy, **changes: object) -> handlers.FiledComplaint:
    return handlers.file_complaint(file_cmd(**changes), uow=uow, pins=PINS, sla=sla)
