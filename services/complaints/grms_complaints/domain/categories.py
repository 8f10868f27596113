"""The complaint categories citizens choose from: also the Open311 GeoReport v2 service list.

A small, documented default list (DOMAIN §1.8: what LaporGub! receives most), which a
deployment replaces with GRMS_COMPLAINTS_CATEGORIES (a JSON list of objects with these
fields). A complaint must name one of the configured codes. The SLA of a category is
configured apart (GRMS_COMPLAINTS_SLA_CATEGORIES); without an entry it has the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_CATEGORIES", "Category"]


@dataclass(frozen=True)
class Category:
    """One kind of complaint: a stable code, names in Indonesian and English, an Open311 group."""

    code: str
    name: str
    name_en: str
    description: str
    group: str
    keywords: tuple[str, ...] = field(default_factory=tuple)


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category(
        "jalan_rusak",
        "Jalan dan jembatan rusak",
        "Damaged roads and bridges",
        "Jalan berlubang, jembatan rusak, drainase jalan tersumbat di jalan provinsi.",
        "infrastruktur",
        ("jalan", "jembatan", "lubang"),
    ),
    Category(
        "penerangan_jalan",
        "Penerangan jalan umum",
        "Street lighting",
        "Lampu penerangan jalan mati atau rusak.",
        "infrastruktur",
        ("lampu", "pju"),
    ),
    Category(
        "banjir_drainase",
        "Banjir dan drainase",
        "Flooding and drainage",
        "Genangan, banjir, saluran air tersumbat, tanggul rusak.",
        "lingkungan",
        ("banjir", "rob", "saluran"),
    ),
    Category(
        "sampah_lingkungan",
        "Sampah dan pencemaran",
        "Waste and pollution",
        "Sampah menumpuk, pembuangan liar, pencemaran air atau udara.",
        "lingkungan",
        ("sampah", "limbah", "polusi"),
    ),
    Category(
        "layanan_kesehatan",
        "Layanan kesehatan",
        "Health services",
        "Pelayanan rumah sakit daerah, puskesmas, BPJS Kesehatan di fasilitas daerah.",
        "pelayanan_publik",
        ("rumah sakit", "puskesmas", "bpjs"),
    ),
    Category(
        "pendidikan",
        "Pendidikan",
        "Education",
        "SMA/SMK/SLB negeri, PPDB, pungutan sekolah, beasiswa daerah.",
        "pelayanan_publik",
        ("sekolah", "ppdb", "beasiswa"),
    ),
    Category(
        "administrasi_perizinan",
        "Administrasi dan perizinan",
        "Administration and permits",
        "Pelayanan perizinan, pajak kendaraan (Samsat), administrasi di perangkat daerah.",
        "pelayanan_publik",
        ("izin", "samsat", "pajak"),
    ),
    Category(
        "bantuan_sosial",
        "Bantuan sosial",
        "Social assistance",
        "Penyaluran bantuan sosial, data penerima, rumah tidak layak huni.",
        "sosial",
        ("bansos", "rtlh"),
    ),
    Category(
        "lainnya",
        "Lainnya",
        "Other",
        "Pengaduan, aspirasi atau permintaan informasi yang tidak masuk kategori lain.",
        "lainnya",
        (),
    ),
)
