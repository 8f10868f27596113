"""Planning pages: citizens' proposals (/usulan, public) and the planner's sub-activities (/perencanaan, login).

Server-rendered, no script. The public proposal page shows status, category, place, dates
(WIB) and the public history only: the planning service's public view has no proposer data.
The planner's pages forward the session's token to planning, which checks roles and tenancy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import quote

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from grms.common.v1 import paging_pb2
from grms.planning.v1 import planning_service_pb2 as pb
from grms_kit.errors import FieldViolation

from grms_gateway.clients import CallContext
from grms_gateway.errors import UpstreamError
from grms_gateway.i18n import WIB
from grms_gateway.routes.planning import planning
from grms_gateway.schemas.planning import CATEGORY_VALUES, public_proposal_out, sub_activity_out
from grms_gateway.schemas.planning_stages import stage_book_out, stage_diff_out, stage_out
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.web.charts import s_curve_chart
from grms_gateway.web.pages import DEFAULT_GOVERNMENT, render
from grms_gateway.web.session import session_caller

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
CATEGORIES = tuple(CATEGORY_VALUES)
_PUBLIC_ID = re.compile(r"^[Uu]-[0-9A-Za-z]{16}$")
_SUB_ACTIVITY_ID = re.compile(r"^[0-9A-Za-z-]{1,36}$")
_FIELDS = ("government_code", "village_code", "category", "title", "description", "proposer_name", "proposer_contact")
_LIMITS = {"village_code": 20, "title": 200, "description": 5000, "proposer_name": 100, "proposer_contact": 200}
_NO_STORE = {"Cache-Control": "no-store"}


def _down(err: UpstreamError) -> bool:
    return err.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def _problem_page(request: Request, gateway: Gateway, kind: str, status_code: int) -> HTMLResponse:
    """The page for an unknown id (404), a refusal (403) or a service that is down (503)."""
    return render(request, gateway, "planning_problem.html", {"kind": kind}, status_code=status_code)


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
        if not _down(err):
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


@router.post("/usulan", response_class=HTMLResponse)
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
        if _down(err):
            return await _form_page(request, gateway, values, [], 503)
        raise
    response = render(
        request, gateway, "planning_proposal_submitted.html", {"public_id": answer.proposal.public_id}, status_code=201
    )
    response.headers.update(_NO_STORE)
    return response


@router.get("/usulan/{public_id}", response_class=HTMLResponse)
async def proposal_page(request: Request, public_id: str, gateway: GatewayDep) -> HTMLResponse:
    """A proposal's status and public history; never the proposer's name or contact."""
    if not _PUBLIC_ID.match(public_id):
        return _problem_page(request, gateway, "proposal", 404)
    ctx = gateway.clients.context(None)
    try:
        found = await planning(gateway).get_public_proposal(public_id.upper(), ctx=ctx)
    except UpstreamError as err:
        if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return _problem_page(request, gateway, "proposal", 404)
        if _down(err):
            return _problem_page(request, gateway, "unavailable", 503)
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


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/masuk?next={quote(request.url.path, safe='/')}", status_code=303)


@router.get("/perencanaan", response_model=None)
async def sub_activities_page(
    request: Request,
    gateway: GatewayDep,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    """The sub-activities of the logged-in user's government in a fiscal year (this year unless `tahun`)."""
    caller = session_caller(request, gateway)
    if caller is None:
        return _login_redirect(request)
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
            return _login_redirect(request)
        if listed.code == grpc.StatusCode.PERMISSION_DENIED:
            return _problem_page(request, gateway, "forbidden", 403)
        if _down(listed):
            return _problem_page(request, gateway, "unavailable", 503)
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
    response.headers.update(_NO_STORE)
    return response


# The planning stages (tahapan) of an agency-year, and their diffs. Registered before
# /perencanaan/{sub_activity_id}, which would otherwise take "tahapan" for an id.

_AGENCY = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,39}$")


def _upstream_page(request: Request, gateway: Gateway, err: UpstreamError, kind: str) -> Response:
    """The page for an upstream refusal that is not the caller's input."""
    if err.code == grpc.StatusCode.UNAUTHENTICATED:
        return _login_redirect(request)
    if err.code == grpc.StatusCode.PERMISSION_DENIED:
        return _problem_page(request, gateway, "forbidden", 403)
    if err.code == grpc.StatusCode.NOT_FOUND:
        return _problem_page(request, gateway, kind, 404)
    if _down(err):
        return _problem_page(request, gateway, "unavailable", 503)
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
            return _problem_page(request, gateway, "agency", 404)
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
    response.headers.update(_NO_STORE)
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
        return _login_redirect(request)
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
        return _login_redirect(request)
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
        return _login_redirect(request)
    if not _AGENCY.match(opd):
        return _problem_page(request, gateway, "agency", 404)
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
    response.headers.update(_NO_STORE)
    return response


@router.get("/perencanaan/{sub_activity_id}", response_model=None)
async def sub_activity_page(request: Request, sub_activity_id: str, gateway: GatewayDep) -> Response:
    """One sub-activity: code, name, agency, budget, indicators and its planned S-curve."""
    caller = session_caller(request, gateway)
    if caller is None:
        return _login_redirect(request)
    if not _SUB_ACTIVITY_ID.match(sub_activity_id):
        return _problem_page(request, gateway, "sub_activity", 404)
    ctx = gateway.clients.context(caller.token)
    client = planning(gateway)
    try:
        found = await client.get_sub_activity(sub_activity_id, ctx=ctx)
    except UpstreamError as err:
        if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return _problem_page(request, gateway, "sub_activity", 404)
        if err.code == grpc.StatusCode.UNAUTHENTICATED:
            return _login_redirect(request)
        if err.code == grpc.StatusCode.PERMISSION_DENIED:
            return _problem_page(request, gateway, "forbidden", 403)
        if _down(err):
            return _problem_page(request, gateway, "unavailable", 503)
        raise
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
    }
    response = render(request, gateway, "planning_sub_activity.html", context)
    response.headers.update(_NO_STORE)
    return response
