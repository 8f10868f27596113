"""The village code on a location: validated, defaulted for village heads, sent to planners unless rahasia."""

from __future__ import annotations

import pytest
from grms.complaints.v1 import events_pb2
from grms_complaints.adapters.wire import event_to_message
from grms_complaints.domain.model import Channel, Location, Submitter, SubmitterRole, check_village_code
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import InvalidArgument

from .conftest import OFFICER, PINS, file_cmd, filed
from .fakes import FakeUnitOfWork

POINT = {"latitude": -7.4245, "longitude": 109.2302}


@pytest.mark.parametrize("code", ["33.01.01.2001", " 33.74.01.1001 "])
def test_a_kemendagri_village_code_is_accepted(code: str) -> None:
    assert check_village_code(code) == code.strip()


@pytest.mark.parametrize("code", ["33.01.01", "3301012001", "33.1.01.2001", "33.01.01.20011", "aa.bb.cc.dddd"])
def test_a_malformed_village_code_is_refused_naming_the_field(code: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_village_code(code)
    assert [v.field for v in exc.value.violations] == ["location.village_code"]


def test_the_village_code_is_stored_on_the_location(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = filed(uow, sla, location=Location(**POINT, address="Desa Kedungwuluh", village_code="33.02.01.2001"))
    assert uow.complaints.rows[f.complaint.ticket_id].location.village_code == "33.02.01.2001"


def test_a_village_code_alone_is_a_location(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = filed(uow, sla, location=Location(village_code="33.02.01.2001"))
    assert f.complaint.location == Location(village_code="33.02.01.2001")


def test_a_bad_village_code_stores_nothing(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    with pytest.raises(InvalidArgument) as exc:
        filed(uow, sla, location=Location(address="Desa Kedungwuluh", village_code="33.02.2001"))
    assert "location.village_code" in {v.field for v in exc.value.violations}
    assert not uow.complaints.rows and not uow.complainants.rows and not uow.published


def test_a_village_head_filing_defaults_the_location_to_the_village(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    head = Submitter(name="Slamet Riyadi", village_code="33.74.01.1001", role=SubmitterRole.KEPALA_DESA)
    cmd = file_cmd(channel=Channel.WALK_IN, location=Location(address="RT 02 RW 05"), submitted_by=head)
    f = handlers.file_complaint(cmd, uow=uow, pins=PINS, sla=sla, actor=OFFICER)
    assert f.complaint.location == Location(address="RT 02 RW 05", village_code="33.74.01.1001")
    other = file_cmd(channel=Channel.WALK_IN, location=Location(village_code="33.74.02.1003"), submitted_by=head)
    g = handlers.file_complaint(other, uow=uow, pins=PINS, sla=sla, actor=OFFICER)
    assert g.complaint.location.village_code == "33.74.02.1003"  # told otherwise: kept


def test_complaint_received_carries_the_place_unless_rahasia(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    location = Location(**POINT, address="Desa Kedungwuluh", village_code="33.02.01.2001")
    filed(uow, sla, location=location)
    filed(uow, sla, location=location, anonymous=True)
    filed(uow, sla, location=location, confidential=True)
    public, anonymous, confidential = (
        events_pb2.ComplaintReceived.FromString(event_to_message(e)[0].SerializeToString()) for e in uow.published
    )
    for received in (public, anonymous):  # location is not identity: an anonymous complaint keeps its place
        assert (received.village_code, received.latitude, received.longitude) == ("33.02.01.2001", *POINT.values())
    assert (confidential.village_code, confidential.latitude, confidential.longitude) == ("", 0.0, 0.0)
