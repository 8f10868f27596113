"""Words of the complaint categories admin page, added to the gateway's dictionary on import."""

from __future__ import annotations

from grms_gateway.i18n import MESSAGES

__all__ = ["WORDS"]

WORDS: dict[str, dict[str, str]] = {
    "id": {
        "nav.categories": "Kategori pengaduan",
        "categories.heading": "Kategori Pengaduan",
        "categories.intro": "Kategori yang dapat dipilih warga untuk {government}, ke perangkat daerah mana "
        "masing-masing didisposisikan bila tidak disebutkan lain, dan apakah masih aktif.",
        "categories.code": "Kode",
        "categories.name": "Nama",
        "categories.name_en": "Nama (bahasa Inggris)",
        "categories.description": "Keterangan",
        "categories.group": "Kelompok",
        "categories.keywords": "Kata kunci",
        "categories.keywords_hint": "Pisahkan dengan koma, paling banyak 20.",
        "categories.default_agency": "Perangkat daerah tujuan bawaan",
        "categories.no_agency": "— tidak ada (dipilih saat disposisi) —",
        "categories.active": "Aktif (dapat dipilih untuk pengaduan baru)",
        "categories.state": "Status",
        "categories.state_active": "Aktif",
        "categories.state_retired": "Nonaktif",
        "categories.version": "Versi",
        "categories.updated": "Terakhir diubah",
        "categories.configured": "bawaan sistem",
        "categories.edit": "Ubah",
        "categories.edit_heading": "Ubah kategori {code}",
        "categories.create_heading": "Tambah kategori",
        "categories.create": "Tambah kategori",
        "categories.save": "Simpan perubahan",
        "categories.back": "Kembali ke daftar kategori",
        "categories.created": "Kategori {code} ditambahkan.",
        "categories.saved": "Perubahan kategori {code} tersimpan (versi {version}).",
        "categories.errors": "Belum tersimpan, periksa isian berikut:",
        "categories.code_taken": "Kode ini sudah dipakai untuk pemerintah daerah ini; ubah kategori itu saja.",
        "categories.agency_unknown": "Perangkat daerah ini tidak dikenal layanan pengaduan.",
        "categories.conflict": "Kategori ini sudah diubah sejak Anda membukanya (oleh {who}, {time}, versi "
        "{version}). Perubahan Anda belum disimpan.",
        "categories.you": "Anda sendiri di halaman lain",
        "categories.conflict_now": "Yang tersimpan sekarang: {name}; tujuan bawaan {agency}; {state}.",
        "categories.conflict_hint": "Periksa isian di bawah, lalu simpan lagi untuk menimpanya.",
        "categories.none": "—",
        "problem_page.category": "Kategori tidak ditemukan",
        "problem_page.category_detail": "Tidak ada kategori pengaduan dengan kode itu untuk pemerintah daerah Anda.",
    },
    "en": {
        "nav.categories": "Complaint categories",
        "categories.heading": "Complaint Categories",
        "categories.intro": "The categories citizens can choose for {government}, the agency each is routed to "
        "unless told otherwise, and whether it is still in use.",
        "categories.code": "Code",
        "categories.name": "Name",
        "categories.name_en": "Name (English)",
        "categories.description": "Description",
        "categories.group": "Group",
        "categories.keywords": "Keywords",
        "categories.keywords_hint": "Separated by commas, at most 20.",
        "categories.default_agency": "Default agency",
        "categories.no_agency": "— none (chosen when routing) —",
        "categories.active": "Active (offered for new complaints)",
        "categories.state": "State",
        "categories.state_active": "Active",
        "categories.state_retired": "Retired",
        "categories.version": "Version",
        "categories.updated": "Last changed",
        "categories.configured": "configured default",
        "categories.edit": "Edit",
        "categories.edit_heading": "Edit category {code}",
        "categories.create_heading": "Add a category",
        "categories.create": "Add category",
        "categories.save": "Save changes",
        "categories.back": "Back to the categories",
        "categories.created": "Category {code} added.",
        "categories.saved": "Category {code} saved (version {version}).",
        "categories.errors": "Not saved; check these fields:",
        "categories.code_taken": "This code is taken for this government; edit that category instead.",
        "categories.agency_unknown": "The complaints service does not know this agency.",
        "categories.conflict": "This category was changed since you opened it (by {who}, {time}, version "
        "{version}). Your changes are not saved.",
        "categories.you": "yourself on another page",
        "categories.conflict_now": "Saved now: {name}; default agency {agency}; {state}.",
        "categories.conflict_hint": "Check the fields below, then save again to overwrite it.",
        "categories.none": "—",
        "problem_page.category": "Category not found",
        "problem_page.category_detail": "There is no complaint category with that code for your government.",
    },
}

for _lang, _words in WORDS.items():
    for _key, _text in _words.items():
        MESSAGES[_lang].setdefault(_key, _text)
