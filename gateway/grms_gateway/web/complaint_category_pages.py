"""Complaint categories for admins: /pengaduan/kategori (list and add) and /pengaduan/kategori/{code} (edit).

The same service calls as routes/complaint_categories.py, with the admin's own token (the
complaints service checks role and government again). Editing is optimistic: the form
carries the version it was read at; a save against a newer version is refused (409) and the
page shows who changed it and what is saved now, keeping the admin's input — saving again
then knowingly overwrites. A configured category never edited has version 0, which the
service treats as "no check", so for it the page itself re-reads the version just before
saving. Every form carries the session's CSRF token, as the inbox's do; errors are shown
next to their fields.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from grms.complaints.v1 import complaints_service_pb2 as pb
from grms_kit.errors import FieldViolation
from grms_kit.identity import Role

from grms_gateway.auth import Caller
from grms_gateway.errors import UpstreamError
from grms_gateway.i18n import format_wib, translate
from grms_gateway.schemas.complaints import timestamp
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.web import category_words  # noqa: F401  (the page's words)
from grms_gateway.web.complaint_inbox_pages import csrf_token, csrf_violations, error_page
from grms_gateway.web.pages import DEFAULT_GOVERNMENT, NO_STORE, problem_page, render
from grms_gateway.web.session import login_redirect, session_caller

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
BASE = "/pengaduan/kategori"
_CODE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,59}$")
FIELDS = ("code", "name", "name_en", "description", "group", "keywords", "default_agency_code")
_STATUS_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.NOT_FOUND: 404,
}


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get("lang")
    return chosen if chosen in ("id", "en") else "id"


def _admin(request: Request, gateway: Gateway) -> Caller | Response:
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not caller.identity.has_role(Role.ADMIN):
        return problem_page(request, gateway, "forbidden", 403)
    return caller


def _government(caller: Caller) -> str:
    return caller.identity.government or DEFAULT_GOVERNMENT


async def _categories(gateway: Gateway, caller: Caller) -> list[pb.Category]:
    request = pb.ListCategoriesRequest(government_code=_government(caller), include_retired=True)
    answer = await gateway.clients.complaints.call("ListCategories", request, ctx=gateway.clients.context(caller.token))
    return list(answer.categories)


async def _government_name(gateway: Gateway, caller: Caller) -> str:
    code = _government(caller)
    request = pb.ListGovernmentsRequest(within_code=code)
    request.page.page_size = 100
    try:
        answer = await gateway.clients.complaints.call(
            "ListGovernments", request, ctx=gateway.clients.context(caller.token)
        )
    except UpstreamError:
        return code
    return next((g.name for g in answer.governments if g.code == code), code)


async def _agencies(gateway: Gateway, caller: Caller) -> dict[str, str]:
    try:
        found = await gateway.clients.complaints.agencies(
            _government(caller), ctx=gateway.clients.context(caller.token)
        )
    except UpstreamError:
        return {}
    return {a.code: a.name for a in found}


def _values(c: pb.Category) -> dict[str, str]:
    return {
        "code": c.code,
        "name": c.name,
        "name_en": c.name_en,
        "description": c.description,
        "group": c.group,
        "keywords": ", ".join(c.keywords),
        "default_agency_code": c.default_agency_code,
        "active": "" if c.retired else "on",
        "version": str(c.version),
    }


def _category(code: str, form: dict[str, str]) -> pb.Category:
    keywords = [k.strip() for k in form.get("keywords", "").split(",") if k.strip()]
    return pb.Category(
        code=code,
        name=form.get("name", ""),
        name_en=form.get("name_en", ""),
        description=form.get("description", ""),
        group=form.get("group", ""),
        keywords=keywords,
        default_agency_code=form.get("default_agency_code", ""),
        retired=form.get("active") != "on",
    )


def _field_errors(err: UpstreamError, lang: str) -> list[FieldViolation]:
    """The service's answer as errors on the form's fields ("category.name" → "name")."""
    if err.code == grpc.StatusCode.ALREADY_EXISTS:
        return [FieldViolation("code", translate("categories.code_taken", lang))]  # type: ignore[arg-type]
    if err.code == grpc.StatusCode.FAILED_PRECONDITION and "agency" in err.message:
        return [FieldViolation("default_agency_code", translate("categories.agency_unknown", lang))]  # type: ignore[arg-type]
    found = [FieldViolation(v.field.removeprefix("category."), v.description) for v in err.violations]
    return found or [FieldViolation("", err.message)]


async def _page(
    request: Request,
    gateway: Gateway,
    caller: Caller,
    template: str,
    *,
    values: dict[str, str],
    errors: list[FieldViolation] | None = None,
    notice: str = "",
    conflict: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        categories = await _categories(gateway, caller)
    except UpstreamError as err:
        return error_page(request, gateway, err)
    errors = errors or []
    names = await gateway.accounts.display_names(c.updated_by for c in categories)
    context: dict[str, Any] = {
        "categories": categories,
        "agencies": await _agencies(gateway, caller),
        "government": await _government_name(gateway, caller),
        "editors": names,
        "values": values,
        "errors": errors,
        "field_errors": {e.field: e.description for e in errors if e.field},
        "notice": notice,
        "conflict": conflict,
        "csrf": csrf_token(gateway, caller),
        "base": BASE,
        "updated": {c.code: _when(c) for c in categories},
    }
    response = render(request, gateway, template, context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


def _when(c: pb.Category) -> str:
    moment = timestamp(c.update_time) if c.version else None
    return format_wib(moment) if moment else ""


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v)[:2000] for k, v in (await request.form()).items()}


@router.get(BASE, response_model=None)
async def categories_page(
    request: Request,
    gateway: GatewayDep,
    dibuat: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """The government's categories (retired ones too) and the form to add one."""
    caller = _admin(request, gateway)
    if isinstance(caller, Response):
        return caller
    notice = translate("categories.created", _lang(request), code=dibuat) if _CODE.match(dibuat) else ""  # type: ignore[arg-type]
    return await _page(request, gateway, caller, "complaint_categories.html", values={"active": "on"}, notice=notice)


@router.post(BASE, response_model=None)
async def create_category(request: Request, gateway: GatewayDep) -> Response:
    """Add a category; back to the list (303), or the list with the form and its errors."""
    caller = _admin(request, gateway)
    if isinstance(caller, Response):
        return caller
    form = await _form(request)
    lang = _lang(request)
    if forged := csrf_violations(gateway, caller, form, lang):
        template = "complaint_categories.html"
        return await _page(request, gateway, caller, template, values=form, errors=forged, status_code=403)
    code = form.get("code", "").strip()
    request_pb = pb.CreateCategoryRequest(government_code=_government(caller), category=_category(code, form))
    try:
        await gateway.clients.complaints.call("CreateCategory", request_pb, ctx=gateway.clients.context(caller.token))
    except UpstreamError as err:
        status_code = _STATUS_CODES.get(err.code)
        if status_code is None:
            return error_page(request, gateway, err)
        return await _page(
            request,
            gateway,
            caller,
            "complaint_categories.html",
            values=form,
            errors=_field_errors(err, lang),
            status_code=status_code,
        )
    return RedirectResponse(f"{BASE}?dibuat={code}", status_code=303)


def _find(categories: list[pb.Category], code: str) -> pb.Category | None:
    return next((c for c in categories if c.code == code), None)


@router.get(BASE + "/{code}", response_model=None)
async def category_page(
    request: Request, code: str, gateway: GatewayDep, tersimpan: Annotated[str, Query(max_length=10)] = ""
) -> Response:
    """The form to change one category, filled with what is saved, at its version."""
    caller = _admin(request, gateway)
    if isinstance(caller, Response):
        return caller
    try:
        current = _find(await _categories(gateway, caller), code) if _CODE.match(code) else None
    except UpstreamError as err:
        return error_page(request, gateway, err)
    if current is None:
        return problem_page(request, gateway, "category", 404)
    notice = ""
    if tersimpan.isdigit():
        notice = translate("categories.saved", _lang(request), code=code, version=tersimpan)  # type: ignore[arg-type]
    return await _page(request, gateway, caller, "complaint_category_edit.html", values=_values(current), notice=notice)


async def _conflict(gateway: Gateway, current: pb.Category, caller: Caller, lang: str) -> dict[str, Any]:
    agencies = await _agencies(gateway, caller)
    state = translate("categories.state_retired" if current.retired else "categories.state_active", lang)  # type: ignore[arg-type]
    agency = agencies.get(current.default_agency_code, current.default_agency_code) or translate(
        "categories.none",
        lang,  # type: ignore[arg-type]
    )
    if current.updated_by == caller.identity.sub:
        who = translate("categories.you", lang)  # type: ignore[arg-type]
    else:
        who = (await gateway.accounts.display_names([current.updated_by])).get(current.updated_by, current.updated_by)
    return {
        "message": translate(
            "categories.conflict",
            lang,  # type: ignore[arg-type]
            who=who,
            time=_when(current),
            version=current.version,
        ),
        "now": translate("categories.conflict_now", lang, name=current.name, agency=agency, state=state),  # type: ignore[arg-type]
        "hint": translate("categories.conflict_hint", lang),  # type: ignore[arg-type]
    }


@router.post(BASE + "/{code}", response_model=None)
async def update_category(request: Request, code: str, gateway: GatewayDep) -> Response:
    """Save the form against the version it was read at; 409 with what is saved now when someone was faster."""
    caller = _admin(request, gateway)
    if isinstance(caller, Response):
        return caller
    if not _CODE.match(code):
        return problem_page(request, gateway, "category", 404)
    form = await _form(request)
    form["code"] = code
    lang = _lang(request)
    template = "complaint_category_edit.html"
    if forged := csrf_violations(gateway, caller, form, lang):
        return await _page(request, gateway, caller, template, values=form, errors=forged, status_code=403)
    raw_version = form.get("version", "")
    expected = int(raw_version) if raw_version.isdigit() else -1
    ctx = gateway.clients.context(caller.token)
    try:
        current = _find(await _categories(gateway, caller), code)
        if current is None:
            return problem_page(request, gateway, "category", 404)
        if current.version != expected:
            # Also when the form was read at version 0, which the service does not check itself.
            conflict = await _conflict(gateway, current, caller, lang)
            values = {**form, "version": str(current.version)}
            return await _page(request, gateway, caller, template, values=values, conflict=conflict, status_code=409)
        request_pb = pb.UpdateCategoryRequest(
            government_code=_government(caller), category=_category(code, form), expected_version=expected
        )
        saved = (await gateway.clients.complaints.call("UpdateCategory", request_pb, ctx=ctx)).category
    except UpstreamError as err:
        status_code = _STATUS_CODES.get(err.code)
        if status_code is None:
            return error_page(request, gateway, err)
        if err.code == grpc.StatusCode.ABORTED:  # changed between our read and the save
            latest = _find(await _categories(gateway, caller), code)
            if latest is not None:
                conflict = await _conflict(gateway, latest, caller, lang)
                values = {**form, "version": str(latest.version)}
                return await _page(
                    request, gateway, caller, template, values=values, conflict=conflict, status_code=409
                )
        errors = _field_errors(err, lang)
        return await _page(request, gateway, caller, template, values=form, errors=errors, status_code=status_code)
    return RedirectResponse(f"{BASE}/{code}?tersimpan={saved.version}", status_code=303)
