"""Likely duplicates: the same problem reported twice, found by words, place and time.

Plain Python, no I/O. Texts are normalised for Indonesian (lower case, no punctuation, no
redaction placeholders, the clitic -nya stripped, stop words dropped) and compared by
TF-IDF cosine similarity over the pool being compared; places by
the haversine distance between points (or the same village code when a point is missing);
time by a window before and after the complaint. A text's term counts are cached (by the
text itself, bounded): intake compares each new complaint with the same recent neighbours
again and again, and normalising their words was most of the cost. The score mixes the three:

    score = 0.6 × text + 0.25 × nearness + 0.15 × same category

where nearness is 1 at the same spot falling to 0 at `radius_m` (0.5 for the same village
without points). A candidate must share the government, lie within the window and, when both
have points, within the radius; it is suggested from `threshold` (0.45) up, so a different
problem at the same spot needs real word overlap.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grms_complaints.domain.model import Complaint

__all__ = [
    "DuplicateCandidate",
    "DuplicatePolicy",
    "Report",
    "haversine_m",
    "likely_duplicates",
    "report_of",
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


def report_of(c: Complaint) -> Report:
    """What duplicate detection reads of complaint `c`."""
    return Report(
        ticket_id=c.ticket_id,
        government_code=c.government_code,
        category_code=c.category_code,
        text=f"{c.title}\n{c.description}",
        received_at=c.received_at,
        latitude=c.location.latitude,
        longitude=c.location.longitude,
        village_code=c.location.village_code,
    )


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


@dataclass(frozen=True)
class _Doc:
    """A text as TF-IDF needs it: its term counts and its terms."""

    counts: dict[str, int]
    terms: tuple[str, ...]


@lru_cache(maxsize=8192)
def _doc(text: str) -> _Doc:
    """The term counts of `text` (cached: the same neighbours are compared with each new complaint)."""
    counts = Counter(tokens(text))
    return _Doc(dict(counts), tuple(counts))


def _similarities(mine: _Doc, docs: Sequence[_Doc]) -> list[float]:
    """TF-IDF cosine similarity of `mine` with each of `docs`, IDF over all of them together.

    Term frequency is count / length; the length cancels out of a cosine, so counts serve. Only
    a norm needs every term of a document; the dot product runs over `mine`'s few terms.
    """
    n = len(docs) + 1
    df: Counter[str] = Counter(mine.terms)
    for doc in docs:
        df.update(doc.terms)
    idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
    mine_weights = {t: c * idf[t] for t, c in mine.counts.items()}
    mine_norm = math.sqrt(sum(w * w for w in mine_weights.values())) or 1.0
    out: list[float] = []
    known: dict[int, float] = {}  # the same text is one cached _Doc: its similarity once per call
    for doc in docs:
        similarity = known.get(id(doc))
        if similarity is None:
            counts = doc.counts
            norm = math.sqrt(sum((c * idf[t]) ** 2 for t, c in counts.items())) or 1.0
            dot = sum(w * counts.get(t, 0) * idf[t] for t, w in mine_weights.items())
            similarity = known[id(doc)] = dot / (mine_norm * norm)
        out.append(similarity)
    return out


def likely_duplicates(
    report: Report, pool: Iterable[Report], policy: DuplicatePolicy | None = None
) -> list[DuplicateCandidate]:
    """The reports of `pool` that likely describe the same problem as `report`, best first."""
    policy = policy or DuplicatePolicy()
    candidates: list[tuple[Report, float | None]] = []
    earliest, latest = report.received_at - policy.window, report.received_at + policy.window
    located = report.latitude is not None and report.longitude is not None
    for other in pool:
        if other.ticket_id == report.ticket_id or other.government_code != report.government_code:
            continue
        if not earliest <= other.received_at <= latest:
            continue
        distance = None
        if located and other.latitude is not None and other.longitude is not None:
            distance = haversine_m(report.latitude, report.longitude, other.latitude, other.longitude)  # type: ignore[arg-type]
            if distance > policy.radius_m:
                continue
        candidates.append((other, distance))
    if not candidates:
        return []
    mine = _doc(report.text)
    docs: list[_Doc] = []
    kept: list[tuple[Report, float | None]] = []
    for other, distance in candidates:
        theirs = _doc(other.text)
        if not mine.counts.keys().isdisjoint(theirs.terms):  # no word in common: text similarity 0, never suggested
            docs.append(theirs)
            kept.append((other, distance))
    if not kept:
        return []
    candidates = kept
    # (-score, ticket id, …): the best first, built into candidates only for the few returned.
    found: list[tuple[float, str, float, float | None, bool]] = []
    for (other, distance), text in zip(candidates, _similarities(mine, docs), strict=True):
        if distance is not None:
            near = max(0.0, 1.0 - distance / policy.radius_m)
        elif report.village_code and report.village_code == other.village_code:
            near = 0.5
        else:
            near = 0.0
        same_category = other.category_code == report.category_code
        score = 0.6 * text + 0.25 * near + 0.15 * same_category
        if score >= policy.threshold and text > 0:
            found.append((-round(score, 4), other.ticket_id, text, distance, same_category))
    return [
        DuplicateCandidate(
            ticket_id=ticket_id,
            score=-score,
            text_similarity=round(text, 4),
            distance_m=round(distance, 1) if distance is not None else None,
            same_category=same_category,
        )
        for score, ticket_id, text, distance, same_category in heapq.nsmallest(
            policy.max_results, found, key=lambda f: (f[0], f[1])
        )
    ]
