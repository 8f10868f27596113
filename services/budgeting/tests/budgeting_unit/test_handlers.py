"""Budgeting's reference-data use cases, run for real on in-memory fakes."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_budgeting.domain.model import (
    AgencyHead,
    AgencyRegistered,
    AgencyUpdated,
    ContactChannel,
    ContactKind,
    GovernmentLevel,
    GovernmentRegistered,
)
from grms_budgeting.service_layer import handlers
from grms_kit.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from grms_kit.identity import ANONYMOUS, Identity, Role
from grms_kit.paging import Page

from .fakes import FakeUnitOfWork

ADMIN = Identity(sub="admin-33", roles=frozenset({Role.ADMIN}), government="33")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    handlers.register_government(handlers.RegisterGovernment("33", "Provinsi Jawa Tengah"), uow=uow, actor=ADMIN)
    return uow


def register(uow: FakeUnitOfWork, code: str = "1.02.0.00.0.00.01.0000", **extra: object):  # type: ignore[no-untyped-def]
    cmd = handlers.RegisterAgency(government_code="33", code=code, name="Dinas Kesehatan", **extra)  # type: ignore[arg-type]
    return handlers.register_agency(cmd, uow=uow, actor=ADMIN)


def test_levels_follow_the_official_codes(uow: FakeUnitOfWork) -> None:
    semarang = handlers.register_government(handlers.RegisterGovernment("33.74", "Kota Semarang"), uow=uow, actor=ADMIN)
    cilacap = handlers.register_government(
        handlers.RegisterGovernment("33.01", "Kabupaten Cilacap"), uow=uow, actor=ADMIN
    )
    assert semarang.level is GovernmentLevel.CITY and semarang.parent_code == "33"
    assert cilacap.level is GovernmentLevel.REGENCY
    assert [type(e) for e in uow.published] == [GovernmentRegistered] * 3


def test_a_regency_needs_its_province_first() -> None:
    uow = FakeUnitOfWork()
    actor = Identity(sub="a", roles=frozenset({Role.ADMIN}), government="34")
    with pytest.raises(InvalidArgument, match="province 34 must be registered first"):
        handlers.register_government(
            handlers.RegisterGovernment("34.01", "Kabupaten Kulon Progo"), uow=uow, actor=actor
        )


@pytest.mark.parametrize(
    ("code", "name", "level", "field"),
    [
        ("33.074", "Kota Semarang", None, "code"),
        ("33.7", "Kota Semarang", None, "code"),
        ("33.74", "", None, "name"),
        ("33.74", "Kota Semarang", GovernmentLevel.REGENCY, "level"),
    ],
)
def test_bad_governments_are_refused_by_field(
    uow: FakeUnitOfWork, code: str, name: str, level: GovernmentLevel | None, field: str
) -> None:
    with pytest.raises(InvalidArgument) as info:
        handlers.register_government(handlers.RegisterGovernment(code, name, level), uow=uow, actor=ADMIN)
    assert [v.field for v in info.value.violations] == [field]
    assert uow.governments.get(code) is None


def test_registering_a_code_twice_is_already_exists(uow: FakeUnitOfWork) -> None:
    with pytest.raises(AlreadyExists):
        handlers.register_government(handlers.RegisterGovernment("33", "Jawa Tengah"), uow=uow, actor=ADMIN)
    register(uow)
    with pytest.raises(AlreadyExists):
        register(uow)


def test_only_an_administrator_of_that_government_may_register() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(Unauthenticated):
        handlers.register_government(handlers.RegisterGovernment("33", "Jawa Tengah"), uow=uow, actor=ANONYMOUS)
    planner = Identity(sub="p", roles=frozenset({Role.PLANNER}), government="33")
    with pytest.raises(PermissionDenied):
        handlers.register_government(handlers.RegisterGovernment("33", "Jawa Tengah"), uow=uow, actor=planner)
    semarang_admin = Identity(sub="s", roles=frozenset({Role.ADMIN}), government="33.74")
    with pytest.raises(PermissionDenied):
        handlers.register_government(handlers.RegisterGovernment("33", "Jawa Tengah"), uow=uow, actor=semarang_admin)
    assert uow.commits == 0


def test_agency_contacts_are_normalised_and_verification_is_stamped(uow: FakeUnitOfWork) -> None:
    agency = register(
        uow,
        short_name="Dinkes",
        head=AgencyHead(name="dr.  Yunita   Dyah Suminar", title="Kepala Dinas", nip="196906181999032001"),
        contacts=[
            ContactChannel(ContactKind.EMAIL, "Dinkes@JatengProv.go.id", verified=True),
            ContactChannel(ContactKind.PHONE, "024 8442692"),
            ContactChannel(ContactKind.WHATSAPP, "0812-2500-1234", verified=True),
        ],
    )
    assert agency.head == AgencyHead("dr. Yunita Dyah Suminar", "Kepala Dinas", "196906181999032001")
    assert [(c.value, c.verified) for c in agency.contacts] == [
        ("dinkes@jatengprov.go.id", True),
        ("+62248442692", False),
        ("+6281225001234", True),
    ]
    assert agency.contacts[0].verified_at == uow.clock.now()
    assert agency.contacts[1].verified_at is None
    assert agency.version == 1
    assert isinstance(uow.published[-1], AgencyRegistered)


def test_bad_agency_fields_are_all_named_at_once(uow: FakeUnitOfWork) -> None:
    with pytest.raises(InvalidArgument) as info:
        register(
            uow,
            code="no spaces allowed",
            head=AgencyHead(name="X", nip="123"),
            contacts=[ContactChannel(ContactKind.EMAIL, "not-an-email"), ContactChannel(ContactKind.PHONE, "12")],
        )
    assert {v.field for v in info.value.violations} == {
        "code",
        "head.name",
        "head.nip",
        "contacts[0].value",
        "contacts[1].value",
    }
    assert uow.agencies.rows == {}


def test_agency_of_unknown_government_is_not_found(uow: FakeUnitOfWork) -> None:
    with pytest.raises(NotFound):
        handlers.register_agency(
            handlers.RegisterAgency(government_code="33.99", code="X", name="Dinas"), uow=uow, actor=ADMIN
        )


def test_update_bumps_the_version_and_names_what_changed(uow: FakeUnitOfWork) -> None:
    register(uow, contacts=[ContactChannel(ContactKind.EMAIL, "dinkes@jatengprov.go.id", verified=True)])
    verified_at = uow.agencies.get("33", "1.02.0.00.0.00.01.0000").contacts[0].verified_at  # type: ignore[union-attr]
    uow.clock.advance(dt.timedelta(days=3))
    cmd = handlers.UpdateAgency(
        "33",
        "1.02.0.00.0.00.01.0000",
        {
            "head": AgencyHead(name="Prof. Dr. Budi Santoso"),
            "contacts": [ContactChannel(ContactKind.EMAIL, "dinkes@jatengprov.go.id", verified=True)],
        },
        expected_version=1,
    )
    agency = handlers.update_agency(cmd, uow=uow, actor=ADMIN)
    assert agency.version == 2
    assert agency.contacts[0].verified_at == verified_at  # re-sending a verified channel keeps its date
    event = uow.published[-1]
    assert isinstance(event, AgencyUpdated) and event.changed_fields == ["head"]


def test_an_update_that_changes_nothing_raises_no_event(uow: FakeUnitOfWork) -> None:
    register(uow)
    before = len(uow.published)
    agency = handlers.update_agency(
        handlers.UpdateAgency("33", "1.02.0.00.0.00.01.0000", {"name": "Dinas  Kesehatan"}), uow=uow, actor=ADMIN
    )
    assert agency.version == 1 and len(uow.published) == before


def test_a_stale_version_is_a_conflict_not_an_overwrite(uow: FakeUnitOfWork) -> None:
    register(uow)
    handlers.update_agency(
        handlers.UpdateAgency("33", "1.02.0.00.0.00.01.0000", {"short_name": "Dinkes"}, 1), uow=uow, actor=ADMIN
    )
    with pytest.raises(Conflict):
        handlers.update_agency(
            handlers.UpdateAgency("33", "1.02.0.00.0.00.01.0000", {"short_name": "DKK"}, 1), uow=uow, actor=ADMIN
        )
    assert uow.agencies.get("33", "1.02.0.00.0.00.01.0000").short_name == "Dinkes"  # type: ignore[union-attr]


@pytest.mark.parametrize("changes", [{}, {"code": "X"}, {"version": 9}])
def test_updates_outside_the_mask_are_refused(uow: FakeUnitOfWork, changes: dict[str, object]) -> None:
    register(uow)
    with pytest.raises(InvalidArgument) as info:
        handlers.update_agency(handlers.UpdateAgency("33", "1.02.0.00.0.00.01.0000", changes), uow=uow, actor=ADMIN)
    assert info.value.violations[0].field == "update_mask"


def test_lists_page_in_code_order(uow: FakeUnitOfWork) -> None:
    for i in range(5):
        register(uow, code=f"C{i}")
    first, token = handlers.list_agencies("33", Page(size=2), uow=uow)
    second, token2 = handlers.list_agencies("33", Page(size=2, token=token), uow=uow)
    third, token3 = handlers.list_agencies("33", Page(size=2, token=token2), uow=uow)
    assert [a.code for a in first + second + third] == ["C0", "C1", "C2", "C3", "C4"]
    assert token3 == ""
    with pytest.raises(InvalidArgument):
        handlers.list_agencies("33", Page(token="%%%"), uow=uow)
    with pytest.raises(InvalidArgument):
        handlers.list_agencies("33", Page(size=-1), uow=uow)


def test_governments_within_a_province(uow: FakeUnitOfWork) -> None:
    handlers.register_government(handlers.RegisterGovernment("33.74", "Kota Semarang"), uow=uow, actor=ADMIN)
    items, _ = handlers.list_governments("33", Page(), uow=uow)
    assert [g.code for g in items] == ["33", "33.74"]
