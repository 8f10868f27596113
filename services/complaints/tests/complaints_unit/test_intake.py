"""Intake from every channel: one complaint per delivery, operator entry, filing on behalf of a villager."""

from __future__ import annotations

import pytest
from grms_complaints.domain.model import Channel, Complainant, ComplaintFiled, Submitter, SubmitterRole
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import InvalidArgument, PermissionDenied, Unauthenticated
from grms_kit.identity import Identity, Role

from .conftest import OFFICER, PINS, file_cmd
from .fakes import FakeUnitOfWork

WA_ID = "wamid.HBgMNjI4MTIyNTU1MDEwMRUCABIYFjNFQjBDMEQ2RkY1QjY2QjcxMzVGAA=="
HEAD = Submitter(name="Slamet Riyadi", village_code="33.74.01.1001", role=SubmitterRole.KEPALA_DESA)


def whatsapp(**changes: object) -> handlers.FileComplaint:
    values: dict[str, object] = {
        "channel": Channel.WHATSAPP,
        "category_code": "lainnya",
        "location": None,
        "channel_message_id": WA_ID,
        "complainant": Complainant(reporter_ref="", name="Budi", phone="6281225550101"),
    }
    values.update(changes)
    return file_cmd(**values)


def test_the_same_delivery_twice_is_one_complaint_and_one_pin(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    first = handlers.file_complaint(whatsapp(), uow=uow, pins=PINS, sla=sla)
    again = handlers.file_complaint(whatsapp(), uow=uow, pins=PINS, sla=sla)

    assert first.pin and not first.duplicate_delivery
    assert again.duplicate_delivery and again.pin == ""
    assert again.complaint.ticket_id == first.complaint.ticket_id
    assert len(uow.complaints.rows) == 1 and len(uow.complainants.rows) == 1
    assert [type(e) for e in uow.published] == [ComplaintFiled]
    stored = uow.complaints.rows[first.complaint.ticket_id]
    assert stored.channel_message_id == WA_ID and stored.location.address == ""
    assert uow.complainants.rows[stored.reporter_ref].phone == "+6281225550101"


def test_the_same_id_on_another_channel_or_government_is_another_delivery(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    a = handlers.file_complaint(whatsapp(), uow=uow, pins=PINS, sla=sla)
    b = handlers.file_complaint(whatsapp(channel=Channel.SMS), uow=uow, pins=PINS, sla=sla)
    c = handlers.file_complaint(whatsapp(government_code="33.74"), uow=uow, pins=PINS, sla=sla)
    assert len({a.complaint.ticket_id, b.complaint.ticket_id, c.complaint.ticket_id}) == 3
    assert not (a.duplicate_delivery or b.duplicate_delivery or c.duplicate_delivery)


def test_without_a_delivery_id_every_filing_is_new(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    handlers.file_complaint(whatsapp(channel_message_id=""), uow=uow, pins=PINS, sla=sla)
    handlers.file_complaint(whatsapp(channel_message_id=""), uow=uow, pins=PINS, sla=sla)
    assert len(uow.complaints.rows) == 2


def test_a_racing_delivery_loses_at_the_constraint_and_gets_the_first_ticket(
    uow: FakeUnitOfWork, sla: SlaPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = handlers.file_complaint(whatsapp(), uow=uow, pins=PINS, sla=sla)
    # The second delivery's look-up ran before the first committed: it sees nothing.
    real = uow.complaints.find_delivery
    calls: list[str] = []

    def late(*args: object) -> object:
        calls.append("find")
        return None if len(calls) == 1 else real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(uow.complaints, "find_delivery", late)
    again = handlers.file_complaint(whatsapp(), uow=uow, pins=PINS, sla=sla)
    assert calls == ["find", "find"]
    assert again.duplicate_delivery and again.pin == "" and again.complaint.ticket_id == first.complaint.ticket_id
    assert len(uow.complaints.rows) == 1 and len(uow.complainants.rows) == 1


def test_a_bad_delivery_id_is_refused(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    with pytest.raises(InvalidArgument) as info:
        handlers.file_complaint(whatsapp(channel_message_id="a b"), uow=uow, pins=PINS, sla=sla)
    assert [v.field for v in info.value.violations] == ["channel_message_id"]
    assert not uow.complaints.rows


def test_free_text_channels_need_no_location_or_name_but_the_web_form_does(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    sms = handlers.file_complaint(
        whatsapp(channel=Channel.SMS, complainant=Complainant(reporter_ref="", name="", phone="081225550101")),
        uow=uow,
        pins=PINS,
        sla=sla,
    )
    assert uow.complainants.rows[sms.complaint.reporter_ref].name == ""
    with pytest.raises(InvalidArgument) as info:
        handlers.file_complaint(
            whatsapp(channel=Channel.WEB, channel_message_id="", complainant=Complainant("", "", phone="0812255501")),
            uow=uow,
            pins=PINS,
            sla=sla,
        )
    assert {v.field for v in info.value.violations} == {"location", "complainant.name"}


def test_a_social_media_handle_is_a_way_to_answer(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    person = Complainant(reporter_ref="", name="budi_s", handle="twitter:@budi_s")
    f = handlers.file_complaint(
        whatsapp(channel=Channel.SOCIAL_MEDIA, channel_message_id="twitter:1790", complainant=person),
        uow=uow,
        pins=PINS,
        sla=sla,
    )
    assert uow.complainants.rows[f.complaint.reporter_ref].handle == "twitter:@budi_s"
    with pytest.raises(InvalidArgument) as info:
        handlers.file_complaint(
            whatsapp(channel=Channel.SOCIAL_MEDIA, complainant=Complainant("", "budi", handle="budi s")),
            uow=uow,
            pins=PINS,
            sla=sla,
        )
    assert {v.field for v in info.value.violations} == {"complainant.handle"}


@pytest.mark.parametrize("channel", [Channel.HOTLINE, Channel.WALK_IN])
def test_operator_entry_needs_a_complaints_officer_and_records_them(
    uow: FakeUnitOfWork, sla: SlaPolicy, channel: Channel
) -> None:
    with pytest.raises(Unauthenticated):
        handlers.file_complaint(file_cmd(channel=channel), uow=uow, pins=PINS, sla=sla)
    clerk = Identity(sub="clerk-33", roles=frozenset({Role.AGENCY_HEAD}), government="33")
    with pytest.raises(PermissionDenied):
        handlers.file_complaint(file_cmd(channel=channel), uow=uow, pins=PINS, sla=sla, actor=clerk)
    other = Identity(sub="officer-34", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="34")
    with pytest.raises(PermissionDenied):
        handlers.file_complaint(file_cmd(channel=channel), uow=uow, pins=PINS, sla=sla, actor=other)
    assert not uow.complaints.rows

    f = handlers.file_complaint(file_cmd(channel=channel), uow=uow, pins=PINS, sla=sla, actor=OFFICER)
    stored = uow.complaints.rows[f.complaint.ticket_id]
    assert stored.channel is channel and stored.recorded_by == "officer-33" and f.pin


def test_a_citizen_filing_on_the_web_records_no_operator(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    f = handlers.file_complaint(file_cmd(), uow=uow, pins=PINS, sla=sla)
    assert uow.complaints.rows[f.complaint.ticket_id].recorded_by == ""


def test_a_village_head_files_for_a_named_villager(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    villager = Complainant(reporter_ref="", name="Mbok Sarinah", phone="0813 2555 0202")
    cmd = file_cmd(channel=Channel.WALK_IN, complainant=villager, submitted_by=HEAD)
    with pytest.raises(Unauthenticated):
        handlers.file_complaint(file_cmd(submitted_by=HEAD), uow=uow, pins=PINS, sla=sla)  # not on the public web form

    f = handlers.file_complaint(cmd, uow=uow, pins=PINS, sla=sla, actor=OFFICER)
    stored = uow.complaints.rows[f.complaint.ticket_id]
    assert stored.submitted_by == HEAD and stored.recorded_by == "officer-33"
    # The villager, not the village head, is the complainant.
    identity = handlers.get_complainant_identity(
        f.complaint.ticket_id, "Menghubungi pelapor untuk verifikasi", uow=uow, actor=OFFICER
    )
    assert identity.name == "Mbok Sarinah" and identity.phone == "+6281325550202"


def test_a_bad_village_head_is_refused_with_every_field(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    bad = Submitter(name="S", village_code="3374011001")
    with pytest.raises(InvalidArgument) as info:
        handlers.file_complaint(
            file_cmd(channel=Channel.WALK_IN, submitted_by=bad), uow=uow, pins=PINS, sla=sla, actor=OFFICER
        )
    assert {v.field for v in info.value.violations} == {"submitted_by.name", "submitted_by.village_code"}
    assert not uow.complaints.rows
