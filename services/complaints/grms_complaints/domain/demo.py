"""A year of demo complaints for LaporGub, lived through the real state machine (DOMAIN §6, §6.1).

Deterministic for a seed. Each complaint is filed with `Complaint.file` and taken through
verify, assign, start_work, respond, resolve, close or reject at plausible times, so its
deadlines, response minutes and statuses are the ones the service itself would have written.
A step whose time is still in the future is not taken: recent complaints are still open.

The mix (guesses, internally consistent with DOMAIN §6): ~2,000 a month; the 2022 status
shares (65 % resolved, 21 % at verification, 8 % in progress, 1 % never answered, 4 %
rejected); sectors after the 2022 top list with a long tail; places weighted by population;
7 % anonymous, 2 % confidential; every agency has its own speed — median first response
6–20 hours, and about one agency in six slow enough to breach 1×24 hours routinely.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from grms_complaints.domain.model import (
    Channel,
    Complainant,
    Complaint,
    ComplaintClass,
    Location,
    RejectionReason,
    new_reporter_ref,
)
from grms_complaints.domain.sla import SlaPolicy

__all__ = ["DEMO_ACTOR", "DemoAgencySpeed", "agency_speeds", "demo_complaints", "route_for"]

DEMO_ACTOR = "grms-demo"
H = dt.timedelta(hours=1)

# Category → weight (share of complaints) and words that find its agency by name.
CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "pendidikan": (20, ("Pendidikan",)),
    "lainnya": (22, ("Tenaga Kerja", "Energi", "Perhubungan", "Kependudukan", "Komunikasi")),
    "bantuan_sosial": (11, ("Sosial",)),
    "jalan_rusak": (11, ("Bina Marga",)),
    "layanan_kesehatan": (9, ("Kesehatan",)),
    "administrasi_perizinan": (8, ("Penanaman Modal", "Kependudukan")),
    "banjir_drainase": (7, ("Sumber Daya Air",)),
    "penerangan_jalan": (6, ("Perhubungan",)),
    "sampah_lingkungan": (6, ("Lingkungan Hidup",)),
}
# Kabupaten/kota of Central Java with their population (thousands, Dukcapil 2023, rounded).
PLACES: tuple[tuple[str, int], ...] = (
    ("Kabupaten Brebes", 2050),
    ("Kabupaten Cilacap", 2010),
    ("Kota Semarang", 1690),
    ("Kabupaten Banyumas", 1820),
    ("Kabupaten Grobogan", 1470),
    ("Kabupaten Pati", 1360),
    ("Kabupaten Tegal", 1450),
    ("Kabupaten Kebumen", 1400),
    ("Kabupaten Klaten", 1280),
    ("Kabupaten Pemalang", 1520),
    ("Kabupaten Magelang", 1320),
    ("Kabupaten Demak", 1220),
    ("Kabupaten Jepara", 1250),
    ("Kabupaten Boyolali", 1090),
    ("Kabupaten Sragen", 1000),
    ("Kabupaten Wonogiri", 1070),
    ("Kabupaten Kendal", 1040),
    ("Kabupaten Semarang", 1080),
    ("Kabupaten Karanganyar", 940),
    ("Kota Surakarta", 590),
    ("Kabupaten Purworejo", 790),
    ("Kabupaten Rembang", 650),
    ("Kota Pekalongan", 320),
    ("Kota Salatiga", 200),
    ("Kota Tegal", 290),
    ("Kota Magelang", 128),
)
STREETS = ("Jl. Pemuda", "Jl. Diponegoro", "Jl. Ahmad Yani", "Jl. Sudirman", "Jl. Gajah Mada", "Jl. Pahlawan")
TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    "pendidikan": (
        ("Pungutan seragam di SMA negeri", "Orang tua siswa diminta membayar seragam dan buku di luar ketentuan."),
        ("Zonasi PPDB tidak sesuai", "Anak kami tidak diterima padahal rumah dekat sekolah; mohon ditinjau."),
        ("Ruang kelas SMK rusak", "Atap ruang kelas bocor dan plafon hampir runtuh, siswa belajar di teras."),
    ),
    "lainnya": (
        ("Upah di bawah UMK", "Pabrik tempat saya bekerja membayar upah di bawah UMK sejak tiga bulan."),
        ("Gas elpiji 3 kg langka", "Pangkalan di desa kami kosong sejak seminggu, harga eceran naik."),
        ("Bus AKDP ugal-ugalan", "Bus jurusan Semarang–Solo sering menyalip di tikungan dan membahayakan."),
    ),
    "bantuan_sosial": (
        ("Bansos tidak tepat sasaran", "Tetangga yang mampu menerima bantuan, keluarga miskin di RT kami tidak."),
        ("PKH belum cair", "Bantuan PKH tahap ini belum diterima padahal sudah terdaftar di DTKS."),
    ),
    "jalan_rusak": (
        ("Jalan provinsi berlubang", "Lubang besar di ruas jalan provinsi, sudah ada pengendara motor jatuh."),
        ("Jembatan retak", "Jembatan penghubung antar desa retak dan bergoyang saat dilewati truk."),
    ),
    "layanan_kesehatan": (
        ("Antrean RSUD terlalu lama", "Pasien BPJS menunggu lebih dari lima jam di poli penyakit dalam."),
        ("Obat kosong di apotek RSUD", "Obat yang diresepkan dokter tidak tersedia, pasien diminta beli di luar."),
    ),
    "administrasi_perizinan": (
        ("Izin usaha lama diproses", "Permohonan izin lewat OSS belum ada kabar setelah satu bulan."),
        ("Pajak kendaraan salah hitung", "Tagihan pajak kendaraan di Samsat lebih besar dari notifikasi."),
    ),
    "banjir_drainase": (
        ("Tanggul sungai jebol", "Tanggul sungai jebol dan air masuk ke permukiman setiap hujan deras."),
        ("Saluran irigasi tersumbat", "Saluran irigasi penuh sedimen, sawah petani kekurangan air."),
    ),
    "penerangan_jalan": (
        ("Lampu jalan mati", "Lampu penerangan jalan di ruas provinsi mati sepanjang satu kilometer."),
    ),
    "sampah_lingkungan": (
        ("Limbah pabrik ke sungai", "Air sungai berubah warna dan berbau sejak pabrik di hulu beroperasi."),
        ("Pembakaran sampah liar", "Asap pembakaran sampah di lahan kosong mengganggu warga setiap malam."),
    ),
}
CHANNELS: tuple[tuple[Channel, float], ...] = (
    (Channel.WEB, 30),
    (Channel.WHATSAPP, 25),
    (Channel.APP, 15),
    (Channel.SMS, 10),
    (Channel.SOCIAL_MEDIA, 10),
    (Channel.HOTLINE, 5),
    (Channel.WALK_IN, 3),
    (Channel.LAPOR_SP4N, 2),
)
# The 2022 LaporGub status shares, as the fate a complaint is headed for.
FATES: tuple[tuple[str, float], ...] = (
    ("resolved", 65.2),
    ("verification", 21.4),
    ("in_progress", 8.24),
    ("unanswered", 1.11),
    ("rejected", 3.99),
)
FIRST = ("Siti", "Budi", "Agus", "Dewi", "Rina", "Joko", "Sri", "Bambang", "Wahyu", "Nur", "Eko", "Yuni", "Hadi")
LAST = ("Rahayu", "Santoso", "Wibowo", "Lestari", "Setiawan", "Purnomo", "Susanti", "Hidayat", "Kurniawan")


@dataclass(frozen=True)
class DemoAgencySpeed:
    """How fast an agency answers: the median of its first responses, in hours, and its spread."""

    agency_code: str
    median_hours: float
    sigma: float


def agency_speeds(agency_codes: Sequence[str], rng: random.Random) -> dict[str, DemoAgencySpeed]:
    """Each agency's own speed: most answer in 6–20 hours (median), about one in six takes 26–40."""
    speeds = {}
    for code in sorted(agency_codes):
        slow = rng.random() < 0.17
        median = rng.uniform(26, 40) if slow else rng.uniform(6, 20)
        speeds[code] = DemoAgencySpeed(code, median, rng.uniform(0.5, 0.9))
    return speeds


def route_for(category: str, agencies: dict[str, str], rng: random.Random) -> str:
    """An agency for the category: one whose name has the category's words, else any."""
    words = CATEGORIES.get(category, (0, ()))[1]
    matching = sorted(code for code, name in agencies.items() if any(w.lower() in name.lower() for w in words))
    return rng.choice(matching or sorted(agencies))


def _pick(rng: random.Random, weighted: Sequence[tuple[object, float]]) -> object:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


def demo_complaints(
    *,
    government_code: str,
    agencies: dict[str, str],
    sla: SlaPolicy,
    start: dt.datetime,
    end: dt.datetime,
    per_month: int,
    pin_hash: str,
    rng: random.Random,
) -> Iterator[tuple[Complaint, Complainant]]:
    """Complaints received from `start` to `end` (≈ `per_month` a month), in time order, as of `end`."""
    speeds = agency_speeds(list(agencies), rng)
    categories = [(code, weight) for code, (weight, _) in CATEGORIES.items()]
    places = [(name, float(population)) for name, population in PLACES]
    seconds = (end - start).total_seconds()
    count = max(1, round(per_month * seconds / (30.4 * 86400)))
    moments = sorted(start + dt.timedelta(seconds=rng.uniform(0, seconds)) for _ in range(count))
    for received in moments:
        # Daytime WIB is busier: move a third of the night-time complaints into office hours.
        local_hour = (received.hour + 7) % 24
        if local_hour < 6 and rng.random() < 0.33:
            received += dt.timedelta(hours=8)
            if received >= end:
                continue
        yield _one(government_code, agencies, speeds, sla, received, end, pin_hash, categories, places, rng)


def _one(
    government_code: str,
    agencies: dict[str, str],
    speeds: dict[str, DemoAgencySpeed],
    sla: SlaPolicy,
    received: dt.datetime,
    now: dt.datetime,
    pin_hash: str,
    categories: list[tuple[str, float]],
    places: list[tuple[str, float]],
    rng: random.Random,
) -> tuple[Complaint, Complainant]:
    category = str(_pick(rng, categories))
    title, text = rng.choice(TEXTS[category])
    place = str(_pick(rng, places))
    channel = _pick(rng, CHANNELS)
    assert isinstance(channel, Channel)
    reporter_ref = new_reporter_ref()
    complaint = Complaint.file(
        government_code=government_code,
        complaint_class=ComplaintClass.ASPIRASI if rng.random() < 0.08 else ComplaintClass.PENGADUAN,
        category_code=category,
        channel=channel,
        title=f"{title} ({place.split(' ', 1)[1]})",
        description=text,
        location=Location(address=f"{rng.choice(STREETS)} No. {rng.randint(1, 200)}, {place}"),
        anonymous=rng.random() < 0.07,
        confidential=rng.random() < 0.02,
        reporter_ref=reporter_ref,
        sla=sla,
        now=received,
        recorded_by=DEMO_ACTOR,
        pin_hash=pin_hash,
    )
    complaint.events.clear()  # history, not news: the demo year raises no events
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    complainant = Complainant(
        reporter_ref=reporter_ref, name=name, phone=f"+628{rng.randint(11, 99)}{rng.randint(10_000_000, 99_999_999)}"
    )
    _live(complaint, str(_pick(rng, FATES)), agencies, speeds, sla, now, rng)
    # The SLA scheduler has been running all year: the warnings and escalations due by now are
    # recorded (auto-closing stays the scheduler's, on its first scan).
    for deadline in complaint.deadlines:
        deadline.advance(now)
    complaint.events.clear()
    return complaint, complainant


def _live(
    c: Complaint,
    fate: str,
    agencies: dict[str, str],
    speeds: dict[str, DemoAgencySpeed],
    sla: SlaPolicy,
    now: dt.datetime,
    rng: random.Random,
) -> None:
    """Take the complaint along its fate as far as `now` allows."""
    agency = route_for(c.category_code, agencies, rng)
    speed = speeds[agency]
    first_response = max(0.3, _lognormal(rng, speed.median_hours, speed.sigma)) * H
    if fate == "unanswered":
        first_response = rng.uniform(30, 24 * 20) * H
    verified_at = c.received_at + min(first_response * rng.uniform(0.15, 0.4), rng.uniform(1, 48) * H)
    if fate == "rejected":
        at = c.received_at + rng.uniform(0.5, 30) * H
        if at <= now:
            reason = rng.choice(list(RejectionReason))
            c.reject(reason, "Tidak dapat ditindaklanjuti: data tidak lengkap atau bukan kewenangan.", now=at)
        return
    if verified_at > now or (fate == "verification" and rng.random() < 0.5):
        return
    c.verify(now=verified_at)
    assigned_at = verified_at + rng.uniform(0.1, 3) * H
    if assigned_at > now or fate == "verification":
        return
    c.assign(agency, reason="", actor=DEMO_ACTOR, sla=sla, now=assigned_at)
    started_at = assigned_at + rng.uniform(0.1, 2) * H
    if started_at > now:
        return
    c.start_work(now=started_at)
    responded_at = max(c.received_at + first_response, started_at + 0.1 * H)
    if responded_at > now or fate in ("in_progress", "unanswered"):
        return
    c.respond(
        "Terima kasih atas laporan Anda. Petugas kami sudah menindaklanjuti di lokasi.", actor=agency, now=responded_at
    )
    resolved_at = responded_at + _lognormal(rng, 72, 0.7) * H
    if resolved_at > now:
        return
    c.resolve(sla=sla, now=resolved_at)
    closed_at = resolved_at + rng.uniform(10, 16) * 24 * H
    if closed_at <= now and rng.random() < 0.7:
        c.close(now=closed_at)
