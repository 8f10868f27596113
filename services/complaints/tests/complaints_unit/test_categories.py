"""Categories edited by each government's admins, with optimistic concurrency, and their default routing."""

from __future__ import annotations

import pytest
from grms_complaints.domain.categories import DEFAULT_CATEGORIES, Category
from grms_complaints.domain.model import Status
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import AlreadyExists, Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from grms_kit.identity import Identity, Role

from .conftest import OFFICER, PINS, file_cmd
from .fakes import FakeUnitOfWork

ADMIN = Identity(sub="admin-33", roles=frozenset({Role.ADMIN}), government="33")
ADMIN_SEMARANG = Identity(sub="admin-3374", roles=frozenset({Role.ADMIN}), government="33.74")
CODES = [c.code for c in DEFAULT_CATEGORIES]
STUNTING = Category(
    "stunting", "Stunting dan gizi", "Stunting and nutrition", "Balita gizi buruk", "kesehatan", ("gizi",)
)


def create(uow: FakeUnitOfWork, actor: Identity = ADMIN, **changes: object) -> object:
    values: dict[str, object] = {"government_code": "33", "category": STUNTING, "default_agency_code": "DINKES"}
    values.update(changes)
    return handlers.create_category(
        handlers.SaveCategory(**values), uow=uow, actor=actor, configured=DEFAULT_CATEGORIES
    )  # type: ignore[arg-type]


def update(uow: FakeUnitOfWork, category: Category, version: int, **changes: object) -> object:
    cmd = handlers.SaveCategory("33", category, expected_version=version, **changes)  # type: ignore[arg-type]
    return handlers.update_category(cmd, uow=uow, actor=ADMIN, configured=DEFAULT_CATEGORIES)


def test_an_admin_adds_a_category_with_a_default_agency(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    saved = create(uow)
    assert (saved.code, saved.version, saved.default_agency_code, saved.updated_by) == (  # type: ignore[attr-defined]
        "stunting",
        1,
        "DINKES",
        "admin-33",
    )
    listed = handlers.list_categories("33", uow=uow, configured=DEFAULT_CATEGORIES)
    assert [c.code for c in listed] == sorted([*CODES, "stunting"])
    # Only that government has it: Semarang's list is the configured one, and filing there refuses it.
    assert [c.code for c in handlers.list_categories("33.74", uow=uow, configured=DEFAULT_CATEGORIES)] == sorted(CODES)
    f = handlers.file_complaint(file_cmd(category_code="stunting"), uow=uow, pins=PINS, sla=sla, categories=CODES)
    assert f.complaint.category_code == "stunting"
    with pytest.raises(InvalidArgument) as refused:
        handlers.file_complaint(
            file_cmd(government_code="33.74", category_code="stunting"), uow=uow, pins=PINS, sla=sla, categories=CODES
        )
    assert "category_code" in {v.field for v in refused.value.violations}


def test_only_admins_of_the_government_and_only_valid_categories(uow: FakeUnitOfWork) -> None:
    with pytest.raises(PermissionDenied):
        create(uow, actor=OFFICER)
    with pytest.raises(PermissionDenied):
        create(uow, actor=ADMIN_SEMARANG)
    with pytest.raises(AlreadyExists):
        create(uow, category=DEFAULT_CATEGORIES[0])
    with pytest.raises(FailedPrecondition, match="NOPE"):
        create(uow, default_agency_code="NOPE")
    with pytest.raises(InvalidArgument) as bad:
        create(uow, category=Category("Bad Code!", "x", "", "", "", ("a|b",)))
    assert {v.field for v in bad.value.violations} == {
        "category.code",
        "category.name",
        "category.name_en",
        "category.keywords",
    }
    assert not uow.categories.rows


def test_updates_need_the_version_read_before(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    jalan = DEFAULT_CATEGORIES[0]
    renamed = Category(jalan.code, "Jalan provinsi rusak", jalan.name_en, jalan.description, jalan.group, ())
    first = update(uow, renamed, 0, default_agency_code="DPUBMCK")  # configured, never edited: version 0
    assert (first.version, first.category.name) == (1, "Jalan provinsi rusak")  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        update(uow, jalan, 3)
    retired = update(uow, renamed, 1, default_agency_code="DPUBMCK", active=False)
    assert retired.version == 2 and not retired.active  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgument):  # a retired category takes no new complaints
        handlers.file_complaint(file_cmd(category_code=jalan.code), uow=uow, pins=PINS, sla=sla, categories=CODES)
    with pytest.raises(NotFound):
        update(uow, STUNTING, 0)


def test_assigning_without_an_agency_follows_the_default_routing(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    create(uow)
    routed = handlers.file_complaint(file_cmd(category_code="stunting"), uow=uow, pins=PINS, sla=sla, categories=CODES)
    other = handlers.file_complaint(file_cmd(category_code="lainnya"), uow=uow, pins=PINS, sla=sla, categories=CODES)
    for f in (routed, other):
        handlers.verify_complaint(f.complaint.ticket_id, uow=uow, actor=OFFICER)
    assigned = handlers.assign_complaint(
        handlers.AssignComplaint(routed.complaint.ticket_id, ""), uow=uow, actor=OFFICER, sla=sla
    )
    assert (assigned.status, assigned.agency_code) == (Status.ASSIGNED, "DINKES")
    with pytest.raises(InvalidArgument, match="no default agency"):
        handlers.assign_complaint(
            handlers.AssignComplaint(other.complaint.ticket_id, ""), uow=uow, actor=OFFICER, sla=sla
        )
    # A re-route names the agency and a reason; the chain keeps both assignments.
    rerouted = handlers.assign_complaint(
        handlers.AssignComplaint(routed.complaint.ticket_id, "DPUBMCK", "Masalah drainase, bukan gizi"),
        uow=uow,
        actor=OFFICER,
        sla=sla,
    )
    assert [(a.agency_code, a.reason) for a in rerouted.assignments] == [
        ("DINKES", ""),
        ("DPUBMCK", "Masalah drainase, bukan gizi"),
    ]
