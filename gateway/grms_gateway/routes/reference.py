"""Reference data: governments and their agencies, read from e-budgeting and its five copies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Annotated

import grpc
from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status
from fastapi.responses import JSONResponse
from grms.budgeting.v1 import agency_pb2
from grms_kit.errors import PermissionDenied
from grms_kit.identity import Role

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import REPLICAS, CallContext
from grms_gateway.errors import ApiProblem, UpstreamError
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.schemas.reference import (
    AgencyList,
    AgencyOut,
    GovernmentList,
    GovernmentOut,
    RegisterAgencyIn,
    ReplicaState,
    UpdateAgencyIn,
    agency_out,
    government_out,
    register_request,
    update_patch,
)
from grms_gateway.state import Gateway, get_gateway

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/governments", tags=["reference"])

GovCode = Annotated[str, Path(pattern=r"^\d{2}(\.\d{2})?$", description="Region code, e.g. 33 or 33.74")]
AgencyCode = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z.\-]+$")]
Ctx = Annotated[CallContext, Depends(call_context)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]

_PROBLEMS = problem_responses(400, 404, 422, 500, 503, 504)
_WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 500, 503, 504)


def _etag(version: int) -> str:
    return f'"{version}"'


def _parse_if_match(value: str | None) -> int:
    if value is None or value.strip() in ("", "*"):
        return 0
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit() or int(raw) <= 0:
        raise ApiProblem(400, "problem.bad_request", "problem.if_match")
    return int(raw)


def _require_government(caller: Caller, code: str) -> None:
    try:
        caller.identity.require_government(code)
    except PermissionDenied:
        raise ApiProblem(403, "problem.forbidden", "problem.forbidden_detail") from None


@router.get("", response_model=GovernmentList, summary="List regional governments", responses=_PROBLEMS)
async def list_governments(
    *, ctx: Ctx, gateway: GatewayDep, within: Annotated[str, Query(pattern=r"^(\d{2}(\.\d{2})?)?$")] = ""
) -> GovernmentList:
    """Governments ordered by code; `?within=33` gives the province and its regencies and cities."""
    found = await gateway.clients.budgeting.all_governments(ctx=ctx, within=within)
    return GovernmentList(governments=[government_out(g) for g in found])


@router.get("/{code}", response_model=GovernmentOut, summary="Get one government", responses=_PROBLEMS)
async def get_government(*, code: GovCode, ctx: Ctx, gateway: GatewayDep) -> GovernmentOut:
    """One government by its region code."""
    return government_out(await gateway.clients.budgeting.get_government(code, ctx=ctx))


@router.get("/{code}/agencies", response_model=AgencyList, summary="List a government's agencies", responses=_PROBLEMS)
async def list_agencies(
    *,
    code: GovCode,
    ctx: Ctx,
    gateway: GatewayDep,
    page_size: Annotated[int, Query(ge=0, le=500)] = 0,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> AgencyList:
    """One page of agencies ordered by code; pass `next_page_token` back as `page_token`."""
    page = await gateway.clients.budgeting.list_agencies(code, ctx=ctx, page_size=page_size, page_token=page_token)
    return AgencyList(agencies=[agency_out(a) for a in page.agencies], next_page_token=page.page.next_page_token)


@router.post(
    "/{code}/agencies",
    response_model=AgencyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register an agency (admin)",
    responses=_WRITE_PROBLEMS,
)
async def register_agency(
    *,
    code: GovCode,
    body: Annotated[RegisterAgencyIn, Body()],
    response: Response,
    caller: Annotated[Caller, Depends(require_role(Role.ADMIN))],
    ctx: Ctx,
    gateway: GatewayDep,
) -> AgencyOut:
    """Register an agency of government `code`; 201 with Location and ETag."""
    _require_government(caller, code)
    agency = await gateway.clients.budgeting.register_agency(register_request(code, body), ctx=ctx)
    response.headers["Location"] = f"/api/v1/governments/{agency.government_code}/agencies/{agency.code}"
    response.headers["ETag"] = _etag(agency.version)
    return agency_out(agency)


@router.get("/{code}/agencies/{agency_code}", response_model=AgencyOut, summary="Get one agency", responses=_PROBLEMS)
async def get_agency(
    *, code: GovCode, agency_code: AgencyCode, response: Response, ctx: Ctx, gateway: GatewayDep
) -> AgencyOut:
    """One agency; its ETag is its version, for `If-Match` on PATCH."""
    agency = await gateway.clients.budgeting.get_agency(code, agency_code, ctx=ctx)
    response.headers["ETag"] = _etag(agency.version)
    return agency_out(agency)


@router.patch(
    "/{code}/agencies/{agency_code}",
    response_model=AgencyOut,
    summary="Change an agency (admin; JSON merge patch, If-Match)",
    responses=_WRITE_PROBLEMS,
)
async def update_agency(
    *,
    code: GovCode,
    agency_code: AgencyCode,
    body: Annotated[UpdateAgencyIn, Body()],
    response: Response,
    caller: Annotated[Caller, Depends(require_role(Role.ADMIN))],
    ctx: Ctx,
    gateway: GatewayDep,
    if_match: Annotated[str | None, Header(description='The ETag read before, e.g. "3"')] = None,
) -> AgencyOut:
    """Change the fields present in the body; a stale If-Match gives 409."""
    _require_government(caller, code)
    expected = _parse_if_match(if_match)
    agency, paths = update_patch(code, agency_code, body)
    if not paths:
        current = await gateway.clients.budgeting.get_agency(code, agency_code, ctx=ctx)
        if expected and current.version != expected:
            raise ApiProblem(409, "problem.conflict", "problem.stale")
        response.headers["ETag"] = _etag(current.version)
        return agency_out(current)
    updated = await gateway.clients.budgeting.update_agency(agency, paths, expected_version=expected, ctx=ctx)
    response.headers["ETag"] = _etag(updated.version)
    return agency_out(updated)


async def _copy_state(call: Awaitable[agency_pb2.Agency]) -> dict[str, int | str | None]:
    try:
        agency = await call
    except UpstreamError as err:
        if err.code == grpc.StatusCode.NOT_FOUND:
            return {"version": None}
        if err.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return {"error": "unavailable"}
        return {"error": err.code.name.lower()}
    return {"version": agency.version}


@router.get(
    "/{code}/agencies/{agency_code}/replicas",
    summary="How current each service's copy of an agency is",
    responses={**_PROBLEMS, 200: {"model": dict[str, ReplicaState], "description": "Version per service"}},
)
async def agency_replicas(*, code: GovCode, agency_code: AgencyCode, ctx: Ctx, gateway: GatewayDep) -> JSONResponse:
    """budgeting's version next to each copy's: null when a service has no copy, an error when it is down."""
    clients = gateway.clients

    async def source() -> dict[str, int | str | None]:
        try:
            agency = await clients.budgeting.get_agency(code, agency_code, ctx=ctx)
        except UpstreamError as err:
            if err.code == grpc.StatusCode.NOT_FOUND:
                raise  # the agency itself does not exist: 404
            return {"error": "unavailable" if err.code != grpc.StatusCode.PERMISSION_DENIED else "permission_denied"}
        return {"version": agency.version}

    results = await asyncio.gather(
        source(), *(_copy_state(clients.replicas[name].get_agency(code, agency_code, ctx=ctx)) for name in REPLICAS)
    )
    return JSONResponse(dict(zip(("budgeting", *REPLICAS), results, strict=True)))
