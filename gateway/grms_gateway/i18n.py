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
        "nav.proposals": "Usulan",
        "nav.planning": "Perencanaan",
        "nav.login": "Masuk",
        "nav.logout": "Keluar",
        "nav.account": "Akun",
        "proposal.form_heading": "Sampaikan usulan pembangunan",
        "proposal.form_intro": (
            "Usulkan kegiatan untuk desa atau kelurahan Anda. Nama dan kontak Anda hanya dilihat petugas "
            "perencanaan dan tidak pernah ditampilkan di halaman publik."
        ),
        "proposal.about": "Usulan",
        "proposal.government": "Pemerintah daerah",
        "proposal.village_code": "Kode desa/kelurahan",
        "proposal.village_hint": "Contoh: 33.74.01.1001 (boleh dikosongkan).",
        "proposal.category": "Bidang",
        "proposal.title": "Judul",
        "proposal.description": "Uraian",
        "proposal.you": "Data Anda (tidak ditampilkan ke publik)",
        "proposal.proposer_name": "Nama",
        "proposal.proposer_contact": "Telepon atau surel",
        "proposal.submit": "Kirim usulan",
        "proposal.errors": "Usulan belum dapat dikirim. Periksa isian berikut:",
        "proposal.unavailable": "Layanan perencanaan sedang tidak tersedia. Coba lagi sebentar lagi.",
        "proposal.submitted_heading": "Usulan Anda sudah diterima",
        "proposal.submitted_intro": (
            "Simpan nomor usulan ini. Nomor ini hanya ditampilkan sekali dan diperlukan untuk mengikuti "
            "perkembangan usulan Anda."
        ),
        "proposal.public_id": "Nomor usulan",
        "proposal.follow": "Lihat perkembangan usulan",
        "proposal.heading": "Usulan {public_id}",
        "proposal.status_label": "Status",
        "proposal.place": "Lokasi",
        "proposal.village": "Desa/kelurahan {code}",
        "proposal.submitted_at": "Diajukan",
        "proposal.updated_at": "Terakhir diperbarui",
        "proposal.history": "Riwayat",
        "proposal.time": "Waktu",
        "proposal.note": "Catatan",
        "proposal.no_history": "Belum ada riwayat.",
        "proposal.privacy_note": "Identitas pengusul tidak ditampilkan.",
        "proposal.status.submitted": "Diajukan",
        "proposal.status.under_review": "Sedang ditelaah",
        "proposal.status.accepted": "Diterima ke dalam rencana",
        "proposal.status.rejected": "Tidak diterima",
        "proposal.status.unspecified": "Tidak diketahui",
        "proposal.category.infrastructure": "Infrastruktur",
        "proposal.category.health": "Kesehatan",
        "proposal.category.education": "Pendidikan",
        "proposal.category.economy": "Ekonomi",
        "proposal.category.social": "Sosial",
        "proposal.category.environment": "Lingkungan hidup",
        "proposal.category.governance": "Tata kelola pemerintahan",
        "proposal.category.other": "Lainnya",
        "proposal.category.unspecified": "Tidak diketahui",
        "login.heading": "Masuk",
        "login.intro": "Halaman perencanaan hanya untuk petugas. Masuk dengan akun GRMS Anda.",
        "login.username": "Nama pengguna",
        "login.password": "Kata sandi",
        "login.submit": "Masuk",
        "login.failed": "Nama pengguna atau kata sandi salah, atau akun tidak aktif.",
        "login.logged_out": "Anda sudah keluar.",
        "logout.heading": "Keluar",
        "logout.intro": "Anda masuk sebagai {name}. Keluar dari GRMS di peramban ini?",
        "logout.submit": "Keluar",
        "planning.list_heading": "Sub kegiatan {year}",
        "planning.list_intro": "Sub kegiatan {government}, tahun anggaran {year}.",
        "planning.fiscal_year": "Tahun anggaran",
        "planning.show": "Tampilkan",
        "planning.none": "Belum ada sub kegiatan pada tahun anggaran ini.",
        "planning.more": "Hanya 500 sub kegiatan pertama yang ditampilkan.",
        "planning.code": "Kode",
        "planning.name": "Nama",
        "planning.agency": "Perangkat daerah",
        "planning.budget": "Pagu",
        "planning.approved_budget": "Pagu disetujui",
        "planning.status": "Status",
        "planning.status.draft": "Draf",
        "planning.status.planned": "Direncanakan",
        "planning.status.unspecified": "Tidak diketahui",
        "planning.back": "Kembali ke daftar sub kegiatan",
        "planning.indicators": "Indikator",
        "planning.no_indicators": "Belum ada indikator.",
        "planning.level": "Tingkat",
        "planning.kind": "Jenis",
        "planning.target": "Target",
        "planning.unit": "Satuan",
        "planning.level.program": "Program",
        "planning.level.activity": "Kegiatan",
        "planning.level.sub_activity": "Sub kegiatan",
        "planning.level.unspecified": "—",
        "planning.kind.output": "Keluaran",
        "planning.kind.outcome": "Hasil",
        "planning.kind.unspecified": "—",
        "planning.s_curve": "Kurva S rencana",
        "planning.no_plan": "Rencana bulanan (F1) belum ditetapkan, jadi kurva S belum ada.",
        "planning.chart_title": "Kurva S rencana {name}",
        "planning.chart_desc": (
            "Persentase kumulatif rencana fisik dan realisasi keuangan di akhir setiap bulan, Januari sampai "
            "Desember. Pada Desember fisik {physical} % dan keuangan {financial} %. Angka lengkap ada di tabel di"
            " bawah."
        ),
        "planning.physical": "Fisik (%)",
        "planning.financial": "Keuangan kumulatif (%)",
        "planning.disbursement": "Penyerapan kumulatif",
        "planning.month": "Bulan",
        "planning.percent": "Persen",
        "planning.table_caption": "Data kurva S rencana per bulan",
        "problem_page.proposal": "Usulan tidak ditemukan",
        "problem_page.proposal_detail": "Tidak ada usulan dengan nomor itu. Periksa kembali nomor usulan Anda.",
        "problem_page.sub_activity": "Sub kegiatan tidak ditemukan",
        "problem_page.sub_activity_detail": "Tidak ada sub kegiatan dengan pengenal itu.",
        "problem_page.forbidden": "Akses ditolak",
        "problem_page.forbidden_detail": "Akun Anda tidak berwenang membuka halaman ini.",
        "problem_page.unavailable": "Layanan tidak tersedia",
        "problem_page.unavailable_detail": "Layanan perencanaan sedang tidak tersedia. Coba lagi sebentar lagi.",
        "problem_page.home": "Kembali ke beranda",
        "month.1": "Jan",
        "month.2": "Feb",
        "month.3": "Mar",
        "month.4": "Apr",
        "month.5": "Mei",
        "month.6": "Jun",
        "month.7": "Jul",
        "month.8": "Agu",
        "month.9": "Sep",
        "month.10": "Okt",
        "month.11": "Nov",
        "month.12": "Des",
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
        "nav.proposals": "Proposals",
        "nav.planning": "Planning",
        "nav.login": "Log in",
        "nav.logout": "Log out",
        "nav.account": "Account",
        "proposal.form_heading": "Submit a development proposal",
        "proposal.form_intro": (
            "Propose an activity for your village. Your name and contact are seen only by planning staff and are "
            "never shown on public pages."
        ),
        "proposal.about": "Proposal",
        "proposal.government": "Regional government",
        "proposal.village_code": "Village code",
        "proposal.village_hint": "For example 33.74.01.1001 (optional).",
        "proposal.category": "Field",
        "proposal.title": "Title",
        "proposal.description": "Description",
        "proposal.you": "About you (never shown publicly)",
        "proposal.proposer_name": "Name",
        "proposal.proposer_contact": "Phone or e-mail",
        "proposal.submit": "Send proposal",
        "proposal.errors": "The proposal could not be sent yet. Check the following:",
        "proposal.unavailable": "The planning service is unavailable. Try again shortly.",
        "proposal.submitted_heading": "Your proposal was received",
        "proposal.submitted_intro": (
            "Keep this proposal number. It is shown only once and you need it to follow your proposal."
        ),
        "proposal.public_id": "Proposal number",
        "proposal.follow": "Follow the proposal",
        "proposal.heading": "Proposal {public_id}",
        "proposal.status_label": "Status",
        "proposal.place": "Place",
        "proposal.village": "Village {code}",
        "proposal.submitted_at": "Submitted",
        "proposal.updated_at": "Last updated",
        "proposal.history": "History",
        "proposal.time": "Time",
        "proposal.note": "Note",
        "proposal.no_history": "No history yet.",
        "proposal.privacy_note": "The proposer's identity is not shown.",
        "proposal.status.submitted": "Submitted",
        "proposal.status.under_review": "Under review",
        "proposal.status.accepted": "Accepted into the plan",
        "proposal.status.rejected": "Not accepted",
        "proposal.status.unspecified": "Unknown",
        "proposal.category.infrastructure": "Infrastructure",
        "proposal.category.health": "Health",
        "proposal.category.education": "Education",
        "proposal.category.economy": "Economy",
        "proposal.category.social": "Social",
        "proposal.category.environment": "Environment",
        "proposal.category.governance": "Governance",
        "proposal.category.other": "Other",
        "proposal.category.unspecified": "Unknown",
        "login.heading": "Log in",
        "login.intro": "The planning pages are for staff. Log in with your GRMS account.",
        "login.username": "Username",
        "login.password": "Password",
        "login.submit": "Log in",
        "login.failed": "Wrong username or password, or the account is not active.",
        "login.logged_out": "You have logged out.",
        "logout.heading": "Log out",
        "logout.intro": "You are logged in as {name}. Log out of GRMS in this browser?",
        "logout.submit": "Log out",
        "planning.list_heading": "Sub-activities {year}",
        "planning.list_intro": "Sub-activities of {government}, fiscal year {year}.",
        "planning.fiscal_year": "Fiscal year",
        "planning.show": "Show",
        "planning.none": "No sub-activities in this fiscal year yet.",
        "planning.more": "Only the first 500 sub-activities are shown.",
        "planning.code": "Code",
        "planning.name": "Name",
        "planning.agency": "Agency",
        "planning.budget": "Budget",
        "planning.approved_budget": "Approved budget",
        "planning.status": "Status",
        "planning.status.draft": "Draft",
        "planning.status.planned": "Planned",
        "planning.status.unspecified": "Unknown",
        "planning.back": "Back to the sub-activities",
        "planning.indicators": "Indicators",
        "planning.no_indicators": "No indicators yet.",
        "planning.level": "Level",
        "planning.kind": "Kind",
        "planning.target": "Target",
        "planning.unit": "Unit",
        "planning.level.program": "Program",
        "planning.level.activity": "Activity",
        "planning.level.sub_activity": "Sub-activity",
        "planning.level.unspecified": "—",
        "planning.kind.output": "Output",
        "planning.kind.outcome": "Outcome",
        "planning.kind.unspecified": "—",
        "planning.s_curve": "Planned S-curve",
        "planning.no_plan": "The monthly plan (F1) is not set yet, so there is no S-curve.",
        "planning.chart_title": "Planned S-curve of {name}",
        "planning.chart_desc": (
            "Cumulative planned physical progress and financial disbursement at the end of each month, January to"
            " December. In December physical is {physical} % and financial {financial} %. The table below has "
            "every figure."
        ),
        "planning.physical": "Physical (%)",
        "planning.financial": "Cumulative financial (%)",
        "planning.disbursement": "Cumulative disbursement",
        "planning.month": "Month",
        "planning.percent": "Percent",
        "planning.table_caption": "Planned S-curve data by month",
        "problem_page.proposal": "Proposal not found",
        "problem_page.proposal_detail": "There is no proposal with that number. Check your proposal number.",
        "problem_page.sub_activity": "Sub-activity not found",
        "problem_page.sub_activity_detail": "There is no sub-activity with that id.",
        "problem_page.forbidden": "Access denied",
        "problem_page.forbidden_detail": "Your account may not open this page.",
        "problem_page.unavailable": "Service unavailable",
        "problem_page.unavailable_detail": "The planning service is unavailable. Try again shortly.",
        "problem_page.home": "Back to the home page",
        "month.1": "Jan",
        "month.2": "Feb",
        "month.3": "Mar",
        "month.4": "Apr",
        "month.5": "May",
        "month.6": "Jun",
        "month.7": "Jul",
        "month.8": "Aug",
        "month.9": "Sep",
        "month.10": "Oct",
        "month.11": "Nov",
        "month.12": "Dec",
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


# The e-budgeting pages' words live in their own module (added, not interleaved, here).
from grms_gateway.i18n_budget import BUDGET_MESSAGES  # noqa: E402

for _lang, _texts in BUDGET_MESSAGES.items():
    MESSAGES[_lang].update(_texts)


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
