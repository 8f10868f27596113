"""Planning pages: citizens' proposals (/usulan, public) and the planner's sub-activities (/perencanaan, login).

Server-rendered, no script. The public proposal page shows status, category, place, dates
(WIB) and the public history only: the planning service's public view has no proposer data.
The planner's pages forward the session's token to planning, which checks roles and tenancy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from grms.common.v1 import money_pb2, paging_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms.planning.v1 import procurement_pb2, sub_activity_pb2
from grms_kit.errors import FieldViolation

from grms_gateway.clients import CallContext
from grms_gateway.errors import UpstreamError
from grms_gateway.i18n import WIB
from grms_gateway.routes.planning import planning
from grms_gateway.schemas.planning import CATEGORY_VALUES, public_proposal_out, staff_proposal_out, sub_activity_out
from grms_gateway.schemas.planning_recurring import cluster_out
from grms_gateway.schemas.planning_stages import stage_book_out, stage_diff_out, stage_out
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.throttle import limited
from grms_gateway.web.charts import s_curve_chart
from grms_gateway.web.pages import DEFAULT_GOVERNMENT, NO_STORE, problem_page, render, service_down
from grms_gateway.web.session import login_redirect, session_caller

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
CATEGORIES = tuple(CATEGORY_VALUES)
_PUBLIC_ID = re.compile(r"^[Uu]-[0-9A-Za-z]{16}$")
_SUB_ACTIVITY_ID = re.compile(r"^[0-9A-Za-z-]{1,36}$")
_FIELDS = ("government_code", "village_code", "category", "title", "description", "proposer_name", "proposer_contact")
_LIMITS = {"village_code": 20, "title": 200, "description": 5000, "proposer_name": 100, "proposer_contact": 200}


async def _governments(gateway: Gateway, ctx: CallContext, within: str) -> dict[str, str]:
    found = await planning(gateway).list_governments(ctx=ctx, within=within, page_size=500)
    return {g.code: g.name for g in found}


# Citizens' proposals.


async def _form_page(
    request: Request, gateway: Gateway, values: dict[str, str], errors: list[FieldViolation], status_code: int
) -> HTMLResponse:
    governments: dict[str, str] = {}
    unavailable = False
    try:
        governments = await _governments(gateway, gateway.clients.context(None), DEFAULT_GOVERNMENT)
    except UpstreamError as err:
        if not service_down(err):
            raise
        unavailable, status_code = True, 503
    context: dict[str, Any] = {
        "governments": governments,
        "categories": CATEGORIES,
        "values": values,
        "errors": errors,
        "unavailable": unavailable,
    }
    return render(request, gateway, "planning_proposal_form.html", context, status_code=status_code)


@router.get("/usulan", response_class=HTMLResponse)
async def proposal_form(request: Request, gateway: GatewayDep) -> HTMLResponse:
    """The form to submit a proposal (usulan)."""
    return await _form_page(request, gateway, {"government_code": DEFAULT_GOVERNMENT}, [], 200)


@router.post("/usulan", response_class=HTMLResponse, dependencies=[Depends(limited("intake"))])
async def submit_proposal(request: Request, gateway: GatewayDep) -> HTMLResponse:
    """Submit; show the public id once, or the form again with what is wrong."""
    form = await request.form()
    values = {k: str(form.get(k, "")).strip()[: _LIMITS.get(k, 20)] for k in _FIELDS}
    submitted = pb.SubmitProposalRequest(
        government_code=values["government_code"],
        village_code=values["village_code"],
        category=CATEGORY_VALUES.get(values["category"], 0),  # type: ignore[arg-type]
        title=values["title"],
        description=values["description"],
        proposer_name=values["proposer_name"],
        proposer_contact=values["proposer_contact"],
    )
    try:
        answer = await planning(gateway).submit_proposal(submitted, ctx=gateway.clients.context(None))
    except UpstreamError as err:
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:
            return await _form_page(request, gateway, values, err.violations or [FieldViolation("", err.message)], 400)
        if err.code == grpc.StatusCode.NOT_FOUND:
            return await _form_page(request, gateway, values, [FieldViolation("government_code", err.message)], 400)
        if service_down(err):
            return await _form_page(request, gateway, values, [], 503)
        raise
    response = render(
        request, gateway, "planning_proposal_submitted.html", {"public_id": answer.proposal.public_id}, status_code=201
    )
    response.headers.update(NO_STORE)
    return response


@router.get("/usulan/{public_id}", response_class=HTMLResponse)
async def proposal_page(request: Request, public_id: str, gateway: GatewayDep) -> HTMLResponse:
    """A proposal's status and public history; never the proposer's name or contact."""
    if not _PUBLIC_ID.match(public_id):
        return problem_page(request, gateway, "proposal", 404)
    ctx = gateway.clients.context(None)
    try:
        found = await planning(gateway).get_public_proposal(public_id.upper(), ctx=ctx)
    except UpstreamError as err:
        if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return problem_page(request, gateway, "proposal", 404)
        if service_down(err):
            return problem_page(request, gateway, "unavailable", 503)
        raise
    proposal = public_proposal_out(found.proposal)
    try:
        government_name = (await _governments(gateway, ctx, proposal.government_code)).get(proposal.government_code)
    except UpstreamError:
        government_name = None
    history = proposal.history
    context = {
        "proposal": proposal,
        "government_name": government_name,
        "submitted_at": history[0].time if history else None,
        "updated_at": history[-1].time if history else None,
    }
    return render(request, gateway, "planning_proposal.html", context)


# The planner's sub-activities (login).


@router.get("/perencanaan", response_model=None)
async def sub_activities_page(
    request: Request,
    gateway: GatewayDep,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    """The sub-activities of the logged-in user's government in a fiscal year (this year unless `tahun`)."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    government = caller.identity.government or DEFAULT_GOVERNMENT
    fiscal_year = tahun or dt.datetime.now(WIB).year
    ctx = gateway.clients.context(caller.token)
    client = planning(gateway)
    listed, agencies, governments = await asyncio.gather(
        client.list_sub_activities(
            pb.ListSubActivitiesRequest(
                government_code=government, fiscal_year=fiscal_year, page=paging_pb2.PageRequest(page_size=500)
            ),
            ctx=ctx,
        ),
        client.list_agencies(government, ctx=ctx, page_size=500),
        _governments(gateway, ctx, government),
        return_exceptions=True,
    )
    if isinstance(listed, BaseException):
        if not isinstance(listed, UpstreamError):
            raise listed
        if listed.code == grpc.StatusCode.UNAUTHENTICATED:
            return login_redirect(request)
        if listed.code == grpc.StatusCode.PERMISSION_DENIED:
            return problem_page(request, gateway, "forbidden", 403)
        if service_down(listed):
            return problem_page(request, gateway, "unavailable", 503)
        raise listed
    context = {
        "sub_activities": [sub_activity_out(s) for s in listed.sub_activities],
        "agency_names": {} if isinstance(agencies, BaseException) else {a.code: a.name for a in agencies},
        "government": government,
        "government_name": None if isinstance(governments, BaseException) else governments.get(government),
        "fiscal_year": fiscal_year,
        "more": bool(listed.page.next_page_token),
    }
    response = render(request, gateway, "planning_sub_activities.html", context)
    response.headers.update(NO_STORE)
    return response


# The planning stages (tahapan) of an agency-year, and their diffs. Registered before
# /perencanaan/{sub_activity_id}, which would otherwise take "tahapan" for an id.

_AGENCY = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,39}$")


def _upstream_page(request: Request, gateway: Gateway, err: UpstreamError, kind: str) -> Response:
    """The page for an upstream refusal that is not the caller's input."""
    if err.code == grpc.StatusCode.UNAUTHENTICATED:
        return login_redirect(request)
    if err.code == grpc.StatusCode.PERMISSION_DENIED:
        return problem_page(request, gateway, "forbidden", 403)
    if err.code == grpc.StatusCode.NOT_FOUND:
        return problem_page(request, gateway, kind, 404)
    if service_down(err):
        return problem_page(request, gateway, "unavailable", 503)
    raise err


async def _stages_page(
    request: Request,
    gateway: Gateway,
    caller: Any,
    fiscal_year: int,
    agency: str,
    *,
    errors: list[FieldViolation] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    government = caller.identity.government or DEFAULT_GOVERNMENT
    ctx = gateway.clients.context(caller.token)
    client = planning(gateway)
    try:
        agencies = await client.list_agencies(government, ctx=ctx, page_size=500)
    except UpstreamError as err:
        return _upstream_page(request, gateway, err, "agency")
    own = set(caller.identity.agencies or ())
    choices = {a.code: a.name for a in agencies if not own or a.code in own}
    if not agency and choices:
        agency = next(iter(choices))
    book = None
    if agency:
        if not _AGENCY.match(agency):
            return problem_page(request, gateway, "agency", 404)
        try:
            found = await client.get_stage_book(
                pb.GetStageBookRequest(government_code=government, agency_code=agency, fiscal_year=fiscal_year),
                ctx=ctx,
            )
        except UpstreamError as err:
            return _upstream_page(request, gateway, err, "agency")
        book = stage_book_out(found.book)
    closed = [s.number for s in book.stages if s.closed_at is not None] if book else []
    context = {
        "government": government,
        "fiscal_year": fiscal_year,
        "agency": agency,
        "agencies": choices,
        "book": book,
        "closed": closed,
        "errors": errors or [],
        "notice": notice,
    }
    response = render(request, gateway, "planning_stages.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


@router.get("/perencanaan/tahapan", response_model=None)
async def stages_page(
    request: Request,
    gateway: GatewayDep,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    opd: Annotated[str, Query(max_length=40)] = "",
    pesan: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The stages of an agency-year: closed stages with their totals, the open one, and the forms to move on."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    notice = pesan if pesan in ("closed", "opened") else ""
    return await _stages_page(request, gateway, caller, tahun or dt.datetime.now(WIB).year, opd, notice=notice)


def _int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


@router.post("/perencanaan/tahapan", response_model=None)
async def stage_action(request: Request, gateway: GatewayDep) -> Response:
    """Close the open stage (`aksi=tutup`) or open a perubahan (`aksi=perubahan`, with `alasan`)."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    form = await request.form()
    fiscal_year = _int(form.get("tahun"), dt.datetime.now(WIB).year)
    agency = str(form.get("opd", "")).strip()[:40]
    action = str(form.get("aksi", ""))
    version = max(_int(form.get("versi")), 0)
    government = caller.identity.government or DEFAULT_GOVERNMENT
    scope = {"government_code": government, "agency_code": agency, "fiscal_year": fiscal_year}
    ctx = gateway.clients.context(caller.token)
    try:
        if action == "tutup":
            await planning(gateway).close_stage(pb.CloseStageRequest(**scope, expected_version=version), ctx=ctx)
            notice = "closed"
        elif action == "perubahan":
            reason = str(form.get("alasan", "")).strip()[:1000]
            await planning(gateway).open_revision_stage(
                pb.OpenRevisionStageRequest(**scope, reason=reason, expected_version=version), ctx=ctx
            )
            notice = "opened"
        else:
            return await _stages_page(
                request, gateway, caller, fiscal_year, agency, errors=[FieldViolation("aksi", "")], status_code=400
            )
    except UpstreamError as err:
        if err.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED):
            errors = err.violations or [FieldViolation("", err.message)]
            status_code = 400 if err.code == grpc.StatusCode.INVALID_ARGUMENT else 409
            return await _stages_page(
                request, gateway, caller, fiscal_year, agency, errors=errors, status_code=status_code
            )
        return _upstream_page(request, gateway, err, "agency")
    target = f"/perencanaan/tahapan?tahun={fiscal_year}&opd={quote(agency)}&pesan={notice}"
    return RedirectResponse(target, status_code=303)


@router.get("/perencanaan/tahapan/beda", response_model=None)
async def stage_diff_page(
    request: Request,
    gateway: GatewayDep,
    opd: Annotated[str, Query(max_length=40)],
    dari: Annotated[int, Query(ge=0, le=10_000)],
    ke: Annotated[int, Query(ge=0, le=10_000)] = 0,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    """What changed from stage `dari` to stage `ke` (0: the current working plan), item by item and field by field."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _AGENCY.match(opd):
        return problem_page(request, gateway, "agency", 404)
    fiscal_year = tahun or dt.datetime.now(WIB).year
    government = caller.identity.government or DEFAULT_GOVERNMENT
    ctx = gateway.clients.context(caller.token)
    try:
        found = await planning(gateway).diff_stages(
            pb.DiffStagesRequest(
                government_code=government, agency_code=opd, fiscal_year=fiscal_year, from_stage=dari, to_stage=ke
            ),
            ctx=ctx,
        )
    except UpstreamError as err:
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:
            return await _stages_page(
                request, gateway, caller, fiscal_year, opd, errors=err.violations, status_code=400
            )
        return _upstream_page(request, gateway, err, "agency")
    diff = stage_diff_out(
        list(found.items),
        stage_out(found.old_stage) if found.HasField("old_stage") else None,
        stage_out(found.new_stage) if found.HasField("new_stage") else None,
    )
    counts = {kind: sum(1 for i in diff.items if i.change == kind) for kind in ("added", "removed", "changed")}
    context = {"diff": diff, "counts": counts, "agency": opd, "fiscal_year": fiscal_year, "dari": dari, "ke": ke}
    response = render(request, gateway, "planning_stage_diff.html", context)
    response.headers.update(NO_STORE)
    return response


def _package_row(p: procurement_pb2.ProcurementPackage) -> dict[str, Any]:
    def months(r: procurement_pb2.MonthRange) -> str:
        return f"{r.start_month}–{r.end_month}" if r.start_month else "—"

    return {
        "id": p.id,
        "sub_activity_id": p.sub_activity_id,
        "mak": p.mak,
        "name": p.name,
        "type": procurement_pb2.ProcurementType.Name(p.procurement_type).removeprefix("PROCUREMENT_TYPE_").lower(),
        "mode": procurement_pb2.ProcurementMode.Name(p.mode).removeprefix("PROCUREMENT_MODE_").lower(),
        "method": procurement_pb2.SelectionMethod.Name(p.method).removeprefix("SELECTION_METHOD_").lower(),
        "value": p.value.rupiah,
        "domestic_product": p.domestic_product,
        "small_business": p.small_business,
        "selection": months(p.selection_schedule),
        "contract": months(p.contract_schedule),
        "use": months(p.use_schedule),
    }


def _finding_row(f: procurement_pb2.SplitFinding) -> dict[str, Any]:
    return {
        "agency_code": f.agency_code,
        "sub_activity_code": f.sub_activity_code,
        "account_code": f.account_code,
        "threshold": f.threshold.rupiah,
        "total": f.total.rupiah,
        "count": len(f.packages),
        "names": [p.name for p in f.packages],
        "ids": [p.id for p in f.packages],
    }


async def _splits(
    gateway: Gateway, ctx: CallContext, government: str, fiscal_year: int, agency: str
) -> list[dict[str, Any]]:
    found = await planning(gateway).detect_splits(
        pb.DetectSplitPackagesRequest(government_code=government, fiscal_year=fiscal_year, agency_code=agency), ctx=ctx
    )
    return [_finding_row(f) for f in found.findings]


@router.get("/perencanaan/rup", response_model=None)
async def rup_page(
    request: Request,
    gateway: GatewayDep,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    opd: Annotated[str, Query(max_length=40)] = "",
    pesan: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The procurement plan (RUP) of a year, by MAK, with the suspected split packages flagged."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if opd and not _AGENCY.match(opd):
        return problem_page(request, gateway, "agency", 404)
    government = caller.identity.government or DEFAULT_GOVERNMENT
    fiscal_year = tahun or dt.datetime.now(WIB).year
    ctx = gateway.clients.context(caller.token)
    try:
        listed, findings = await asyncio.gather(
            planning(gateway).list_packages(
                pb.ListProcurementPackagesRequest(
                    government_code=government,
                    fiscal_year=fiscal_year,
                    agency_code=opd,
                    page=paging_pb2.PageRequest(page_size=500),
                ),
                ctx=ctx,
            ),
            _splits(gateway, ctx, government, fiscal_year, opd),
        )
    except UpstreamError as err:
        return _upstream_page(request, gateway, err, "agency")
    packages = [_package_row(p) for p in listed.packages]
    flagged = {i for f in findings for i in f["ids"]}
    context = {
        "fiscal_year": fiscal_year,
        "agency": opd,
        "packages": packages,
        "findings": findings,
        "flagged": flagged,
        "total": sum(p["value"] for p in packages),
        "more": bool(listed.page.next_page_token),
        "notice": "paket" if pesan == "paket" else "",
    }
    response = render(request, gateway, "planning_rup.html", context)
    response.headers.update(NO_STORE)
    return response


@router.get("/perencanaan/usulan", response_model=None)
async def planner_proposals_page(
    request: Request,
    gateway: GatewayDep,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    pesan: Annotated[str, Query(max_length=30)] = "",
) -> Response:
    """Proposals of the planner's government, and the year's recurring complaints offered as proposals."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    return await _proposals_view(request, gateway, caller, tahun, pesan, [], 200)


async def _proposals_view(
    request: Request,
    gateway: Gateway,
    caller: Any,
    tahun: int | None,
    pesan: str,
    errors: list[FieldViolation],
    status_code: int,
) -> Response:
    government = caller.identity.government or DEFAULT_GOVERNMENT
    year = tahun or dt.datetime.now(WIB).year
    ctx = gateway.clients.context(caller.token)
    client = planning(gateway)
    try:
        listed, recurring = await asyncio.gather(
            client.list_proposals(
                pb.ListProposalsRequest(government_code=government, page=paging_pb2.PageRequest(page_size=500)),
                ctx=ctx,
            ),
            client.list_recurring(pb.ListRecurringComplaintsRequest(government_code=government, year=year), ctx=ctx),
        )
    except UpstreamError as err:
        return _upstream_page(request, gateway, err, "proposal")
    clusters = [cluster_out(c) for c in recurring.clusters]
    context = {
        "year": year,
        "threshold": recurring.threshold,
        "clusters": clusters,
        "proposals": [staff_proposal_out(p) for p in listed.proposals],
        "notice": pesan if _PUBLIC_ID.match(pesan) else "",
        "errors": errors,
    }
    response = render(request, gateway, "planning_proposals.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


@router.post("/perencanaan/usulan", response_model=None)
async def propose_from_complaints_page(request: Request, gateway: GatewayDep) -> Response:
    """Turn a recurring-complaint cluster into a proposal; back to the list with its public id."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    form = await request.form()
    year = _int(form.get("tahun"), dt.datetime.now(WIB).year)
    cmd = pb.ProposeFromComplaintsRequest(
        government_code=caller.identity.government or DEFAULT_GOVERNMENT,
        year=year,
        village_code=str(form.get("desa", "")).strip()[:20],
        category_code=str(form.get("kategori", "")).strip()[:60],
    )
    try:
        created = await planning(gateway).propose_from_complaints(cmd, ctx=gateway.clients.context(caller.token))
    except UpstreamError as err:
        refused = _refusal(err)
        if refused is None and err.code == grpc.StatusCode.NOT_FOUND:
            refused = ([FieldViolation("", err.message)], 404)
        if refused is None:
            return _upstream_page(request, gateway, err, "proposal")
        tahun = year if 2000 <= year <= 2100 else None
        return await _proposals_view(request, gateway, caller, tahun, "", refused[0], refused[1])
    public_id = created.proposal.proposal.public_id
    return RedirectResponse(f"/perencanaan/usulan?tahun={year}&pesan={public_id}", status_code=303)


@router.get("/perencanaan/{sub_activity_id}", response_model=None)
async def sub_activity_page(
    request: Request,
    sub_activity_id: str,
    gateway: GatewayDep,
    pesan: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One sub-activity: code, name, agency, budget, indicators (with the form to add one) and its S-curve."""
    caller, _, found, early = await _load_sub_activity(request, gateway, sub_activity_id)
    if early is not None:
        return early
    assert found is not None
    notice = pesan if pesan in ("indikator", "ditetapkan", "dibuka", "f1", "paket") else ""
    return await _sub_activity_view(request, gateway, caller, found, {"notice": notice}, 200)


async def _sub_activity_view(
    request: Request,
    gateway: Gateway,
    caller: Any,
    found: pb.GetSubActivityResponse,
    extra: dict[str, Any],
    status_code: int,
) -> Response:
    ctx = gateway.clients.context(caller.token)
    client = planning(gateway)
    sub_activity = sub_activity_out(found.sub_activity)
    try:
        agency_name: str | None = (
            await client.get_agency(sub_activity.government_code, sub_activity.agency_code, ctx=ctx)
        ).name
    except UpstreamError:
        agency_name = None
    points = sorted(found.s_curve, key=lambda p: p.month)
    context = {
        "sub_activity": sub_activity,
        "agency_name": agency_name,
        "s_curve": [
            {
                "month": p.month,
                "physical_percent": p.physical_percent,
                "financial_percent": p.financial_percent,
                "cumulative_disbursement": p.cumulative_disbursement.rupiah,
            }
            for p in points
        ],
        "chart": s_curve_chart([(p.month, p.physical_percent, p.financial_percent) for p in points])
        if len(points) == 12
        else None,
        "levels": _LEVELS,
        "kinds": _KINDS,
        "formulas": _FORMULAS,
        "indicator_values": {},
        "indicator_errors": {},
        "general_errors": [],
        "notice": "",
        **extra,
    }
    response = render(request, gateway, "planning_sub_activity.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


# The planner's editors: indicators, the monthly plan (F1) and procurement packages (RUP).

_LEVELS = ("sub_activity", "activity", "program")
_KINDS = ("output", "outcome")
_FORMULAS = ("increasing", "decreasing", "percentage")
_SHAPES = ("construction", "goods", "services")
_TYPES = ("barang", "pekerjaan_konstruksi", "jasa_konsultansi", "jasa_lainnya")
_TYPE_PB = {
    "barang": procurement_pb2.PROCUREMENT_TYPE_GOODS,
    "pekerjaan_konstruksi": procurement_pb2.PROCUREMENT_TYPE_WORKS,
    "jasa_konsultansi": procurement_pb2.PROCUREMENT_TYPE_CONSULTING,
    "jasa_lainnya": procurement_pb2.PROCUREMENT_TYPE_OTHER_SERVICES,
}
_METHODS = ("pengadaan_langsung", "e_purchasing", "penunjukan_langsung", "tender_cepat", "tender", "seleksi")
_MONTH_FIELD = re.compile(r"^months\[(\d+)\]\.(physical_percent|disbursement)$")


def _rupiah_input(text: str) -> int | None:
    """Whole rupiah from what a planner types: "1.250.000", "Rp 1.250.000" or "1250000"; None if not."""
    cleaned = text.strip().removeprefix("Rp").replace(".", "").replace(" ", "").replace("\u00a0", "")
    return int(cleaned) if cleaned.isdigit() and len(cleaned) <= 15 else None


async def _load_sub_activity(
    request: Request, gateway: Gateway, sub_activity_id: str
) -> tuple[Any, CallContext, pb.GetSubActivityResponse | None, Response | None]:
    """The caller, its context and the sub-activity, or the response to send instead."""
    caller = session_caller(request, gateway)
    if caller is None:
        return None, gateway.clients.context(None), None, login_redirect(request)
    if not _SUB_ACTIVITY_ID.match(sub_activity_id):
        return caller, gateway.clients.context(None), None, problem_page(request, gateway, "sub_activity", 404)
    ctx = gateway.clients.context(caller.token)
    try:
        found = await planning(gateway).get_sub_activity(sub_activity_id, ctx=ctx)
    except UpstreamError as err:
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:
            return caller, ctx, None, problem_page(request, gateway, "sub_activity", 404)
        return caller, ctx, None, _upstream_page(request, gateway, err, "sub_activity")
    return caller, ctx, found, None


def _refusal(err: UpstreamError) -> tuple[list[FieldViolation], int] | None:
    """The caller's mistake as violations and an HTTP status, or None when it is not one."""
    if err.code == grpc.StatusCode.INVALID_ARGUMENT:
        return err.violations or [FieldViolation("", err.message)], 400
    if err.code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED, grpc.StatusCode.ALREADY_EXISTS):
        return [FieldViolation("", err.message)], 409
    return None


@router.post("/perencanaan/{sub_activity_id}/indikator", response_model=None)
async def add_indicator(request: Request, sub_activity_id: str, gateway: GatewayDep) -> Response:
    """Add an indicator; on a mistake the page comes back with the errors next to their fields."""
    caller, ctx, found, early = await _load_sub_activity(request, gateway, sub_activity_id)
    if early is not None:
        return early
    assert found is not None
    form = await request.form()
    values = {k: str(form.get(k, "")).strip()[:300] for k in ("level", "kind", "name", "unit", "target", "formula")}
    indicator = sub_activity_pb2.Indicator(
        level=sub_activity_pb2.IndicatorLevel.Value(f"INDICATOR_LEVEL_{values['level'].upper()}")
        if values["level"] in _LEVELS
        else 0,
        kind=sub_activity_pb2.IndicatorKind.Value(f"INDICATOR_KIND_{values['kind'].upper()}")
        if values["kind"] in _KINDS
        else 0,
        name=values["name"],
        unit=values["unit"],
        target=values["target"],
        formula=sub_activity_pb2.IndicatorFormula.Value(f"INDICATOR_FORMULA_{values['formula'].upper()}")
        if values["formula"] in _FORMULAS
        else 0,
    )
    try:
        await planning(gateway).add_indicator(
            pb.AddIndicatorRequest(
                sub_activity_id=sub_activity_id, indicator=indicator, expected_version=found.sub_activity.version
            ),
            ctx=ctx,
        )
    except UpstreamError as err:
        refused = _refusal(err)
        if refused is None:
            return _upstream_page(request, gateway, err, "sub_activity")
        errors, status_code = refused
        by_field = {v.field.removeprefix("indicator."): v.description for v in errors if v.field}
        general = [v for v in errors if not v.field]
        extra = {"indicator_values": values, "indicator_errors": by_field, "general_errors": general}
        return await _sub_activity_view(request, gateway, caller, found, extra, status_code)
    return RedirectResponse(f"/perencanaan/{sub_activity_id}?pesan=indikator#indicators-heading", status_code=303)


async def _sub_activity_action(
    request: Request,
    sub_activity_id: str,
    gateway: Gateway,
    act: Callable[[CallContext, pb.GetSubActivityResponse], Awaitable[object]],
    notice: str,
) -> Response:
    """Load the sub-activity, `act` on it, and come back to its page with `notice` or with the refusal."""
    caller, ctx, found, early = await _load_sub_activity(request, gateway, sub_activity_id)
    if early is not None:
        return early
    assert found is not None
    try:
        await act(ctx, found)
    except UpstreamError as err:
        refused = _refusal(err)
        if refused is None:
            return _upstream_page(request, gateway, err, "sub_activity")
        return await _sub_activity_view(request, gateway, caller, found, {"general_errors": refused[0]}, refused[1])
    return RedirectResponse(f"/perencanaan/{sub_activity_id}?pesan={notice}", status_code=303)


@router.post("/perencanaan/{sub_activity_id}/tetapkan", response_model=None)
async def mark_planned(request: Request, sub_activity_id: str, gateway: GatewayDep) -> Response:
    """Mark the sub-activity planned; what it still lacks is said on the page."""

    async def act(ctx: CallContext, found: pb.GetSubActivityResponse) -> object:
        return await planning(gateway).mark_planned(
            pb.MarkSubActivityPlannedRequest(
                sub_activity_id=sub_activity_id, expected_version=found.sub_activity.version
            ),
            ctx=ctx,
        )

    return await _sub_activity_action(request, sub_activity_id, gateway, act, "ditetapkan")


@router.post("/perencanaan/{sub_activity_id}/buka-kembali", response_model=None)
async def reopen(request: Request, sub_activity_id: str, gateway: GatewayDep) -> Response:
    """Reopen a planned sub-activity as a draft, with a reason; a locked plan says to open a perubahan."""
    reason = str((await request.form()).get("alasan", ""))[:1000]

    async def act(ctx: CallContext, found: pb.GetSubActivityResponse) -> object:
        return await planning(gateway).reopen(
            pb.ReopenSubActivityRequest(
                sub_activity_id=sub_activity_id, expected_version=found.sub_activity.version, reason=reason
            ),
            ctx=ctx,
        )

    return await _sub_activity_action(request, sub_activity_id, gateway, act, "dibuka")


def _f1_rows(months: list[Any]) -> list[dict[str, str]]:
    by_month = {m.month: m for m in months}
    rows = []
    for month in range(1, 13):
        m = by_month.get(month)
        rows.append(
            {
                "month": str(month),
                "physical": m.physical_percent if m else "",
                "money": f"{m.disbursement.rupiah}" if m else "",
            }
        )
    return rows


async def _f1_page(
    request: Request,
    gateway: Gateway,
    found: pb.GetSubActivityResponse,
    rows: list[dict[str, str]],
    *,
    row_errors: dict[int, dict[str, str]] | None = None,
    general: list[FieldViolation] | None = None,
    shape: str = "",
    status_code: int = 200,
) -> Response:
    s = sub_activity_out(found.sub_activity)
    budget = s.approved_budget if s.approved_budget is not None else s.budget
    total = sum(_rupiah_input(r["money"]) or 0 for r in rows)
    context = {
        "sub_activity": s,
        "budget": budget,
        "rows": rows,
        "row_errors": row_errors or {},
        "general_errors": general or [],
        "shapes": _SHAPES,
        "shape": shape,
        "total": total,
        "editable": s.status == "draft",
    }
    response = render(request, gateway, "planning_f1.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


@router.get("/perencanaan/{sub_activity_id}/f1", response_model=None)
async def f1_page(
    request: Request,
    sub_activity_id: str,
    gateway: GatewayDep,
    usul: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The F1 editor: twelve months of cumulative physical % and money; `usul` fills a default curve."""
    _, ctx, found, early = await _load_sub_activity(request, gateway, sub_activity_id)
    if early is not None:
        return early
    assert found is not None
    months = list(found.sub_activity.monthly_plan)
    shape = usul if usul in _SHAPES else ""
    if shape:
        try:
            suggested = await planning(gateway).suggest_monthly_plan(
                pb.SuggestMonthlyPlanRequest(
                    sub_activity_id=sub_activity_id,
                    shape=sub_activity_pb2.CurveShape.Value(f"CURVE_SHAPE_{shape.upper()}"),
                ),
                ctx=ctx,
            )
        except UpstreamError as err:
            return _upstream_page(request, gateway, err, "sub_activity")
        months = list(suggested.months)
    return await _f1_page(request, gateway, found, _f1_rows(months), shape=shape)


@router.post("/perencanaan/{sub_activity_id}/f1", response_model=None)
async def save_f1(request: Request, sub_activity_id: str, gateway: GatewayDep) -> Response:
    """Store the twelve months; each month's mistake is shown on its own row, nothing is half-stored."""
    _, ctx, found, early = await _load_sub_activity(request, gateway, sub_activity_id)
    if early is not None:
        return early
    assert found is not None
    form = await request.form()
    rows = [
        {
            "month": str(m),
            "physical": str(form.get(f"fisik_{m}", "")).strip()[:12],
            "money": str(form.get(f"uang_{m}", "")).strip()[:24],
        }
        for m in range(1, 13)
    ]
    row_errors: dict[int, dict[str, str]] = {}
    months = []
    for i, row in enumerate(rows):
        money = _rupiah_input(row["money"])
        if money is None:
            row_errors.setdefault(i, {})["disbursement"] = "must be whole rupiah, e.g. 1.250.000"
        months.append(
            sub_activity_pb2.MonthPlan(
                month=i + 1, physical_percent=row["physical"], disbursement=money_pb2.Money(rupiah=money or 0)
            )
        )
    if row_errors:
        return await _f1_page(request, gateway, found, rows, row_errors=row_errors, status_code=400)
    version = _int(form.get("versi"), found.sub_activity.version)
    try:
        await planning(gateway).set_monthly_plan(
            pb.SetMonthlyPlanRequest(sub_activity_id=sub_activity_id, months=months, expected_version=version),
            ctx=ctx,
        )
    except UpstreamError as err:
        refused = _refusal(err)
        if refused is None:
            return _upstream_page(request, gateway, err, "sub_activity")
        general: list[FieldViolation] = []
        for v in refused[0]:
            match = _MONTH_FIELD.match(v.field)
            if match:
                row_errors.setdefault(int(match.group(1)), {})[match.group(2)] = v.description
            else:
                general.append(v)
        return await _f1_page(
            request, gateway, found, rows, row_errors=row_errors, general=general, status_code=refused[1]
        )
    return RedirectResponse(f"/perencanaan/{sub_activity_id}?pesan=f1", status_code=303)


_PACKAGE_FIELDS = (
    "account_code",
    "name",
    "procurement_type",
    "mode",
    "method",
    "value",
    "selection_start",
    "selection_end",
    "contract_start",
    "contract_end",
    "use_start",
    "use_end",
)
# Where the service's field paths are shown on the form.
_PACKAGE_ERROR_FIELDS = {"value.rupiah": "value", "selection_schedule": "selection", "contract_schedule": "contract"}


async def _package_page(
    request: Request,
    gateway: Gateway,
    ctx: CallContext,
    found: pb.GetSubActivityResponse,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    general: list[FieldViolation] | None = None,
    status_code: int = 200,
) -> Response:
    s = sub_activity_out(found.sub_activity)
    try:
        findings = [
            f
            for f in await _splits(gateway, ctx, s.government_code, s.fiscal_year, s.agency_code)
            if f["sub_activity_code"] == s.code
        ]
    except UpstreamError:
        findings = []
    budget = s.approved_budget if s.approved_budget is not None else s.budget
    context = {
        "sub_activity": s,
        "budget": budget,
        "left": budget - s.packaged,
        "values": values,
        "errors": errors or {},
        "general_errors": general or [],
        "types": _TYPES,
        "methods": _METHODS,
        "findings": findings,
    }
    response = render(request, gateway, "planning_package_form.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


@router.get("/perencanaan/{sub_activity_id}/paket", response_model=None)
async def package_form(request: Request, sub_activity_id: str, gateway: GatewayDep) -> Response:
    """The form for a new RUP package of a planned sub-activity, with split warnings of its accounts."""
    _, ctx, found, early = await _load_sub_activity(request, gateway, sub_activity_id)
    if early is not None:
        return early
    assert found is not None
    defaults = {
        "mode": "penyedia",
        "procurement_type": "barang",
        "method": "pengadaan_langsung",
        "selection_start": "2",
        "selection_end": "2",
        "contract_start": "3",
        "contract_end": "11",
        "use_start": "3",
        "use_end": "12",
        "domestic_product": "on",
    }
    return await _package_page(request, gateway, ctx, found, defaults)


def _month_range(values: dict[str, str], name: str) -> procurement_pb2.MonthRange | None:
    start, end = _int(values.get(f"{name}_start", ""), -1), _int(values.get(f"{name}_end", ""), -1)
    if start == -1 and end == -1:
        return None
    return procurement_pb2.MonthRange(start_month=max(start, 0), end_month=max(end, 0))


@router.post("/perencanaan/{sub_activity_id}/paket", response_model=None)
async def create_package(request: Request, sub_activity_id: str, gateway: GatewayDep) -> Response:
    """Add the package; mistakes come back next to their fields, a budget overrun at the top."""
    _, ctx, found, early = await _load_sub_activity(request, gateway, sub_activity_id)
    if early is not None:
        return early
    assert found is not None
    form = await request.form()
    values = {k: str(form.get(k, "")).strip()[:300] for k in _PACKAGE_FIELDS}
    for flag in ("domestic_product", "small_business"):
        values[flag] = "on" if form.get(flag) else ""
    value = _rupiah_input(values["value"])
    if value is None:
        errors = {"value": "must be whole rupiah, e.g. 150.000.000"}
        return await _package_page(request, gateway, ctx, found, values, errors=errors, status_code=400)
    self_managed = values["mode"] == "swakelola"
    request_pb = pb.CreateProcurementPackageRequest(
        sub_activity_id=sub_activity_id,
        account_code=values["account_code"],
        name=values["name"],
        procurement_type=_TYPE_PB.get(values["procurement_type"], 0),  # type: ignore[arg-type]
        mode=procurement_pb2.PROCUREMENT_MODE_SELF_MANAGED
        if self_managed
        else procurement_pb2.PROCUREMENT_MODE_PROVIDER,
        method=0
        if self_managed or values["method"] not in _METHODS
        else procurement_pb2.SelectionMethod.Value(f"SELECTION_METHOD_{values['method'].upper()}"),
        value=money_pb2.Money(rupiah=value),
        domestic_product=bool(values["domestic_product"]),
        small_business=bool(values["small_business"]),
    )
    for name, target in (
        ("selection", "selection_schedule"),
        ("contract", "contract_schedule"),
        ("use", "use_schedule"),
    ):
        months = None if (name == "selection" and self_managed) else _month_range(values, name)
        if months is not None:
            getattr(request_pb, target).CopyFrom(months)
    try:
        await planning(gateway).create_package(request_pb, ctx=ctx)
    except UpstreamError as err:
        refused = _refusal(err)
        if refused is None:
            return _upstream_page(request, gateway, err, "sub_activity")
        errors: dict[str, str] = {}
        general: list[FieldViolation] = []
        for v in refused[0]:
            key = _PACKAGE_ERROR_FIELDS.get(v.field, v.field.removesuffix("_schedule"))
            if v.field and key in {
                "account_code",
                "name",
                "procurement_type",
                "mode",
                "method",
                "value",
                "selection",
                "contract",
                "use",
            }:
                errors[key] = v.description
            else:
                general.append(v)
        return await _package_page(
            request, gateway, ctx, found, values, errors=errors, general=general, status_code=refused[1]
        )
    s = found.sub_activity
    return RedirectResponse(
        f"/perencanaan/rup?tahun={s.fiscal_year}&opd={quote(s.agency_code)}&pesan=paket", status_code=303
    )
