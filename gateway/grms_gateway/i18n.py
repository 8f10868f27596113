"""Words in Bahasa Indonesia and English, the caller's language, WIB times and rupiah amounts.

A dict per language keeps it small and greppable; every key exists in both (a test checks).
Indonesian is the default: English only when the caller asks (`?lang=en`, cookie `lang=en`
or `Accept-Language: en`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "LANGUAGES",
    "MESSAGES",
    "WIB",
    "Lang",
    "format_rupiah",
    "format_wib",
    "negotiate",
    "translate",
]

Lang = Literal["id", "en"]
LANGUAGES: tuple[Lang, ...] = ("id", "en")
WIB = ZoneInfo("Asia/Jakarta")

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "app.title": "GRMS — Sistem Manajemen Sumber Daya Pemerintah",
        "app.short": "GRMS",
        "nav.skip": "Langsung ke isi",
        "nav.home": "Beranda",
        "nav.api_docs": "Dokumentasi API",
        "nav.language": "Bahasa",
        "home.heading": "Ringkasan Pemerintah Daerah",
        "home.intro": "Keadaan layanan, daftar pemerintah daerah dan perangkat daerahnya.",
        "home.health": "Keadaan layanan",
        "home.governments": "Pemerintah daerah",
        "home.agencies": "Perangkat daerah",
        "home.agencies_of": "Perangkat daerah {name}",
        "home.no_agencies": "Belum ada perangkat daerah yang terdaftar.",
        "home.no_governments": "Belum ada pemerintah daerah yang terdaftar.",
        "home.head": "Kepala",
        "home.contacts": "Kontak terverifikasi",
        "home.no_contacts": "Belum ada kontak terverifikasi",
        "home.code": "Kode",
        "home.name": "Nama",
        "home.service": "Layanan",
        "home.status": "Status",
        "home.selected": "dipilih",
        "home.generated": "Dibuat pada {time}",
        "home.service_down": "Layanan {service} sedang tidak tersedia; data dari layanan ini tidak ditampilkan.",
        "health.SERVING": "Berjalan",
        "health.NOT_SERVING": "Tidak melayani",
        "health.UNAVAILABLE": "Tidak dapat dihubungi",
        "health.UNKNOWN": "Tidak diketahui",
        "level.province": "Provinsi",
        "level.regency": "Kabupaten",
        "level.city": "Kota",
        "level.unknown": "—",
        "contact.email": "Surel",
        "contact.phone": "Telepon",
        "contact.whatsapp": "WhatsApp",
        "nav.complaints": "Pengaduan",
        "nav.track": "Lacak pengaduan",
        "complaint.status.received": "Diterima, menunggu verifikasi",
        "complaint.status.verified": "Diverifikasi",
        "complaint.status.assigned": "Didisposisikan ke perangkat daerah",
        "complaint.status.in_progress": "Sedang diproses",
        "complaint.status.responded": "Sudah ditindaklanjuti",
        "complaint.status.resolved": "Selesai",
        "complaint.status.closed": "Diarsipkan",
        "complaint.status.rejected": "Ditolak",
        "complaint.file_heading": "Sampaikan pengaduan",
        "complaint.file_intro": (
            "Laporkan masalah layanan publik kepada Pemerintah Provinsi Jawa Tengah. Kolom bertanda * wajib diisi."
        ),
        "complaint.about": "Pengaduan",
        "complaint.you": "Data diri Anda",
        "complaint.identity_note": (
            "Data diri disimpan terpisah dan hanya dapat dibuka petugas pengaduan yang berwenang, "
            "dengan alasan yang dicatat."
        ),
        "complaint.class": "Jenis laporan",
        "complaint.class.pengaduan": "Pengaduan",
        "complaint.class.aspirasi": "Aspirasi",
        "complaint.class.permintaan_informasi": "Permintaan informasi",
        "complaint.category": "Kategori",
        "complaint.title": "Judul",
        "complaint.description": "Uraian",
        "complaint.address": "Alamat atau lokasi kejadian",
        "complaint.name": "Nama",
        "complaint.nik": "NIK (16 digit, tidak wajib)",
        "complaint.phone": "Nomor telepon",
        "complaint.email": "Surel",
        "complaint.contact_hint": "Isi nomor telepon atau surel (salah satu wajib).",
        "complaint.anonymous": "Anonim: identitas saya tidak ditampilkan kepada pihak yang dilaporkan maupun publik",
        "complaint.confidential": "Rahasia: isi laporan tidak ditampilkan kepada publik",
        "complaint.submit": "Kirim pengaduan",
        "complaint.errors": "Pengaduan belum terkirim. Periksa isian berikut:",
        "complaint.filed_heading": "Pengaduan Anda sudah diterima",
        "complaint.ticket": "Nomor tiket",
        "complaint.pin": "PIN",
        "complaint.keep_warning": (
            "Catat dan simpan nomor tiket dan PIN ini sekarang. PIN hanya ditampilkan sekali ini dan "
            "tidak dapat dikirim ulang; keduanya diperlukan untuk melacak pengaduan."
        ),
        "complaint.track_link": "Lacak pengaduan",
        "complaint.track_heading": "Lacak pengaduan",
        "complaint.track_intro": "Masukkan nomor tiket dan PIN yang Anda terima saat mengirim pengaduan.",
        "complaint.track_submit": "Lacak",
        "complaint.not_found": "Tidak ada pengaduan dengan nomor tiket dan PIN tersebut.",
        "complaint.status_label": "Status",
        "complaint.received_at": "Diterima",
        "complaint.updated_at": "Terakhir diperbarui",
        "complaint.agency": "Perangkat daerah",
        "complaint.replies": "Tindak lanjut",
        "complaint.no_replies": "Belum ada tindak lanjut.",
        "complaint.unavailable": "Layanan pengaduan sedang tidak tersedia. Coba lagi sebentar lagi.",
        "footer.text": "GRMS — perangkat lunak sumber terbuka untuk pemerintah daerah.",
        "problem.bad_request": "Permintaan tidak valid",
        "problem.validation": "Data yang dikirim tidak valid",
        "problem.validation_detail": "Periksa kolom yang disebutkan lalu kirim lagi.",
        "problem.unauthenticated": "Perlu masuk",
        "problem.unauthenticated_detail": "Kredensial tidak ada, salah, atau sudah kedaluwarsa.",
        "problem.bad_credentials": "Nama pengguna atau kata sandi salah.",
        "problem.forbidden": "Akses ditolak",
        "problem.forbidden_detail": "Anda tidak berwenang melakukan tindakan ini.",
        "problem.not_found": "Tidak ditemukan",
        "problem.not_found_detail": "Sumber daya yang diminta tidak ditemukan.",
        "problem.method_not_allowed": "Metode tidak diizinkan",
        "problem.conflict": "Konflik",
        "problem.already_exists": "Data dengan kode tersebut sudah ada.",
        "problem.stale": "Data telah diubah orang lain sejak Anda membacanya; muat ulang lalu coba lagi.",
        "problem.failed_precondition": "Tindakan tidak dapat dilakukan pada keadaan saat ini",
        "problem.unavailable": "Layanan tidak tersedia",
        "problem.unavailable_detail": "Layanan {service} sedang tidak tersedia. Coba lagi sebentar lagi.",
        "problem.timeout": "Batas waktu habis",
        "problem.timeout_detail": "Layanan {service} tidak menjawab tepat waktu.",
        "problem.internal": "Kesalahan internal",
        "problem.internal_detail": "Terjadi kesalahan di server; sudah dicatat.",
        "problem.too_large": "Permintaan terlalu besar",
        "problem.if_match": 'Header If-Match harus berisi versi, misalnya "3".',
        "validation.missing": "wajib diisi",
        "validation.string_too_short": "terlalu pendek",
        "validation.string_too_long": "terlalu panjang",
        "validation.string_pattern_mismatch": "formatnya tidak sesuai",
        "validation.literal_error": "nilainya tidak dikenal",
        "validation.enum": "nilainya tidak dikenal",
        "validation.int_parsing": "harus berupa bilangan bulat",
        "validation.extra_forbidden": "kolom ini tidak dikenal",
        "validation.json_invalid": "JSON tidak valid",
        "validation.greater_than_equal": "nilainya terlalu kecil",
        "validation.less_than_equal": "nilainya terlalu besar",
    },
    "en": {
        "app.title": "GRMS — Government Resources Management System",
        "app.short": "GRMS",
        "nav.skip": "Skip to content",
        "nav.home": "Home",
        "nav.api_docs": "API documentation",
        "nav.language": "Language",
        "home.heading": "Regional Government Overview",
        "home.intro": "Service health, the regional governments and their agencies.",
        "home.health": "Service health",
        "home.governments": "Regional governments",
        "home.agencies": "Agencies",
        "home.agencies_of": "Agencies of {name}",
        "home.no_agencies": "No agencies are registered yet.",
        "home.no_governments": "No governments are registered yet.",
        "home.head": "Head",
        "home.contacts": "Verified contacts",
        "home.no_contacts": "No verified contacts yet",
        "home.code": "Code",
        "home.name": "Name",
        "home.service": "Service",
        "home.status": "Status",
        "home.selected": "selected",
        "home.generated": "Generated at {time}",
        "home.service_down": "The {service} service is unavailable; its data is not shown.",
        "health.SERVING": "Serving",
        "health.NOT_SERVING": "Not serving",
        "health.UNAVAILABLE": "Unreachable",
        "health.UNKNOWN": "Unknown",
        "level.province": "Province",
        "level.regency": "Regency",
        "level.city": "City",
        "level.unknown": "—",
        "contact.email": "E-mail",
        "contact.phone": "Phone",
        "contact.whatsapp": "WhatsApp",
        "nav.complaints": "Complaints",
        "nav.track": "Track a complaint",
        "complaint.status.received": "Received, awaiting verification",
        "complaint.status.verified": "Verified",
        "complaint.status.assigned": "Routed to an agency",
        "complaint.status.in_progress": "In progress",
        "complaint.status.responded": "Answered",
        "complaint.status.resolved": "Resolved",
        "complaint.status.closed": "Archived",
        "complaint.status.rejected": "Rejected",
        "complaint.file_heading": "File a complaint",
        "complaint.file_intro": (
            "Report a public-service problem to the Provincial Government of Central Java. Fields "
            "marked * are required."
        ),
        "complaint.about": "Complaint",
        "complaint.you": "About you",
        "complaint.identity_note": (
            "Your details are stored apart and can be opened only by authorised complaint officers, who"
            " must give a reason that is logged."
        ),
        "complaint.class": "Kind of report",
        "complaint.class.pengaduan": "Complaint",
        "complaint.class.aspirasi": "Suggestion",
        "complaint.class.permintaan_informasi": "Request for information",
        "complaint.category": "Category",
        "complaint.title": "Title",
        "complaint.description": "Description",
        "complaint.address": "Address or place",
        "complaint.name": "Name",
        "complaint.nik": "NIK (16 digits, optional)",
        "complaint.phone": "Phone number",
        "complaint.email": "E-mail",
        "complaint.contact_hint": "Give a phone number or an e-mail address (one is required).",
        "complaint.anonymous": "Anonymous: my identity is not shown to the party reported or to the public",
        "complaint.confidential": "Confidential: the report is not shown to the public",
        "complaint.submit": "Send complaint",
        "complaint.errors": "The complaint was not sent. Check these fields:",
        "complaint.filed_heading": "Your complaint has been received",
        "complaint.ticket": "Ticket number",
        "complaint.pin": "PIN",
        "complaint.keep_warning": (
            "Write down and keep this ticket number and PIN now. The PIN is shown only this once and "
            "cannot be sent again; you need both to track the complaint."
        ),
        "complaint.track_link": "Track the complaint",
        "complaint.track_heading": "Track a complaint",
        "complaint.track_intro": "Enter the ticket number and PIN you received when you filed the complaint.",
        "complaint.track_submit": "Track",
        "complaint.not_found": "No complaint with that ticket number and PIN.",
        "complaint.status_label": "Status",
        "complaint.received_at": "Received",
        "complaint.updated_at": "Last updated",
        "complaint.agency": "Agency",
        "complaint.replies": "Follow-up",
        "complaint.no_replies": "No follow-up yet.",
        "complaint.unavailable": "The complaints service is unavailable. Try again shortly.",
        "footer.text": "GRMS — open-source software for regional governments.",
        "problem.bad_request": "Bad request",
        "problem.validation": "The data sent is not valid",
        "problem.validation_detail": "Check the fields listed and send again.",
        "problem.unauthenticated": "Login required",
        "problem.unauthenticated_detail": "Credentials are missing, wrong or expired.",
        "problem.bad_credentials": "Wrong username or password.",
        "problem.forbidden": "Forbidden",
        "problem.forbidden_detail": "You are not allowed to do this.",
        "problem.not_found": "Not found",
        "problem.not_found_detail": "The requested resource was not found.",
        "problem.method_not_allowed": "Method not allowed",
        "problem.conflict": "Conflict",
        "problem.already_exists": "A record with that code exists already.",
        "problem.stale": "Someone else changed this since you read it; reload and try again.",
        "problem.failed_precondition": "Not possible in the current state",
        "problem.unavailable": "Service unavailable",
        "problem.unavailable_detail": "The {service} service is unavailable. Try again shortly.",
        "problem.timeout": "Timed out",
        "problem.timeout_detail": "The {service} service did not answer in time.",
        "problem.internal": "Internal error",
        "problem.internal_detail": "Something went wrong on the server; it has been logged.",
        "problem.too_large": "Request too large",
        "problem.if_match": 'The If-Match header must hold a version, e.g. "3".',
        "validation.missing": "is required",
        "validation.string_too_short": "is too short",
        "validation.string_too_long": "is too long",
        "validation.string_pattern_mismatch": "has the wrong format",
        "validation.literal_error": "is not a known value",
        "validation.enum": "is not a known value",
        "validation.int_parsing": "must be a whole number",
        "validation.extra_forbidden": "is not a known field",
        "validation.json_invalid": "is not valid JSON",
        "validation.greater_than_equal": "is too small",
        "validation.less_than_equal": "is too large",
    },
}


def translate(key: str, lang: Lang = "id", /, **values: object) -> str:
    """The text for `key` in `lang` (falling back to Indonesian, then the key), formatted with `values`."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES["id"].get(key) or key
    return text.format(**values) if values else text


def _accept_language(header: str) -> Lang | None:
    best: tuple[float, Lang] | None = None
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, primary)  # type: ignore[assignment]
    return best[1] if best else None


def negotiate(*, query: str | None, cookies: Mapping[str, str], accept_language: str | None) -> Lang:
    """The caller's language: `?lang=` wins, then the `lang` cookie, then Accept-Language; else Indonesian."""
    for choice in (query, cookies.get("lang")):
        if choice in LANGUAGES:
            return choice  # type: ignore[return-value]
    if accept_language:
        found = _accept_language(accept_language)
        if found:
            return found
    return "id"


def format_rupiah(amount: int) -> str:
    """Whole rupiah the Indonesian way: 1234567 → "Rp 1.234.567", -5000 → "-Rp 5.000"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("rupiah amounts are whole integers")
    digits = f"{abs(amount):,}".replace(",", ".")
    return f"{'-' if amount < 0 else ''}Rp {digits}"


def format_wib(moment: dt.datetime, *, with_seconds: bool = False) -> str:
    """An aware time shown in Western Indonesia Time: "24-11-2026 19:05 WIB"."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: GRMS shows aware UTC times only")
    pattern = "%d-%m-%Y %H:%M:%S" if with_seconds else "%d-%m-%Y %H:%M"
    return moment.astimezone(WIB).strftime(pattern) + " WIB"
