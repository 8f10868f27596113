"""Open data: the approved budget (DPA) and its realisation as a Fiscal Data Package, price anomalies, audit heads.

No login: only approved plans and the audit chains' head hashes are published (DOMAIN §1.1,
"read-only public access that cannot be quietly disabled"; Satu Data Indonesia).

* `/open-data/budget/{year}/datapackage.json` — a Frictionless Tabular Data Package (valid
  under `frictionless validate`) whose fields also carry the Fiscal Data Package's
  `columnType`s, with the FDP `model` (measures and dimensions) and `fiscalPeriod`;
* `/open-data/budget/{year}/budget-lines.csv` — the lines, streamed batch by batch from the
  budgeting service: memory stays at one batch whatever the size of the year;
* `/open-data/budget/{year}/anomalies.json` — unit prices bunched at the SSH ceiling, and one
  item priced differently across agencies;
* `/open-data/audit/heads.json` — every plan's audit head and the combined head, to be
  anchored outside the database;
* `/open-data/audit/anchors.json` — the combined head as it was at the end of each WIB day
  (the daily anchors), newest first, page by page (`before`, `limit`, a `next` link). Save
  them: `grms audit verify --anchors saved.json` proves the audit chains still give the same
  heads, which a database administrator who rewrote the chains and the anchor rows cannot fake.

The descriptor says `profile: tabular-data-package`, not `fiscal-data-package`: frictionless
resolves the latter by downloading a JSON Schema, so a validator offline could not check it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from grms_gateway.state import Gateway, get_gateway
from grms_gateway.throttle import limited

__all__ = ["CSV_FIELDS", "DEFAULT_GOVERNMENT", "datapackage", "router"]

DEFAULT_GOVERNMENT = "33"
STREAM_TIMEOUT_SECONDS = 600.0
CSV_NAME = "budget-lines.csv"

router = APIRouter(prefix="/open-data", tags=["open-data"], dependencies=[Depends(limited("open_data"))])
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
COMBINED_HEAD_ALGORITHM = 'sha256 over "<plan_id> <seq> <hash>\\n" per plan, in plan_id order'
ANCHOR_PAGE_DEFAULT = 100
ANCHOR_PAGE_MAX = 500
Year = Annotated[int, Path(ge=2000, le=2100, description="Tahun anggaran / fiscal year")]
Government = Annotated[
    str, Query(min_length=1, max_length=20, pattern=r"^[0-9.]+$", description="Kode pemerintah daerah (default 33)")
]

# name, Table Schema type, FDP columnType, Bahasa Indonesia, English.
_FIELDS: list[tuple[str, str, str, str, str]] = [
    ("agency_code", "string", "administrative-classification:generic:level1:code",
     "Kode SKPD/OPD", "Agency (SKPD) code"),
    ("agency_name", "string", "administrative-classification:generic:level1:label",
     "Nama SKPD/OPD", "Agency name"),
    ("sub_activity_code", "string", "activity:generic:subactivity:code",
     "Kode sub kegiatan (Permendagri 90/2019)", "Sub-activity code (Permendagri 90/2019)"),
    ("line_number", "integer", "",
     "Nomor rincian dalam DPA sub kegiatan", "Line number within the sub-activity's DPA"),
    ("account_code", "string", "economic-classification:generic:level6:code:full",
     "Kode rekening belanja (bentuk SIPD-RI)", "Expenditure account code (SIPD-RI form)"),
    ("account_display_code", "string", "",
     "Kode rekening belanja (bentuk RKA)", "Expenditure account code (RKA display form)"),
    ("standard_item_code", "string", "",
     "Kode standar harga (SSH/HSPK/ASB/SBU)", "Standard price item code (e-HSB)"),
    ("description", "string", "", "Uraian / spesifikasi", "Description / specification"),
    ("volume", "string", "", "Koefisien (volume)", "Volume breakdown"),
    ("unit", "string", "", "Satuan", "Unit"),
    ("unit_price", "integer", "", "Harga satuan (rupiah)", "Unit price (rupiah)"),
    ("amount", "integer", "value", "Pagu DPA (rupiah)", "Approved amount (rupiah)"),
    ("funding_source", "string", "fin-source:generic:code", "Sumber dana", "Funding source"),
    ("disbursed", "integer", "value", "Realisasi SP2D (rupiah)", "Realisation: disbursed by SP2D (rupiah)"),
]  # fmt: skip

CSV_FIELDS = [f[0] for f in _FIELDS]
PRIMARY_KEY = ["agency_code", "sub_activity_code", "line_number"]


def _schema() -> dict[str, Any]:
    fields = []
    for name, kind, column_type, indonesian, english in _FIELDS:
        field: dict[str, Any] = {
            "name": name,
            "type": kind,
            "title": indonesian,
            "description": f"{indonesian} / {english}",
            "constraints": {"required": True},
        }
        if kind == "integer" and name != "line_number":
            field["constraints"]["minimum"] = 0
        if column_type:
            field["columnType"] = column_type
        fields.append(field)
    return {"fields": fields, "primaryKey": PRIMARY_KEY, "missingValues": [""]}


def datapackage(government: str, year: int) -> dict[str, Any]:
    """The descriptor of a government's approved budget and realisation of `year`."""
    path = CSV_NAME if government == DEFAULT_GOVERNMENT else f"{CSV_NAME}?government={government}"
    return {
        "profile": "tabular-data-package",
        "name": f"apbd-{government.replace('.', '-')}-{year}",
        "title": f"DPA dan realisasi APBD {government} tahun {year} / Approved budget and realisation {year}",
        "description": (
            "Rincian belanja DPA yang telah disetujui beserta realisasi SP2D, dari GRMS. "
            "Approved budget lines (DPA) with their realisation (SP2D disbursements), integer rupiah."
        ),
        "licenses": [
            {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "CC BY 4.0"}
        ],
        "keywords": ["APBD", "DPA", "realisasi", "fiscal-data-package"],
        "countryCode": "ID",
        "fiscalPeriod": {"start": f"{year}-01-01", "end": f"{year}-12-31"},
        "model": {
            "measures": {
                "amount": {"source": "amount", "currency": "IDR", "direction": "expenditure", "phase": "approved"},
                "disbursed": {
                    "source": "disbursed",
                    "currency": "IDR",
                    "direction": "expenditure",
                    "phase": "executed",
                },
            },
            "dimensions": {
                "administrative": {
                    "dimensionType": "classification",
                    "attributes": {
                        "code": {"source": "agency_code"},
                        "label": {"source": "agency_name", "labelfor": "code"},
                    },
                    "primaryKey": ["code"],
                },
                "activity": {
                    "dimensionType": "activity",
                    "attributes": {"code": {"source": "sub_activity_code"}},
                    "primaryKey": ["code"],
                },
                "economic": {
                    "dimensionType": "classification",
                    "classificationType": "economic",
                    "attributes": {"code": {"source": "account_code"}},
                    "primaryKey": ["code"],
                },
                "line": {
                    "dimensionType": "other",
                    "attributes": {
                        "agency": {"source": "agency_code"},
                        "subactivity": {"source": "sub_activity_code"},
                        "number": {"source": "line_number"},
                    },
                    "primaryKey": ["agency", "subactivity", "number"],
                },
                "source": {
                    "dimensionType": "fact",
                    "attributes": {"code": {"source": "funding_source"}},
                    "primaryKey": ["code"],
                },
            },
        },
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": "budget-lines",
                "path": path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "header": True},
                "schema": _schema(),
            }
        ],
    }


@router.get("/budget/{year}/datapackage.json", summary="Fiscal Data Package descriptor of the approved budget")
async def budget_datapackage(year: Year, government: Government = DEFAULT_GOVERNMENT) -> JSONResponse:
    return JSONResponse(datapackage(government, year))


def _csv_chunk(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


@router.get(
    "/budget/{year}/budget-lines.csv",
    summary="The approved budget lines and their realisation (CSV, streamed)",
    response_class=StreamingResponse,
)
async def budget_lines_csv(
    year: Year, gateway: GatewayDep, government: Government = DEFAULT_GOVERNMENT
) -> StreamingResponse:
    ctx = gateway.clients.context(None)
    batches = gateway.clients.budgeting.approved_budget_lines(
        government, year, ctx=ctx, stream_seconds=STREAM_TIMEOUT_SECONDS
    ).__aiter__()
    # The first batch is read before answering, so a refused request is still a problem document.
    first = await anext(batches, None)

    async def body() -> AsyncIterator[str]:
        try:
            yield _csv_chunk([CSV_FIELDS])
            batch = first
            while batch is not None:
                yield _csv_chunk([[getattr(line, name) for name in CSV_FIELDS] for line in batch.lines])
                batch = await anext(batches, None)
        finally:
            await batches.aclose()

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="apbd-{government}-{year}-{CSV_NAME}"'},
    )


def _percent(bp: int) -> float:
    return round(bp / 100, 2)


@router.get("/budget/{year}/anomalies.json", summary="Unit-price anomalies against the standard price list")
async def budget_anomalies(
    year: Year, gateway: GatewayDep, government: Government = DEFAULT_GOVERNMENT
) -> JSONResponse:
    found = await gateway.clients.budgeting.unit_price_anomalies(government, year, ctx=gateway.clients.context(None))
    return JSONResponse(
        {
            "government_code": government,
            "fiscal_year": year,
            "ceiling_threshold_percent": _percent(found.ceiling_threshold_bp),
            "ceiling_bunching": [
                {
                    "agency_code": b.agency_code,
                    "agency_name": b.agency_name,
                    "priced_lines": b.priced_lines,
                    "lines_at_ceiling": b.lines_at_ceiling,
                    "line_share_percent": _percent(b.line_share_bp),
                    "priced_amount": b.priced_amount,
                    "amount_at_ceiling": b.amount_at_ceiling,
                    "amount_share_percent": _percent(b.amount_share_bp),
                }
                for b in found.ceiling_bunching
            ],
            "price_spreads": [
                {
                    "standard_item_code": s.standard_item_code,
                    "item_name": s.item_name,
                    "unit": s.unit,
                    "standard_price": s.standard_price,
                    "min_unit_price": s.min_unit_price,
                    "max_unit_price": s.max_unit_price,
                    "spread": s.spread,
                    "spread_percent": _percent(s.spread_bp),
                    "agencies": [
                        {
                            "agency_code": a.agency_code,
                            "agency_name": a.agency_name,
                            "min_unit_price": a.min_unit_price,
                            "max_unit_price": a.max_unit_price,
                            "line_count": a.line_count,
                        }
                        for a in s.agencies
                    ],
                }
                for s in found.price_spreads
            ],
        }
    )


@router.get("/audit/heads.json", summary="The audit chains' heads and their combined hash")
async def audit_heads(
    request: Request, gateway: GatewayDep, government: Government = DEFAULT_GOVERNMENT
) -> JSONResponse:
    heads = (await gateway.clients.budgeting.audit_heads(government, ctx=gateway.clients.context(None))).heads
    return JSONResponse(
        {
            "government_code": heads.government_code,
            "computed_at": heads.compute_time.ToDatetime().isoformat() + "Z",
            "combined_hash": heads.combined_hash,
            "algorithm": COMBINED_HEAD_ALGORITHM,
            "anchors": str(request.url_for("audit_anchors").include_query_params(government=government)),
            "plans": [
                {
                    "plan_id": h.plan_id,
                    "agency_code": h.agency_code,
                    "fiscal_year": h.fiscal_year,
                    "seq": h.seq,
                    "hash": h.hash,
                }
                for h in heads.plans
            ],
        }
    )


@router.get("/audit/anchors.json", summary="The daily anchors of the audit heads, newest day first")
async def audit_anchors(
    request: Request,
    gateway: GatewayDep,
    government: Government = DEFAULT_GOVERNMENT,
    before: Annotated[
        str,
        Query(
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="Only the days before this one (YYYY-MM-DD, WIB); the `next` link sets it",
        ),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=ANCHOR_PAGE_MAX, description="Anchors per page")] = ANCHOR_PAGE_DEFAULT,
) -> JSONResponse:
    found = await gateway.clients.budgeting.audit_anchors(
        government, before=before, limit=limit, ctx=gateway.clients.context(None)
    )
    body: dict[str, Any] = {
        "government_code": government,
        "algorithm": COMBINED_HEAD_ALGORITHM + "; each plan's last audit entry before the day's end (WIB midnight)",
        "anchors": [
            {
                "day": a.day,
                "combined_hash": a.combined_hash,
                "plan_count": a.plan_count,
                "entry_count": a.entry_count,
                "computed_at": a.compute_time.ToDatetime().isoformat() + "Z",
            }
            for a in found.anchors
        ],
    }
    if found.page.next_page_token:
        body["next"] = str(
            request.url_for("audit_anchors").include_query_params(
                government=government, before=found.page.next_page_token, limit=limit
            )
        )
    return JSONResponse(body)
