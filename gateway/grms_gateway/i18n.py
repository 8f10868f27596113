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
