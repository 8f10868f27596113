"""A channel's follow-up messages (a WhatsApp photo or location without text) join the sender's newest complaint."""

from __future__ import annotations

import datetime as dt

import pytest
from grms_complaints.domain.model import Channel, Complainant, Location, RejectionReason, Status
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from grms_kit.identity import ANONYMOUS, Identity, Role

from .conftest import OFFICER, filed
from .fakes import FakePhotoStore, FakeUnitOfWork
from .images import jpeg

GATEWAY = Identity(sub="channel:whatsapp", roles=frozenset({Role.SERVICE}), government="33")
SENDER = "6281225550101"
JPEG = jpeg(b"\x11" * 200)
WINDOW = dt.timedelta(minutes=30)
POINT = Location(latitude=-6.9826, longitude=110.4098, address="Jl. Pemuda 1", village_code="33.74.01.1001")


def _whatsapp(uow: FakeUnitOfWork, sla: SlaPolicy, phone: str = SENDER, **changes: object) -> str:
    return filed(
        uow,
        sla,
        channel=Channel.WHATSAPP,
        category_code="lainnya",
        location=None,
        complainant=Complainant(reporter_ref="", name="", phone="+" + phone),
        channel_message_id=f"wamid.{phone}.{len(uow.complaints.rows)}",
        **changes,
    ).complaint.ticket_id


def _attach(uow: FakeUnitOfWork, photos: FakePhotoStore, **changes: object) -> tuple[str, bool]:
    values: dict[str, object] = {
        "government_code": "33",
        "channel": Channel.WHATSAPP,
        "sender_phone": "+" + SENDER,
        "window": WINDOW,
    }
    values.update(changes)
    cmd = handlers.AttachChannelMessage(**values)  # type: ignore[arg-type]
    complaint, changed = handlers.attach_channel_message(cmd, uow=uow, photos=photos, actor=GATEWAY)
    return complaint.ticket_id, changed


def test_a_photo_and_a_location_join_the_newest_complaint_once(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore()
    _whatsapp(uow, sla)
    uow.clock.advance(dt.timedelta(minutes=5))  # type: ignore[attr-defined]
    newest = _whatsapp(uow, sla)
    other_sender = _whatsapp(uow, sla, phone="6285700001111")
    uow.clock.advance(dt.timedelta(minutes=2))  # type: ignore[attr-defined]

    assert _attach(uow, photos, photo=JPEG) == (newest, True)
    assert _attach(uow, photos, photo=JPEG) == (newest, False)  # the same delivery again
    assert _attach(uow, photos, sender_phone="0812-2555-0101", location=POINT) == (newest, True)
    complaint = uow.complaints.get(newest)
    assert complaint is not None and len(complaint.attachments) == 1 and len(photos.blobs) == 1
    assert (complaint.location.latitude, complaint.location.village_code) == (-6.9826, "33.74.01.1001")
    moved = Location(latitude=-7.0, longitude=110.0)
    assert _attach(uow, photos, location=moved) == (newest, False)  # a point once given stays
    assert uow.complaints.get(other_sender).location.latitude is None  # type: ignore[union-attr]


def test_nothing_joins_outside_the_window_or_a_finished_complaint(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore()
    ticket = _whatsapp(uow, sla)
    uow.clock.advance(WINDOW + dt.timedelta(seconds=1))  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        _attach(uow, photos, photo=JPEG)
    with pytest.raises(NotFound):
        _attach(uow, photos, photo=JPEG, sender_phone="+6289999999999", window=dt.timedelta(days=1))
    handlers.reject_complaint(
        handlers.RejectComplaint(ticket_id=ticket, reason=RejectionReason.SPAM, note="Iklan"),
        uow=uow,
        actor=OFFICER,
    )
    with pytest.raises(FailedPrecondition):
        _attach(uow, photos, photo=JPEG, window=dt.timedelta(days=1))
    assert _attach(uow, photos, location=POINT, window=dt.timedelta(days=1)) == (ticket, False)
    assert uow.complaints.get(ticket).status is Status.REJECTED  # type: ignore[union-attr]
    assert photos.blobs == {}


def test_bad_input_and_callers_are_refused(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore()
    _whatsapp(uow, sla)
    with pytest.raises(InvalidArgument) as exc:
        _attach(uow, photos, channel=Channel.WEB, sender_phone="nomor", window=dt.timedelta(days=2))
    assert {v.field for v in exc.value.violations} == {"channel", "sender_phone", "window", "photo"}
    with pytest.raises(InvalidArgument) as exc:
        _attach(uow, photos, photo=b"%PDF-1.7" + JPEG, location=Location(address="tanpa titik"))
    assert {v.field for v in exc.value.violations} == {"photo", "location"}
    cmd = handlers.AttachChannelMessage("33", Channel.WHATSAPP, "+" + SENDER, WINDOW, photo=JPEG)
    with pytest.raises(Unauthenticated):
        handlers.attach_channel_message(cmd, uow=uow, photos=photos, actor=ANONYMOUS)
    with pytest.raises(PermissionDenied):
        handlers.attach_channel_message(cmd, uow=uow, photos=photos, actor=OFFICER)
    assert photos.blobs == {}
