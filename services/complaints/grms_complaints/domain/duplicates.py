"""Likely duplicates: the same problem reported twice, found by words, place and time.

Plain Python, no I/O. Texts are normalised for Indonesian (lower case, no punctuation, no
redaction placeholders, the clitic -nya stripped, stop words dropped) and compared by
TF-IDF cosine similarity over the pool being compared; places by
the haversine distance between points (or the same village code when a point is missing);
time by a window before and after the complaint. The score mixes the three:

    score = 0.6 × text + 0.25 × nearness + 0.15 × same category

where nearness is 1 at the same spot falling to 0 at `radius_m` (0.5 for the same village
without points). A candidate must share the government, lie within the window and, when both
have points, within the radius; it is suggested from `threshold` (0.45) up, so a different
problem at the same spot needs real word overlap.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "DuplicateCandidate",
    "DuplicatePolicy",
    "Report",
    "haversine_m",
    "likely_duplicates",
    "tokens",
]

_WORD = re.compile(r"[a-z0-9]+")
_PLACEHOLDER = re.compile(r"\[[^\]]*disembunyikan\]")
# The clitic -nya ("jalannya" → "jalan") on a stem of four letters or more. Not -lah/-kah/-pun:
# they end too many roots (sekolah, masalah, wilayah).
_NYA = re.compile(r"\b([a-z0-9]{4,}?)nya\b")
#: Words that say nothing about the problem (Indonesian function words and complaint boilerplate).
STOP_WORDS = frozenset(
    """
    yang di ke dari dan atau ini itu sudah belum sejak untuk dengan pada ada tidak tak karena saya kami kita
    mereka dia ia anda bapak ibu pak bu mohon tolong segera agar supaya akan telah masih juga sangat sekali
    lagi hal oleh dalam luar atas bawah depan belakang sini sana situ jadi bisa dapat harus para setiap semua
    banyak sudah hari minggu bulan tahun jam pagi siang sore malam kemarin tadi nih dong sih ya yg dgn utk tdk
    sdh blm krn jl jln rt rw no nomor mas mbak kak terima kasih terimakasih laporan lapor melaporkan pengaduan
    aduan mengadu keluhan warga masyarakat kepada bagi tersebut sebagai seperti antara hingga sampai
    """.split()
)
EARTH_RADIUS_M = 6_371_000.0


def tokens(text: str) -> list[str]:
    """The content words of `text`, normalised for Indonesian."""
    text = text.lower()
    if "disembunyikan" in text:
        text = _PLACEHOLDER.sub(" ", text)
    text = _NYA.sub(r"\1", text)
    return [w for w in _WORD.findall(text) if len(w) > 1 and w not in STOP_WORDS and not w.isdigit()]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two WGS84 points, in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Report:
    """What duplicate detection needs of a complaint."""

    ticket_id: str
    government_code: str
    category_code: str
    text: str
    received_at: dt.datetime
    latitude: float | None = None
    longitude: float | None = None
    village_code: str = ""


@dataclass(frozen=True)
class DuplicatePolicy:
    """How near in place and time, and how similar, a duplicate must be."""

    radius_m: float = 1000.0
    window: dt.timedelta = dt.timedelta(days=30)
    threshold: float = 0.45
    max_results: int = 5


@dataclass(frozen=True)
class DuplicateCandidate:
    """A suggested duplicate and why: its score and the parts of it."""

    ticket_id: str
    score: float
    text_similarity: float
    # None when either complaint has no point.
    distance_m: float | None
    same_category: bool


def _tfidf(docs: Sequence[list[str]]) -> list[dict[str, float]]:
    n = len(docs)
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    vectors: list[dict[str, float]] = []
    for doc in docs:
        counts = Counter(doc)
        vector = {t: (c / len(doc)) * (math.log((1 + n) / (1 + df[t])) + 1) for t, c in counts.items()} if doc else {}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({t: v / norm for t, v in vector.items()})
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def likely_duplicates(
    report: Report, pool: Iterable[Report], policy: DuplicatePolicy | None = None
) -> list[DuplicateCandidate]:
    """The reports of `pool` that likely describe the same problem as `report`, best first."""
    policy = policy or DuplicatePolicy()
    candidates: list[tuple[Report, float | None]] = []
    for other in pool:
        if other.ticket_id == report.ticket_id or other.government_code != report.government_code:
            continue
        if abs(other.received_at - report.received_at) > policy.window:
            continue
        distance = None
        if None not in (report.latitude, report.longitude, other.latitude, other.longitude):
            distance = haversine_m(report.latitude, report.longitude, other.latitude, other.longitude)  # type: ignore[arg-type]
            if distance > policy.radius_m:
                continue
        candidates.append((other, distance))
    if not candidates:
        return []
    mine = tokens(report.text)
    words = set(mine)
    docs: list[list[str]] = []
    kept: list[tuple[Report, float | None]] = []
    for other, distance in candidates:
        theirs = tokens(other.text)
        if words.intersection(theirs):  # no word in common: text similarity 0, never suggested
            docs.append(theirs)
            kept.append((other, distance))
    if not kept:
        return []
    candidates = kept
    vectors = _tfidf([mine, *docs])
    found: list[DuplicateCandidate] = []
    for (other, distance), vector in zip(candidates, vectors[1:], strict=True):
        text = _cosine(vectors[0], vector)
        if distance is not None:
            near = max(0.0, 1.0 - distance / policy.radius_m)
        elif report.village_code and report.village_code == other.village_code:
            near = 0.5
        else:
            near = 0.0
        same_category = other.category_code == report.category_code
        score = 0.6 * text + 0.25 * near + 0.15 * same_category
        if score >= policy.threshold and text > 0:
            found.append(
                DuplicateCandidate(
                    ticket_id=other.ticket_id,
                    score=round(score, 4),
                    text_similarity=round(text, 4),
                    distance_m=round(distance, 1) if distance is not None else None,
                    same_category=same_category,
                )
            )
    found.sort(key=lambda c: (-c.score, c.ticket_id))
    return found[: policy.max_results]
