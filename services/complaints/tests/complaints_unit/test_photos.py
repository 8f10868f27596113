"""Photo attachments: type from the magic bytes, size from the setting, stored once by content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from grms_complaints.adapters.photos import FilePhotoStore
from grms_complaints.domain.attachments import MAX_ATTACHMENTS, AttachmentSource, check_photo, sniff_image
from grms_complaints.domain.model import Status
from grms_complaints.domain.sla import SlaPolicy
from grms_complaints.service_layer import handlers
from grms_kit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from grms_kit.identity import Identity, Role

from .conftest import AGENCY, OFFICER, PINS, file_cmd, filed
from .fakes import FakePhotoStore, FakeUnitOfWork
from .images import jpeg, png, webp

JPEG = jpeg(b"\x11" * 200)
PNG = png(b"\x22" * 200)
WEBP = webp(b"\x33" * 200)
PDF = b"%PDF-1.7\n" + b"\x44" * 200
OTHER_GOV = Identity(sub="officer-3374", roles=frozenset({Role.COMPLAINTS_OFFICER}), government="33.74")


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(("content", "media_type"), [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")])
def test_the_type_is_read_from_the_bytes(content: bytes, media_type: str) -> None:
    assert sniff_image(content) == media_type
    photo = check_photo(content, max_bytes=10_000)
    assert (photo.media_type, photo.sha256, photo.size) == (media_type, sha(content), len(content))


@pytest.mark.parametrize("content", [PDF, b"<html>" + JPEG, b"RIFF\x00\x00\x00\x00WAVEfmt ", b""])
def test_anything_else_is_refused(content: bytes) -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_photo(content, max_bytes=10_000, field="photos[0]")
    assert [v.field for v in exc.value.violations] == ["photos[0]"]


GPS = b"Exif\x00\x00MM\x00*GPSLatitude -6.98265 GPSLongitude 110.40985 Artist Budi Santoso"


@pytest.mark.parametrize(
    ("tagged", "clean"),
    [
        (jpeg(b"\x11" * 50, exif=GPS), jpeg(b"\x11" * 50)),
        (png(b"\x22" * 50, text=b"Comment\x00" + GPS), png(b"\x22" * 50)),
        (webp(b"\x33" * 50, exif=GPS), None),
    ],
)
def test_metadata_with_the_gps_position_is_stripped_and_the_pixels_kept(tagged: bytes, clean: bytes | None) -> None:
    photo = check_photo(tagged, max_bytes=10_000)
    assert b"GPSLatitude" not in photo.content and b"Budi" not in photo.content
    assert photo.sha256 == sha(photo.content)  # named by what is stored
    if clean is not None:
        assert photo.content == clean
    else:  # WebP: the EXIF chunk is gone, the RIFF size and the VP8X flags say so
        assert photo.content[8:12] == b"WEBP" and int.from_bytes(photo.content[4:8], "little") == len(photo.content) - 8
        assert photo.content[20] & 0x08 == 0 and b"\x33" * 50 in photo.content


def test_a_truncated_image_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="not a readable PNG"):
        check_photo(png(b"\x22" * 50)[:40], max_bytes=10_000)


def test_a_photo_over_the_limit_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="too large"):
        check_photo(JPEG, max_bytes=len(JPEG) - 1)
    assert check_photo(JPEG, max_bytes=len(JPEG)).size == len(JPEG)


def test_photos_at_filing_are_stored_once_by_hash(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore()
    first = handlers.file_complaint(file_cmd(photos=(JPEG, PNG)), uow=uow, pins=PINS, sla=sla, photos=photos)
    second = handlers.file_complaint(file_cmd(photos=(JPEG,)), uow=uow, pins=PINS, sla=sla, photos=photos)
    assert set(photos.blobs) == {sha(JPEG), sha(PNG)}
    stored = uow.complaints.rows[first.complaint.ticket_id]
    assert [(a.sha256, a.media_type, a.size_bytes, a.source) for a in stored.attachments] == [
        (sha(JPEG), "image/jpeg", len(JPEG), AttachmentSource.COMPLAINANT),
        (sha(PNG), "image/png", len(PNG), AttachmentSource.COMPLAINANT),
    ]
    assert [a.sha256 for a in uow.complaints.rows[second.complaint.ticket_id].attachments] == [sha(JPEG)]


def test_a_bad_photo_at_filing_stores_nothing(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore(max_bytes=len(PNG) - 1)
    with pytest.raises(InvalidArgument) as exc:
        handlers.file_complaint(file_cmd(photos=(PDF, PNG)), uow=uow, pins=PINS, sla=sla, photos=photos)
    assert {v.field for v in exc.value.violations} == {"photos[0]", "photos[1]"}
    assert not photos.blobs and not uow.complaints.rows and not uow.complainants.rows and not uow.published


def test_the_complainant_adds_a_photo_with_ticket_and_pin(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore()
    f = filed(uow, sla)
    ticket = f.complaint.ticket_id
    with pytest.raises(NotFound):
        handlers.add_photo(handlers.AddPhoto(ticket, WEBP, pin="00000000"), uow=uow, pins=PINS, photos=photos)
    assert not photos.blobs
    _, attachment = handlers.add_photo(handlers.AddPhoto(ticket, WEBP, pin=f.pin), uow=uow, pins=PINS, photos=photos)
    assert (attachment.source, attachment.added_by, attachment.media_type) == (
        AttachmentSource.COMPLAINANT,
        "",
        "image/webp",
    )
    again, _ = handlers.add_photo(handlers.AddPhoto(ticket, WEBP, pin=f.pin), uow=uow, pins=PINS, photos=photos)
    assert len(again.attachments) == 1 and photos.writes == 1


def test_staff_add_photos_to_complaints_they_handle(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore()
    ticket = filed(uow, sla).complaint.ticket_id
    with pytest.raises(Unauthenticated):  # no PIN and no token
        handlers.add_photo(handlers.AddPhoto(ticket, JPEG), uow=uow, pins=PINS, photos=photos)
    with pytest.raises(PermissionDenied):
        handlers.add_photo(handlers.AddPhoto(ticket, JPEG), uow=uow, pins=PINS, photos=photos, actor=OTHER_GOV)
    _, attachment = handlers.add_photo(
        handlers.AddPhoto(ticket, JPEG), uow=uow, pins=PINS, photos=photos, actor=OFFICER
    )
    assert (attachment.source, attachment.added_by) == (AttachmentSource.STAFF, "officer-33")
    with pytest.raises(InvalidArgument):
        handlers.add_photo(handlers.AddPhoto(ticket, PDF), uow=uow, pins=PINS, photos=photos, actor=OFFICER)
    assert set(photos.blobs) == {sha(JPEG)}


def test_no_photos_on_a_closed_complaint_and_at_most_ten(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore()
    f = filed(uow, sla)
    ticket = f.complaint.ticket_id
    for i in range(MAX_ATTACHMENTS):
        handlers.add_photo(
            handlers.AddPhoto(ticket, JPEG + bytes([i])), uow=uow, pins=PINS, photos=photos, actor=OFFICER
        )
    with pytest.raises(FailedPrecondition, match="10 photos"):
        handlers.add_photo(handlers.AddPhoto(ticket, PNG), uow=uow, pins=PINS, photos=photos, actor=OFFICER)
    rejected = filed(uow, sla).complaint.ticket_id
    handlers.reject_complaint(handlers.RejectComplaint(rejected, "spam", "Iklan"), uow=uow, actor=OFFICER)  # type: ignore[arg-type]
    assert uow.complaints.rows[rejected].status is Status.REJECTED
    with pytest.raises(FailedPrecondition):
        handlers.add_photo(handlers.AddPhoto(rejected, PNG), uow=uow, pins=PINS, photos=photos, actor=OFFICER)
    assert sha(PNG) not in photos.blobs


def test_photos_are_served_publicly_only_when_the_complaint_is_not_rahasia(uow: FakeUnitOfWork, sla: SlaPolicy) -> None:
    photos = FakePhotoStore()
    public = handlers.file_complaint(file_cmd(photos=(JPEG,)), uow=uow, pins=PINS, sla=sla, photos=photos)
    secret = handlers.file_complaint(
        file_cmd(photos=(PNG,), confidential=True), uow=uow, pins=PINS, sla=sla, photos=photos
    )
    attachment, content = handlers.get_photo(public.complaint.ticket_id, sha(JPEG), uow=uow, pins=PINS, photos=photos)
    assert content == JPEG and attachment.media_type == "image/jpeg"
    hidden = secret.complaint.ticket_id
    with pytest.raises(NotFound):
        handlers.get_photo(hidden, sha(PNG), uow=uow, pins=PINS, photos=photos)
    with pytest.raises(NotFound):  # a photo of another complaint is not this one's
        handlers.get_photo(public.complaint.ticket_id, sha(PNG), uow=uow, pins=PINS, photos=photos)
    assert handlers.get_photo(hidden, sha(PNG), uow=uow, pins=PINS, photos=photos, actor=OFFICER)[1] == PNG
    assert handlers.get_photo(hidden, sha(PNG), uow=uow, pins=PINS, photos=photos, pin=secret.pin)[1] == PNG
    with pytest.raises(PermissionDenied):  # an agency sees only what is routed to it
        handlers.get_photo(hidden, sha(PNG), uow=uow, pins=PINS, photos=photos, actor=AGENCY)


def test_the_file_store_writes_each_photo_once_under_its_hash(tmp_path: Path) -> None:
    store = FilePhotoStore(tmp_path / "photos")
    store.put(sha(JPEG), JPEG)
    store.put(sha(JPEG), JPEG)
    assert store.get(sha(JPEG)) == JPEG and store.get(sha(PNG)) is None
    files = [p for p in (tmp_path / "photos").rglob("*") if p.is_file()]
    assert files == [tmp_path / "photos" / sha(JPEG)[:2] / sha(JPEG)]
    with pytest.raises(ValueError, match="does not hash"):
        store.put(sha(PNG), JPEG)
