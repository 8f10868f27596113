"""Complaint categories per government: listed for anyone, created and changed by that government's admins.

The configured categories are the base every government starts from (version 0); what an
admin saves overrides or adds to them for that government only. Changes use the ETag /
If-Match dance of the agencies (a stale If-Match gives 409), and a category's default
agency is where `POST /api/v1/complaints/{ticket}/assign` without an agency routes it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_kit.identity import Role

from grms_gateway.auth import Caller, call_context, require_role
from grms_gateway.clients import CallContext
from grms_gateway.errors import ApiProblem
from grms_gateway.schemas.complaints import CategoryIn, CategoryOut, NewCategoryIn, category_out
from grms_gateway.schemas.problem import problem_responses
from grms_gateway.state import Gateway, get_gateway

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/complaint-categories", tags=["complaints"])

GovCode = Annotated[str, Path(pattern=r"^\d{2}(\.\d{2})?$")]
CategoryCode = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]
Ctx = Annotated[CallContext, Depends(call_context)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
Admin = Annotated[Caller, Depends(require_role(Role.ADMIN))]
_PROBLEMS = problem_responses(400, 404, 422, 500, 503, 504)
_WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 500, 503, 504)


def _etag(version: int) -> str:
    return f'"{version}"'


def _expected_version(value: str | None) -> int:
    if value is None or value.strip() in ("", "*"):
        return 0
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise ApiProblem(400, "problem.bad_request", "problem.if_match")
    return int(raw)


def _category(code: str, body: CategoryIn) -> pb.Category:
    return pb.Category(
        code=code,
        name=body.name,
        name_en=body.name_en,
        description=body.description,
        group=body.group,
        keywords=body.keywords,
        default_agency_code=body.default_agency_code,
        retired=body.retired,
    )


@router.get(
    "/{government_code}",
    response_model=list[CategoryOut],
    summary="A government's complaint categories, with default agencies and versions",
    responses=_PROBLEMS,
)
async def list_categories(
    *, government_code: GovCode, ctx: Ctx, gateway: GatewayDep, include_retired: Annotated[bool, Query()] = False
) -> list[CategoryOut]:
    """The configured categories overlaid by what the government's admins saved, by code."""
    request = pb.ListCategoriesRequest(government_code=government_code, include_retired=include_retired)
    response = await gateway.clients.complaints.call("ListCategories", request, ctx=ctx)
    return [category_out(c) for c in response.categories]


@router.post(
    "/{government_code}",
    response_model=CategoryOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a complaint category for a government (its admin)",
    responses=_WRITE_PROBLEMS,
)
async def create_category(
    *,
    government_code: GovCode,
    body: Annotated[NewCategoryIn, Body()],
    response: Response,
    caller: Admin,
    ctx: Ctx,
    gateway: GatewayDep,
) -> CategoryOut:
    """409 when the code is taken for this government; 400 when the default agency is unknown."""
    request = pb.CreateCategoryRequest(government_code=government_code, category=_category(body.code, body))
    created = (await gateway.clients.complaints.call("CreateCategory", request, ctx=ctx)).category
    response.headers["ETag"] = _etag(created.version)
    response.headers["Location"] = f"/api/v1/complaint-categories/{government_code}/{created.code}"
    return category_out(created)


@router.put(
    "/{government_code}/{code}",
    response_model=CategoryOut,
    summary="Change a complaint category of a government (its admin; If-Match)",
    responses=_WRITE_PROBLEMS,
)
async def update_category(
    *,
    government_code: GovCode,
    code: CategoryCode,
    body: Annotated[CategoryIn, Body()],
    response: Response,
    caller: Admin,
    ctx: Ctx,
    gateway: GatewayDep,
    if_match: Annotated[str | None, Header(description='The ETag read before, e.g. "2" ("0": never edited)')] = None,
) -> CategoryOut:
    """Replaces every field; a stale If-Match gives 409."""
    expected = _expected_version(if_match)
    request = pb.UpdateCategoryRequest(
        government_code=government_code, category=_category(code, body), expected_version=expected
    )
    updated = (await gateway.clients.complaints.call("UpdateCategory", request, ctx=ctx)).category
    response.headers["ETag"] = _etag(updated.version)
    return category_out(updated)
