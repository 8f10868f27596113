"""The complaint categories citizens choose from: also the Open311 GeoReport v2 service list.

A small, documented default list (DOMAIN §1.8: what LaporGub! receives most), which a
deployment replaces with GRMS_COMPLAINTS_CATEGORIES (a JSON list of objects with these
fields). A complaint must name one of the configured codes. The SLA of a category is
configured apart (GRMS_COMPLAINTS_SLA_CATEGORIES); without an entry it has the defaults.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from grms_kit.errors import Conflict, FieldViolation, InvalidArgument

__all__ = [
    "DEFAULT_CATEGORIES",
    "Category",
    "GovernmentCategory",
    "check_category",
    "effective_categories",
]

_CODE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,59}$")
MAX_KEYWORDS = 20


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


@dataclass(frozen=True)
class GovernmentCategory:
    """A category as one government uses it: edited by its admins, routed by default to one of its agencies.

    `version` 0 is a configured category nobody has edited for this government yet; every
    save adds one, and a save naming another version than the stored one is refused.
    """

    government_code: str
    category: Category
    default_agency_code: str = ""
    active: bool = True
    version: int = 0
    updated_by: str = ""
    updated_at: dt.datetime | None = None

    @property
    def code(self) -> str:
        return self.category.code

    def changed(
        self,
        category: Category,
        *,
        default_agency_code: str,
        active: bool,
        expected_version: int,
        actor: str,
        now: dt.datetime,
    ) -> GovernmentCategory:
        """The next version, validated; Conflict when `expected_version` (0: any) is not the current one."""
        if expected_version and expected_version != self.version:
            raise Conflict(
                f"category {self.code} of government {self.government_code} is at version {self.version},"
                f" not {expected_version}; reload and try again"
            )
        return dataclasses.replace(
            self,
            category=check_category(category),
            default_agency_code=default_agency_code.strip(),
            active=active,
            version=self.version + 1,
            updated_by=actor,
            updated_at=now,
        )


def check_category(category: Category, prefix: str = "category") -> Category:
    """The category with its text trimmed; InvalidArgument naming every bad field."""
    violations: list[FieldViolation] = []

    def text(value: str, name: str, low: int, high: int) -> str:
        value = " ".join(value.split())
        if not low <= len(value) <= high:
            violations.append(FieldViolation(f"{prefix}.{name}", f"must be {low} to {high} characters"))
        return value

    code = category.code.strip()
    if not _CODE.match(code):
        violations.append(FieldViolation(f"{prefix}.code", "must be a code like 'jalan_rusak' (a-z, 0-9, _ . -)"))
    name = text(category.name, "name", 2, 200)
    name_en = text(category.name_en, "name_en", 2, 200)
    description = text(category.description, "description", 0, 1000)
    group = text(category.group, "group", 0, 60)
    keywords = tuple(k for k in (" ".join(k.split()).lower() for k in category.keywords) if k)
    if len(keywords) > MAX_KEYWORDS or any(len(k) > 40 or "|" in k for k in keywords):
        violations.append(
            FieldViolation(f"{prefix}.keywords", f"at most {MAX_KEYWORDS} keywords of at most 40 characters, no '|'")
        )
    if violations:
        raise InvalidArgument(violations)
    return Category(code, name, name_en, description, group, keywords)


def effective_categories(
    government_code: str, configured: Iterable[Category], saved: Iterable[GovernmentCategory]
) -> list[GovernmentCategory]:
    """The categories of a government: the configured ones overlaid by its saved ones, ordered by code.

    Inactive categories are included (admins see them); filing accepts only active ones.
    """
    merged = {c.code: GovernmentCategory(government_code, c) for c in configured}
    for row in saved:
        merged[row.code] = row
    return [merged[code] for code in sorted(merged)]
