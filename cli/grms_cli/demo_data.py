"""Deterministic demo reference data for Central Java: governments and agencies, as plain data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = [
    "PROVINCE_CODE",
    "DemoAgency",
    "DemoContact",
    "DemoGovernment",
    "all_agencies",
    "governments",
    "provincial_agencies",
    "regional_agencies",
]

PROVINCE_CODE = "33"


@dataclass(frozen=True)
class DemoGovernment:
    """A regional government: Kemendagri code, official name, level (province, regency, city)."""

    code: str
    name: str
    level: str
    parent_code: str


@dataclass(frozen=True)
class DemoContact:
    """A contact channel of an agency: kind is email, phone or whatsapp."""

    kind: str
    value: str
    verified: bool = True


@dataclass(frozen=True)
class DemoAgency:
    """An agency (OPD) of a government, with its head and verified contacts."""

    government_code: str
    code: str
    name: str
    short_name: str
    head_name: str
    head_title: str
    head_nip: str
    contacts: tuple[DemoContact, ...]


# Kemendagri region codes and names (DOMAIN.md §2.3), with the telephone area code and the
# official web domain used for the demo contacts.
_REGIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("01", "Cilacap", "regency", "282", "cilacapkab.go.id"),
    ("02", "Banyumas", "regency", "281", "banyumaskab.go.id"),
    ("03", "Purbalingga", "regency", "281", "purbalinggakab.go.id"),
    ("04", "Banjarnegara", "regency", "286", "banjarnegarakab.go.id"),
    ("05", "Kebumen", "regency", "287", "kebumenkab.go.id"),
    ("06", "Purworejo", "regency", "275", "purworejokab.go.id"),
    ("07", "Wonosobo", "regency", "286", "wonosobokab.go.id"),
    ("08", "Magelang", "regency", "293", "magelangkab.go.id"),
    ("09", "Boyolali", "regency", "276", "boyolali.go.id"),
    ("10", "Klaten", "regency", "272", "klatenkab.go.id"),
    ("11", "Sukoharjo", "regency", "271", "sukoharjokab.go.id"),
    ("12", "Wonogiri", "regency", "273", "wonogirikab.go.id"),
    ("13", "Karanganyar", "regency", "271", "karanganyarkab.go.id"),
    ("14", "Sragen", "regency", "271", "sragenkab.go.id"),
    ("15", "Grobogan", "regency", "292", "grobogan.go.id"),
    ("16", "Blora", "regency", "296", "blorakab.go.id"),
    ("17", "Rembang", "regency", "295", "rembangkab.go.id"),
    ("18", "Pati", "regency", "295", "patikab.go.id"),
    ("19", "Kudus", "regency", "291", "kuduskab.go.id"),
    ("20", "Jepara", "regency", "291", "jepara.go.id"),
    ("21", "Demak", "regency", "291", "demakkab.go.id"),
    ("22", "Semarang", "regency", "24", "semarangkab.go.id"),
    ("23", "Temanggung", "regency", "293", "temanggungkab.go.id"),
    ("24", "Kendal", "regency", "294", "kendalkab.go.id"),
    ("25", "Batang", "regency", "285", "batangkab.go.id"),
    ("26", "Pekalongan", "regency", "285", "pekalongankab.go.id"),
    ("27", "Pemalang", "regency", "284", "pemalangkab.go.id"),
    ("28", "Tegal", "regency", "283", "tegalkab.go.id"),
    ("29", "Brebes", "regency", "283", "brebeskab.go.id"),
    ("71", "Magelang", "city", "293", "magelangkota.go.id"),
    ("72", "Surakarta", "city", "271", "surakarta.go.id"),
    ("73", "Salatiga", "city", "298", "salatiga.go.id"),
    ("74", "Semarang", "city", "24", "semarangkota.go.id"),
    ("75", "Pekalongan", "city", "285", "pekalongankota.go.id"),
    ("76", "Tegal", "city", "283", "tegalkota.go.id"),
)

# The 48 provincial OPD (DOMAIN.md §6.1, plus BRIDA and the Setda bureaus that hold their own
# budget units): (SIPD-style unit code, name, short name, head's title, e-mail local part).
_PROVINCIAL_OPD: tuple[tuple[str, str, str, str, str], ...] = (
    ("4.01.0.00.0.00.01.0000", "Sekretariat Daerah", "Setda", "Sekretaris Daerah", "setda"),
    (
        "4.01.0.00.0.00.01.0001",
        "Biro Pemerintahan, Otonomi Daerah dan Kerja Sama",
        "Biro Pemotda",
        "Kepala Biro Pemerintahan, Otonomi Daerah dan Kerja Sama",
        "biropemotda",
    ),
    ("4.01.0.00.0.00.01.0002", "Biro Hukum", "Biro Hukum", "Kepala Biro Hukum", "birohukum"),
    ("4.01.0.00.0.00.01.0003", "Biro Perekonomian", "Biro Perekonomian", "Kepala Biro Perekonomian", "biroekonomi"),
    (
        "4.01.0.00.0.00.01.0004",
        "Biro Pengadaan Barang/Jasa",
        "Biro PBJ",
        "Kepala Biro Pengadaan Barang/Jasa",
        "biropbj",
    ),
    ("4.01.0.00.0.00.01.0005", "Biro Organisasi", "Biro Organisasi", "Kepala Biro Organisasi", "biroorganisasi"),
    ("4.01.0.00.0.00.01.0006", "Biro Umum", "Biro Umum", "Kepala Biro Umum", "biroumum"),
    ("4.02.0.00.0.00.01.0000", "Sekretariat DPRD", "Setwan", "Sekretaris DPRD", "setwan"),
    ("6.01.0.00.0.00.01.0000", "Inspektorat", "Inspektorat", "Inspektur", "inspektorat"),
    ("5.01.5.05.0.00.01.0000", "Badan Perencanaan Pembangunan Daerah", "Bappeda", "Kepala Bappeda", "bappeda"),
    ("5.02.0.00.0.00.01.0000", "Badan Pengelolaan Keuangan dan Aset Daerah", "BPKAD", "Kepala BPKAD", "bpkad"),
    ("5.02.0.00.0.00.02.0000", "Badan Pendapatan Daerah", "Bapenda", "Kepala Bapenda", "bapenda"),
    ("5.03.5.04.0.00.01.0000", "Badan Kepegawaian Daerah", "BKD", "Kepala BKD", "bkd"),
    ("5.04.0.00.0.00.01.0000", "Badan Pengembangan Sumber Daya Manusia Daerah", "BPSDMD", "Kepala BPSDMD", "bpsdmd"),
    ("5.05.0.00.0.00.01.0000", "Badan Riset dan Inovasi Daerah", "BRIDA", "Kepala BRIDA", "brida"),
    (
        "8.01.0.00.0.00.01.0000",
        "Badan Kesatuan Bangsa dan Politik",
        "Kesbangpol",
        "Kepala Badan Kesbangpol",
        "kesbangpol",
    ),
    ("1.05.0.00.0.00.02.0000", "Badan Penanggulangan Bencana Daerah", "BPBD", "Kepala Pelaksana BPBD", "bpbd"),
    ("4.01.0.00.0.00.02.0000", "Badan Penghubung", "Badan Penghubung", "Kepala Badan Penghubung", "penghubung"),
    (
        "1.05.0.00.0.00.01.0000",
        "Satuan Polisi Pamong Praja",
        "Satpol PP",
        "Kepala Satuan Polisi Pamong Praja",
        "satpolpp",
    ),
    (
        "1.01.2.22.0.00.01.0000",
        "Dinas Pendidikan dan Kebudayaan",
        "Disdikbud",
        "Kepala Dinas Pendidikan dan Kebudayaan",
        "disdikbud",
    ),
    ("1.02.0.00.0.00.01.0000", "Dinas Kesehatan", "Dinkes", "Kepala Dinas Kesehatan", "dinkes"),
    (
        "1.03.0.00.0.00.01.0000",
        "Dinas Pekerjaan Umum Bina Marga dan Cipta Karya",
        "DPU BMCK",
        "Kepala Dinas Pekerjaan Umum Bina Marga dan Cipta Karya",
        "dpubinamarga",
    ),
    (
        "1.03.0.00.0.00.02.0000",
        "Dinas Pekerjaan Umum Sumber Daya Air dan Penataan Ruang",
        "DPU SDA Taru",
        "Kepala Dinas Pekerjaan Umum Sumber Daya Air dan Penataan Ruang",
        "pusdataru",
    ),
    (
        "1.04.0.00.0.00.01.0000",
        "Dinas Perumahan Rakyat dan Kawasan Permukiman",
        "Disperakim",
        "Kepala Dinas Perumahan Rakyat dan Kawasan Permukiman",
        "disperakim",
    ),
    ("1.06.0.00.0.00.01.0000", "Dinas Sosial", "Dinsos", "Kepala Dinas Sosial", "dinsos"),
    (
        "2.07.3.32.0.00.01.0000",
        "Dinas Tenaga Kerja dan Transmigrasi",
        "Disnakertrans",
        "Kepala Dinas Tenaga Kerja dan Transmigrasi",
        "disnakertrans",
    ),
    (
        "2.08.2.14.0.00.01.0000",
        "Dinas Pemberdayaan Perempuan, Perlindungan Anak, Pengendalian Penduduk dan KB",
        "DP3AP2KB",
        "Kepala Dinas Pemberdayaan Perempuan, Perlindungan Anak, Pengendalian Penduduk dan KB",
        "dp3ap2kb",
    ),
    ("2.09.0.00.0.00.01.0000", "Dinas Ketahanan Pangan", "Dishanpan", "Kepala Dinas Ketahanan Pangan", "dishanpan"),
    (
        "2.11.3.28.0.00.01.0000",
        "Dinas Lingkungan Hidup dan Kehutanan",
        "DLHK",
        "Kepala Dinas Lingkungan Hidup dan Kehutanan",
        "dlhk",
    ),
    (
        "2.13.2.12.0.00.01.0000",
        "Dinas Pemberdayaan Masyarakat, Desa, Kependudukan dan Pencatatan Sipil",
        "Dispermadesdukcapil",
        "Kepala Dinas Pemberdayaan Masyarakat, Desa, Kependudukan dan Pencatatan Sipil",
        "dispermadesdukcapil",
    ),
    ("2.15.0.00.0.00.01.0000", "Dinas Perhubungan", "Dishub", "Kepala Dinas Perhubungan", "dishub"),
    (
        "2.16.2.20.2.21.01.0000",
        "Dinas Komunikasi dan Informatika",
        "Diskominfo",
        "Kepala Dinas Komunikasi dan Informatika",
        "diskominfo",
    ),
    (
        "2.17.0.00.0.00.01.0000",
        "Dinas Koperasi dan Usaha Kecil dan Menengah",
        "Dinkop UKM",
        "Kepala Dinas Koperasi dan UKM",
        "dinkopumkm",
    ),
    (
        "2.18.0.00.0.00.01.0000",
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
        "DPMPTSP",
        "Kepala Dinas Penanaman Modal dan PTSP",
        "dpmptsp",
    ),
    (
        "2.19.3.26.0.00.01.0000",
        "Dinas Kepemudaan, Olahraga dan Pariwisata",
        "Disporapar",
        "Kepala Dinas Kepemudaan, Olahraga dan Pariwisata",
        "disporapar",
    ),
    (
        "2.23.2.24.0.00.01.0000",
        "Dinas Kearsipan dan Perpustakaan",
        "Dinarpus",
        "Kepala Dinas Kearsipan dan Perpustakaan",
        "arpusda",
    ),
    ("3.25.0.00.0.00.01.0000", "Dinas Kelautan dan Perikanan", "DKP", "Kepala Dinas Kelautan dan Perikanan", "dkp"),
    (
        "3.27.0.00.0.00.01.0000",
        "Dinas Pertanian dan Perkebunan",
        "Distanbun",
        "Kepala Dinas Pertanian dan Perkebunan",
        "distanbun",
    ),
    (
        "3.27.0.00.0.00.02.0000",
        "Dinas Peternakan dan Kesehatan Hewan",
        "Disnakkeswan",
        "Kepala Dinas Peternakan dan Kesehatan Hewan",
        "disnakkeswan",
    ),
    (
        "3.29.0.00.0.00.01.0000",
        "Dinas Energi dan Sumber Daya Mineral",
        "Dinas ESDM",
        "Kepala Dinas Energi dan Sumber Daya Mineral",
        "esdm",
    ),
    (
        "3.30.3.31.0.00.01.0000",
        "Dinas Perindustrian dan Perdagangan",
        "Disperindag",
        "Kepala Dinas Perindustrian dan Perdagangan",
        "disperindag",
    ),
    ("1.02.0.00.0.00.01.0001", "RSUD Dr. Moewardi", "RSUD Moewardi", "Direktur RSUD Dr. Moewardi", "rsmoewardi"),
    (
        "1.02.0.00.0.00.01.0002",
        "RSUD Prof. Dr. Margono Soekarjo",
        "RSMS",
        "Direktur RSUD Prof. Dr. Margono Soekarjo",
        "rsmargono",
    ),
    ("1.02.0.00.0.00.01.0003", "RSUD Tugurejo", "RSUD Tugurejo", "Direktur RSUD Tugurejo", "rsudtugurejo"),
    ("1.02.0.00.0.00.01.0004", "RSUD Kelet", "RSUD Kelet", "Direktur RSUD Kelet", "rsudkelet"),
    (
        "1.02.0.00.0.00.01.0005",
        "RSJD Dr. Amino Gondohutomo",
        "RSJD Amino",
        "Direktur RSJD Dr. Amino Gondohutomo",
        "rsjdamino",
    ),
    (
        "1.02.0.00.0.00.01.0006",
        "RSJD Dr. RM Soedjarwadi",
        "RSJD Soedjarwadi",
        "Direktur RSJD Dr. RM Soedjarwadi",
        "rsjdsoedjarwadi",
    ),
    ("1.02.0.00.0.00.01.0007", "RSJD Surakarta", "RSJD Surakarta", "Direktur RSJD Surakarta", "rsjdsurakarta"),
)

# The six core agencies every regency and city gets: (unit code, name, short name, e-mail local part).
_CORE_OPD: tuple[tuple[str, str, str, str], ...] = (
    ("5.01.5.05.0.00.01.0000", "Badan Perencanaan Pembangunan Daerah", "Bappeda", "bappeda"),
    ("5.02.0.00.0.00.01.0000", "Badan Pengelolaan Keuangan dan Aset Daerah", "BPKAD", "bpkad"),
    ("1.01.0.00.0.00.01.0000", "Dinas Pendidikan", "Disdik", "disdik"),
    ("1.02.0.00.0.00.01.0000", "Dinas Kesehatan", "Dinkes", "dinkes"),
    ("1.03.0.00.0.00.01.0000", "Dinas Pekerjaan Umum", "DPU", "dpu"),
    ("1.06.0.00.0.00.01.0000", "Dinas Sosial", "Dinsos", "dinsos"),
)

_GIVEN = (
    "Agus",
    "Bambang",
    "Budi",
    "Dwi",
    "Eko",
    "Endang",
    "Hadi",
    "Hendra",
    "Indah",
    "Joko",
    "Kurniawan",
    "Lestari",
    "Nugroho",
    "Purwanto",
    "Retno",
    "Rina",
    "Setyo",
    "Sri",
    "Sugeng",
    "Suharto",
    "Tri",
    "Wahyu",
    "Widodo",
    "Yuni",
)
_FAMILY = (
    "Prasetyo",
    "Santoso",
    "Wibowo",
    "Hartono",
    "Susanto",
    "Rahayu",
    "Handayani",
    "Kusuma",
    "Pratama",
    "Setiawan",
    "Wulandari",
    "Saputra",
    "Suryani",
    "Haryanto",
    "Purnomo",
    "Sulistyo",
)
_DEGREES = ("S.E., M.M.", "S.T., M.T.", "S.H., M.H.", "S.Sos., M.Si.", "S.Pd., M.Pd.", "dr., M.Kes.", "Ir., M.Eng.")


def _digest(key: str) -> int:
    """A stable integer for `key` (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def _head(key: str) -> tuple[str, str]:
    """A deterministic plausible head's name and 18-digit NIP for the agency keyed `key`."""
    n = _digest(key)
    given = _GIVEN[n % len(_GIVEN)]
    family = _FAMILY[(n // 31) % len(_FAMILY)]
    degree = _DEGREES[(n // 997) % len(_DEGREES)]
    if degree.startswith(("dr.", "Ir.")):
        prefix, suffix = degree.split(", ", 1)
        name = f"{prefix} {given} {family}, {suffix}"
    else:
        name = f"{given} {family}, {degree}"
    born = f"{1966 + n % 14}{1 + (n // 7) % 12:02d}{1 + (n // 13) % 28:02d}"
    appointed = f"{1992 + (n // 17) % 10}{1 + (n // 19) % 12:02d}"
    gender = 1 + (n // 23) % 2
    nip = f"{born}{appointed}{gender}{1 + (n // 29) % 9:03d}"
    return name, nip


def _phone(area: str, key: str) -> str:
    """A deterministic E.164 landline in `area` (without the trunk 0): +62<area><subscriber>."""
    digits = 7 if len(area) == 2 else 6  # Semarang (024) numbers have 7 digits, smaller towns 6
    subscriber = str(_digest("phone:" + key) % 10**digits).zfill(digits)
    return f"+62{area}{subscriber}"


def _whatsapp(key: str) -> str:
    """A deterministic Indonesian mobile number in E.164 form."""
    return f"+62812{_digest('wa:' + key) % 10**8:08d}"


def governments() -> list[DemoGovernment]:
    """The province of Central Java and its 29 regencies and 6 cities, ordered by code."""
    out = [DemoGovernment(PROVINCE_CODE, "Provinsi Jawa Tengah", "province", "")]
    for suffix, name, level, _area, _domain in _REGIONS:
        prefix = "Kabupaten" if level == "regency" else "Kota"
        out.append(DemoGovernment(f"{PROVINCE_CODE}.{suffix}", f"{prefix} {name}", level, PROVINCE_CODE))
    return out


def provincial_agencies() -> list[DemoAgency]:
    """The 48 agencies (OPD) of the provincial government."""
    out = []
    for code, name, short, title, mailbox in _PROVINCIAL_OPD:
        key = f"{PROVINCE_CODE}/{code}"
        head_name, nip = _head(key)
        contacts = (
            DemoContact("email", f"{mailbox}@jatengprov.go.id"),
            DemoContact("phone", _phone("24", key)),
            DemoContact("whatsapp", _whatsapp(key)),
        )
        full_title = f"{title} Provinsi Jawa Tengah"
        out.append(DemoAgency(PROVINCE_CODE, code, name, short, head_name, full_title, nip, contacts))
    return out


def regional_agencies() -> list[DemoAgency]:
    """The six core agencies of each of the 35 regencies and cities."""
    out = []
    for suffix, region, level, area, domain in _REGIONS:
        government = f"{PROVINCE_CODE}.{suffix}"
        where = f"Kabupaten {region}" if level == "regency" else f"Kota {region}"
        for code, name, short, mailbox in _CORE_OPD:
            key = f"{government}/{code}"
            head_name, nip = _head(key)
            title = f"Kepala {short}" if short in ("Bappeda", "BPKAD") else f"Kepala {name}"
            contacts = (
                DemoContact("email", f"{mailbox}@{domain}"),
                DemoContact("phone", _phone(area, key)),
            )
            out.append(DemoAgency(government, code, name, short, head_name, f"{title} {where}", nip, contacts))
    return out


def all_agencies() -> list[DemoAgency]:
    """Every demo agency: the province's first, then each regency's and city's."""
    return provincial_agencies() + regional_agencies()
