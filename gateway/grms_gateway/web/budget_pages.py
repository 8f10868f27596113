"""e-Budgeting pages (login): plan list and editor (/anggaran), version diffs, XLSX import/export, the SPP queue.

Server-rendered forms, no script. Every form posts the version it was rendered from, so a
second planner editing the same plan gets a clear conflict (409) instead of overwriting.
Budgeting checks roles and rules; these pages show its answers next to the line and field
they name (`lines[3].unit_price`, `rows[7].H`). Which buttons appear follows the caller's
roles and the plan's state, but only to avoid offering what the service would refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlencode

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms.common.v1 import money_pb2, paging_pb2
from grms_kit.identity import Role
from starlette.datastructures import UploadFile

from grms_gateway.auth import Caller
from grms_gateway.clients import CallContext
from grms_gateway.errors import UpstreamError
from grms_gateway.i18n import WIB
from grms_gateway.routes.budgeting import (
    MAX_WORKBOOK_BYTES,
    budget_client,
    export_response,
    import_rka,
    spp_action,
)
from grms_gateway.schemas.budgeting import (
    PLAN_STATE_VALUES,
    REVISION_KIND_VALUES,
    SPP_STATE_VALUES,
    BudgetLineIn,
    CashPlansOut,
    cash_plan_out,
    diff_lines,
    line_input,
    payment_request_out,
    plan_out,
    standard_price_out,
    version_out,
)
from grms_gateway.state import Gateway, get_gateway
from grms_gateway.web.pages import DEFAULT_GOVERNMENT, NO_STORE, problem_page, render, service_down
from grms_gateway.web.session import login_redirect, session_caller

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
_ID = re.compile(r"^[0-9A-Za-z-]{1,36}$")
_LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)")
_LINE_FIELDS = ("account_code", "standard_item_code", "specification", "volume", "unit", "unit_price", "funding_source")
_ACTIONS = {"ajukan": "submit", "verifikasi": "verify", "setujui": "approve"}
_SPP_ACTIONS = {"spm": "order", "sp2d": "disburse", "tolak": "reject"}


def _fail_page(request: Request, gateway: Gateway, err: UpstreamError, what: str = "plan") -> Response:
    """The page for an error no form can show: login again, 403, 404 or 503."""
    if err.code == grpc.StatusCode.UNAUTHENTICATED:
        return login_redirect(request)
    if err.code == grpc.StatusCode.PERMISSION_DENIED:
        return problem_page(request, gateway, "forbidden", 403)
    if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
        return problem_page(request, gateway, what, 404)
    if service_down(err):
        return problem_page(request, gateway, "budget_unavailable", 503)
    raise err


def _roles(caller: Caller) -> dict[str, bool]:
    has = caller.identity.has_role
    return {
        "edit": has(Role.PLANNER, Role.AGENCY_HEAD, Role.ADMIN),
        "submit": has(Role.AGENCY_HEAD, Role.ADMIN),
        "review": has(Role.TAPD),
        "approve": has(Role.TAPD, Role.ADMIN),
        "order": has(Role.AGENCY_HEAD, Role.ADMIN),
        "disburse": has(Role.TREASURER, Role.ADMIN),
    }


def _int(value: object) -> int:
    text = str(value or "").strip().replace(".", "").replace(",", "").removeprefix("Rp").strip()
    return int(text) if text.isdigit() and len(text) < 19 else -1


def _line_from_form(form: Any) -> tuple[BudgetLineIn, dict[str, str]]:
    values = {f: str(form.get(f, "")).strip()[:1000] for f in _LINE_FIELDS}
    line = BudgetLineIn.model_construct(
        account_code=values["account_code"][:40],
        standard_item_code=values["standard_item_code"][:60],
        specification=values["specification"],
        volume=values["volume"][:200],
        unit=values["unit"][:50],
        unit_price=max(_int(values["unit_price"]), 0),
        funding_source=values["funding_source"][:100],
        tags=[],
    )
    return line, values


def _cash_form(cash: CashPlansOut | None, given: list[str] | None) -> list[str]:
    """The twelve months the whole-plan cash form shows: what was typed, else the proposal, else what is in force."""
    if given is not None:
        return given
    for plans in (cash.proposed_cash_plans, cash.cash_plans) if cash else ():
        whole = next((c for c in plans if c.line_number == 0), None)
        if whole is not None:
            return [str(m) for m in whole.months]
    return [""] * 12


async def _load_plan(gateway: Gateway, ctx: CallContext, plan_id: str) -> Any:
    return (
        await budget_client(gateway).call("GetBudgetPlan", pb.GetBudgetPlanRequest(plan_id=plan_id), ctx=ctx)
    ).budget_plan


async def _editor(
    request: Request,
    gateway: Gateway,
    caller: Caller,
    plan_id: str,
    *,
    status_code: int = 200,
    notice: str = "",
    alert: str = "",
    line_errors: dict[int, dict[str, str]] | None = None,
    line_values: dict[int, dict[str, str]] | None = None,
    add_errors: dict[str, str] | None = None,
    add_values: dict[str, str] | None = None,
    import_errors: list[tuple[str, str]] | None = None,
    imported: int | None = None,
    cash_values: list[str] | None = None,
) -> Response:
    ctx = gateway.clients.context(caller.token)
    try:
        plan = plan_out(await _load_plan(gateway, ctx, plan_id))
    except UpstreamError as err:
        return _fail_page(request, gateway, err)
    prices: list[Any] | None = None
    query = request.query_params.get("cari", "").strip()[:200]
    account = request.query_params.get("rekening", "").strip()[:40]
    if query or account:
        try:
            found = await budget_client(gateway).call(
                "SearchStandardPrices",
                pb.SearchStandardPricesRequest(
                    government_code=plan.government_code,
                    fiscal_year=plan.fiscal_year,
                    query=query,
                    account_code=account,
                    page=paging_pb2.PageRequest(page_size=20),
                ),
                ctx=ctx,
            )
            prices = [standard_price_out(s) for s in found.standard_prices]
        except UpstreamError as err:
            if err.code != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            alert = alert or err.message
            prices = []
    if add_values is None:
        use = {k.removeprefix("pakai_"): v[:1000] for k, v in request.query_params.items() if k.startswith("pakai_")}
        add_values = {f: use.get(f, "") for f in _LINE_FIELDS}
        add_values["funding_source"] = add_values["funding_source"] or "PAD"
    editable = plan.state in ("draft", "returned")
    cash: CashPlansOut | None = None
    if plan.approved_total:  # a DPA: its cash plan in force, and the one proposed with an open revision
        try:
            found_cash = await budget_client(gateway).call(
                "ListCashPlans", pb.ListCashPlansRequest(plan_id=plan.id), ctx=ctx
            )
            cash = CashPlansOut(
                cash_plans=[cash_plan_out(c) for c in found_cash.cash_plans],
                proposed_cash_plans=[cash_plan_out(c) for c in found_cash.proposed_cash_plans],
            )
        except UpstreamError as err:
            if err.code != grpc.StatusCode.PERMISSION_DENIED:
                raise
    context = {
        "plan": plan,
        "roles": _roles(caller),
        "editable": editable,
        "notice": notice,
        "alert": alert,
        "line_errors": line_errors or {},
        "line_values": line_values or {},
        "add_errors": add_errors or {},
        "add_values": add_values,
        "import_errors": import_errors or [],
        "imported": imported,
        "prices": prices,
        "price_query": query,
        "price_account": account,
        "fields": _LINE_FIELDS,
        "revision_kinds": list(REVISION_KIND_VALUES),
        "cash": cash,
        "cash_form": _cash_form(cash, cash_values),
        "cash_open": cash is not None and (plan.state == "approved" or editable),
    }
    response = render(request, gateway, "budget_plan.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


def _split_violations(
    err: UpstreamError, existing: set[int] | None
) -> tuple[dict[int, dict[str, str]], dict[str, str], str]:
    """Line errors by number and field; errors of a line not in `existing` (the add form); the rest as text.

    `existing` None: every line number named is an existing line.
    """
    by_line: dict[int, dict[str, str]] = {}
    new: dict[str, str] = {}
    rest: list[str] = []
    for v in err.violations:
        match = _LINE_FIELD.match(v.field)
        if match:
            number, name = int(match.group(1)), match.group(2)
            known = existing is None or number in existing
            (by_line.setdefault(number, {}) if known else new)[name] = v.description
        else:
            rest.append(f"{v.field}: {v.description}" if v.field else v.description)
    if not err.violations:
        rest.append(err.message)
    return by_line, new, ("!" + "; ".join(rest)) if rest else ""


async def _after_error(
    request: Request, gateway: Gateway, caller: Caller, plan_id: str, err: UpstreamError, **kw: Any
) -> Response:
    """Show the editor again with what went wrong: a conflict, a refusal, or errors at their fields."""
    alert = str(kw.pop("alert", ""))
    if err.code == grpc.StatusCode.ABORTED:
        return await _editor(request, gateway, caller, plan_id, status_code=409, alert="budget.conflict", **kw)
    if err.code == grpc.StatusCode.FAILED_PRECONDITION:
        return await _editor(request, gateway, caller, plan_id, status_code=400, alert=f"!{err.message}", **kw)
    if err.code == grpc.StatusCode.INVALID_ARGUMENT:
        return await _editor(request, gateway, caller, plan_id, status_code=400, alert=alert, **kw)
    if err.code == grpc.StatusCode.PERMISSION_DENIED:
        return await _editor(request, gateway, caller, plan_id, status_code=403, alert=f"!{err.message}", **kw)
    return _fail_page(request, gateway, err)


# ---- plan list ---------------------------------------------------------------------------------


@router.get("/anggaran", response_model=None)
async def plans_page(
    request: Request,
    gateway: GatewayDep,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Annotated[str, Query(max_length=20)] = "",
    halaman: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The plans of the caller's government in a year (their agencies only for agency officers)."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    government = caller.identity.government or DEFAULT_GOVERNMENT
    fiscal_year = tahun or dt.datetime.now(WIB).year
    state = status if status in PLAN_STATE_VALUES else ""
    ctx = gateway.clients.context(caller.token)
    client = budget_client(gateway)
    try:
        found = await client.call(
            "ListBudgetPlans",
            pb.ListBudgetPlansRequest(
                government_code=government,
                fiscal_year=fiscal_year,
                state=PLAN_STATE_VALUES.get(state, 0),  # type: ignore[arg-type]
                page=paging_pb2.PageRequest(page_size=100, page_token=halaman),
            ),
            ctx=ctx,
        )
    except UpstreamError as err:
        return _fail_page(request, gateway, err)
    try:
        agencies = {a.code: a.name for a in (await client.list_agencies(government, ctx=ctx, page_size=500)).agencies}
    except UpstreamError:
        agencies = {}
    next_token = found.page.next_page_token
    context = {
        "plans": [plan_out(p) for p in found.budget_plans],
        "agency_names": agencies,
        "government": government,
        "fiscal_year": fiscal_year,
        "state": state,
        "states": list(PLAN_STATE_VALUES),
        "next_url": "/anggaran?" + urlencode({"tahun": fiscal_year, "status": state, "halaman": next_token})
        if next_token
        else "",
        "roles": _roles(caller),
        "own_agencies": sorted(caller.identity.agencies),
        "values": {},
        "alert": "",
    }
    response = render(request, gateway, "budget_plans.html", context)
    response.headers.update(NO_STORE)
    return response


@router.post("/anggaran", response_model=None)
async def create_plan(request: Request, gateway: GatewayDep) -> Response:
    """Start a draft plan; then its editor."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip()[:40] for k in ("agency_code", "sub_activity_code", "fiscal_year")}
    government = caller.identity.government or DEFAULT_GOVERNMENT
    fiscal_year = _int(values["fiscal_year"])
    try:
        created = await budget_client(gateway).call(
            "CreateBudgetPlan",
            pb.CreateBudgetPlanRequest(
                government_code=government,
                agency_code=values["agency_code"],
                sub_activity_code=values["sub_activity_code"],
                fiscal_year=fiscal_year if fiscal_year > 0 else 0,
            ),
            ctx=gateway.clients.context(caller.token),
        )
    except UpstreamError as err:
        if err.code in (
            grpc.StatusCode.INVALID_ARGUMENT,
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.ALREADY_EXISTS,
            grpc.StatusCode.PERMISSION_DENIED,
        ):
            context = {
                "plans": [],
                "agency_names": {},
                "government": government,
                "fiscal_year": fiscal_year if fiscal_year > 0 else dt.datetime.now(WIB).year,
                "state": "",
                "states": list(PLAN_STATE_VALUES),
                "next_url": "",
                "roles": _roles(caller),
                "own_agencies": sorted(caller.identity.agencies),
                "values": values,
                "alert": f"!{err.message}",
            }
            forbidden = err.code == grpc.StatusCode.PERMISSION_DENIED
            return render(request, gateway, "budget_plans.html", context, status_code=403 if forbidden else 400)
        return _fail_page(request, gateway, err)
    return RedirectResponse(f"/anggaran/{created.budget_plan.id}", status_code=303, headers=NO_STORE)


# ---- plan editor -------------------------------------------------------------------------------


@router.get("/anggaran/{plan_id}", response_model=None)
async def plan_page(request: Request, plan_id: str, gateway: GatewayDep) -> Response:
    """The plan editor: lines, price lookup (`?cari=`), workflow buttons, import and export."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(plan_id):
        return problem_page(request, gateway, "plan", 404)
    notice = {"1": "budget.saved", "kas": "budget.cash_saved", "usulan": "budget.cash_saved_proposed"}.get(
        request.query_params.get("ok", ""), ""
    )
    count = request.query_params.get("impor", "")
    imported = int(count) if count.isdigit() and len(count) < 9 else None
    return await _editor(request, gateway, caller, plan_id, notice=notice, imported=imported)


@router.post("/anggaran/{plan_id}/baris", response_model=None)
async def add_line(request: Request, plan_id: str, gateway: GatewayDep) -> Response:
    """Add a line; errors come back beside the add form's fields."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(plan_id):
        return problem_page(request, gateway, "plan", 404)
    form = await request.form()
    line, values = _line_from_form(form)
    if _int(values["unit_price"]) < 0:
        line = line.model_copy(update={"unit_price": 0})
    request_pb = pb.AddBudgetLineRequest(
        plan_id=plan_id, expected_version=max(_int(form.get("version")), 0), line=line_input(line)
    )
    try:
        await budget_client(gateway).call("AddBudgetLine", request_pb, ctx=gateway.clients.context(caller.token))
    except UpstreamError as err:
        _, new, rest = _split_violations(err, set())
        return await _after_error(request, gateway, caller, plan_id, err, add_errors=new, add_values=values, alert=rest)
    return RedirectResponse(f"/anggaran/{plan_id}?ok=1#rincian", status_code=303, headers=NO_STORE)


@router.post("/anggaran/{plan_id}/baris/{number}", response_model=None)
async def update_line(request: Request, plan_id: str, number: int, gateway: GatewayDep) -> Response:
    """Replace one line, or remove it (`hapus`)."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(plan_id) or not 0 < number < 2**31:
        return problem_page(request, gateway, "plan", 404)
    form = await request.form()
    version = max(_int(form.get("version")), 0)
    client = budget_client(gateway)
    ctx = gateway.clients.context(caller.token)
    values: dict[str, str] = {}
    try:
        if form.get("hapus"):
            await client.call(
                "RemoveBudgetLine",
                pb.RemoveBudgetLineRequest(plan_id=plan_id, expected_version=version, line_number=number),
                ctx=ctx,
            )
        else:
            line, values = _line_from_form(form)
            await client.call(
                "UpdateBudgetLine",
                pb.UpdateBudgetLineRequest(
                    plan_id=plan_id, expected_version=version, line_number=number, line=line_input(line)
                ),
                ctx=ctx,
            )
    except UpstreamError as err:
        by_line, _, rest = _split_violations(err, {number})
        return await _after_error(
            request,
            gateway,
            caller,
            plan_id,
            err,
            line_errors=by_line,
            line_values={number: values} if values else {},
            alert=rest,
        )
    return RedirectResponse(f"/anggaran/{plan_id}?ok=1#baris-{number}", status_code=303, headers=NO_STORE)


@router.post("/anggaran/{plan_id}/kas", response_model=None)
async def set_cash_plan(request: Request, plan_id: str, gateway: GatewayDep) -> Response:
    """Set the whole plan's cash plan: in force on a DPA, or proposed with the revision being drafted."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(plan_id):
        return problem_page(request, gateway, "plan", 404)
    form = await request.form()
    values = [str(form.get(f"bulan[{m}]", "")).strip()[:30] for m in range(1, 13)]
    months = [_int(v) if v else 0 for v in values]  # "1.250.000" as Indonesians write it; blank is nothing
    request_pb = pb.SetCashPlanRequest(plan_id=plan_id, months=[money_pb2.Money(rupiah=m) for m in months])
    try:
        found = await budget_client(gateway).call("SetCashPlan", request_pb, ctx=gateway.clients.context(caller.token))
    except UpstreamError as err:
        _, _, rest = _split_violations(err, None)
        return await _after_error(request, gateway, caller, plan_id, err, alert=rest, cash_values=values)
    ok = "usulan" if found.proposed else "kas"
    return RedirectResponse(f"/anggaran/{plan_id}?ok={ok}#kas", status_code=303, headers=NO_STORE)


@router.post("/anggaran/{plan_id}/tahap/{action}", response_model=None)
async def transition(request: Request, plan_id: str, action: str, gateway: GatewayDep) -> Response:
    """Submit, verify, approve, return (with notes per line) or revise the plan."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(plan_id) or action not in (*_ACTIONS, "kembalikan", "revisi"):
        return problem_page(request, gateway, "plan", 404)
    form = await request.form()
    version = max(_int(form.get("version")), 0)
    client = budget_client(gateway)
    ctx = gateway.clients.context(caller.token)
    try:
        if action in _ACTIONS:
            method = {"submit": "SubmitBudgetPlan", "verify": "VerifyBudgetPlan", "approve": "ApproveBudgetPlan"}
            message = {
                "submit": pb.SubmitBudgetPlanRequest,
                "verify": pb.VerifyBudgetPlanRequest,
                "approve": pb.ApproveBudgetPlanRequest,
            }
            name = _ACTIONS[action]
            await client.call(method[name], message[name](plan_id=plan_id, expected_version=version), ctx=ctx)
        elif action == "kembalikan":
            notes = []
            for key, value in form.multi_items():
                match = re.fullmatch(r"catatan\[(\d{1,9})\]", key)
                if match and str(value).strip():
                    notes.append(pb.LineNote(line_number=int(match.group(1)), note=str(value).strip()[:2000]))
            await client.call(
                "ReturnBudgetPlan",
                pb.ReturnBudgetPlanRequest(
                    plan_id=plan_id,
                    expected_version=version,
                    note=str(form.get("note", "")).strip()[:2000],
                    line_notes=notes,
                ),
                ctx=ctx,
            )
        else:
            kind = str(form.get("kind", ""))
            await client.call(
                "ReviseBudgetPlan",
                pb.ReviseBudgetPlanRequest(
                    plan_id=plan_id,
                    expected_version=version,
                    kind=REVISION_KIND_VALUES.get(kind, 0),  # type: ignore[arg-type]
                    reason=str(form.get("reason", "")).strip()[:2000],
                ),
                ctx=ctx,
            )
    except UpstreamError as err:
        by_line, _, rest = _split_violations(err, None)
        return await _after_error(request, gateway, caller, plan_id, err, line_errors=by_line, alert=rest)
    return RedirectResponse(f"/anggaran/{plan_id}?ok=1", status_code=303, headers=NO_STORE)


@router.post("/anggaran/{plan_id}/impor", response_model=None)
async def import_page(request: Request, plan_id: str, gateway: GatewayDep) -> Response:
    """Append an RKA workbook's lines, all or nothing; the row-by-row error report otherwise."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(plan_id):
        return problem_page(request, gateway, "plan", 404)
    form = await request.form()
    upload = form.get("workbook")
    data = await upload.read(MAX_WORKBOOK_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not data or len(data) > MAX_WORKBOOK_BYTES:
        return await _editor(
            request,
            gateway,
            caller,
            plan_id,
            status_code=400,
            import_errors=[("workbook", "is empty or larger than 8 MiB")],
        )
    ctx = gateway.clients.context(caller.token)
    try:
        before = (await _load_plan(gateway, ctx, plan_id)).line_count
        is_csv = isinstance(upload, UploadFile) and (upload.filename or "").lower().endswith(".csv")
        plan = await import_rka(gateway, ctx, plan_id, data, max(_int(form.get("version")), 0), csv=is_csv)
    except UpstreamError as err:
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:
            rows = [(v.field, v.description) for v in err.violations] or [("workbook", err.message)]
            return await _editor(request, gateway, caller, plan_id, status_code=400, import_errors=rows)
        return await _after_error(request, gateway, caller, plan_id, err)
    return RedirectResponse(
        f"/anggaran/{plan_id}?impor={plan.line_count - before}#rincian", status_code=303, headers=NO_STORE
    )


@router.get("/anggaran/{plan_id}/ekspor", response_model=None)
async def export_page(request: Request, plan_id: str, gateway: GatewayDep) -> Response:
    """The plan (or DPA) as an RKA workbook download."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(plan_id):
        return problem_page(request, gateway, "plan", 404)
    try:
        return await export_response(gateway, gateway.clients.context(caller.token), plan_id)
    except UpstreamError as err:
        return _fail_page(request, gateway, err)


@router.get("/anggaran/{plan_id}/versi", response_model=None)
async def versions_page(
    request: Request,
    plan_id: str,
    gateway: GatewayDep,
    dari: Annotated[int | None, Query(ge=1)] = None,
    ke: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The plan's snapshots; with `dari` and `ke`, the line-by-line difference between two of them."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(plan_id):
        return problem_page(request, gateway, "plan", 404)
    ctx = gateway.clients.context(caller.token)
    client = budget_client(gateway)
    try:
        plan = plan_out(await _load_plan(gateway, ctx, plan_id))
        found = await client.call("ListBudgetPlanVersions", pb.ListBudgetPlanVersionsRequest(plan_id=plan_id), ctx=ctx)
    except UpstreamError as err:
        return _fail_page(request, gateway, err)
    versions = [version_out(v) for v in found.versions]
    diff: dict[str, Any] | None = None
    alert = ""
    if dari and ke:
        try:
            compared = await client.call(
                "DiffBudgetPlanVersions",
                pb.DiffBudgetPlanVersionsRequest(plan_id=plan_id, from_version=dari, to_version=ke),
                ctx=ctx,
            )
            diff = {
                "old": dari,
                "new": ke,
                "from_total": compared.from_total.rupiah,
                "to_total": compared.to_total.rupiah,
                "lines": diff_lines(compared.lines),
            }
        except UpstreamError as err:
            if err.code != grpc.StatusCode.INVALID_ARGUMENT:
                return _fail_page(request, gateway, err)
            alert = err.message
    elif len(versions) >= 2:
        dari, ke = versions[-2].version, versions[-1].version
    context = {"plan": plan, "versions": versions, "diff": diff, "dari": dari, "ke": ke, "alert": alert}
    response = render(request, gateway, "budget_versions.html", context, status_code=400 if alert else 200)
    response.headers.update(NO_STORE)
    return response


# ---- the treasurer's queue ---------------------------------------------------------------------


@router.get("/perbendaharaan", response_model=None)
async def queue_page(
    request: Request,
    gateway: GatewayDep,
    status: Annotated[str, Query(max_length=20)] = "requested",
    halaman: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """SPPs of the caller's government (their agency for agency officers) in one state."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    return await _queue(request, gateway, caller, status, halaman)


async def _queue(
    request: Request,
    gateway: Gateway,
    caller: Caller,
    status: str,
    halaman: str,
    alert: str = "",
    status_code: int = 200,
) -> Response:
    government = caller.identity.government or DEFAULT_GOVERNMENT
    state = status if status in SPP_STATE_VALUES else "requested"
    agencies = sorted(caller.identity.agencies)
    agency = agencies[0] if agencies and not caller.identity.has_role(Role.ADMIN) else ""
    try:
        found = await budget_client(gateway).call(
            "ListPaymentRequests",
            pb.ListPaymentRequestsRequest(
                government_code=government,
                agency_code=agency,
                state=SPP_STATE_VALUES[state],  # type: ignore[arg-type]
                page=paging_pb2.PageRequest(page_size=100, page_token=halaman),
            ),
            ctx=gateway.clients.context(caller.token),
        )
    except UpstreamError as err:
        return _fail_page(request, gateway, err, "forbidden")
    token = found.page.next_page_token
    context = {
        "requests": [payment_request_out(r) for r in found.payment_requests],
        "government": government,
        "state": state,
        "states": list(SPP_STATE_VALUES),
        "roles": _roles(caller),
        "alert": alert,
        "next_url": "/perbendaharaan?" + urlencode({"status": state, "halaman": token}) if token else "",
    }
    response = render(request, gateway, "budget_queue.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


@router.post("/perbendaharaan/{spp_id}/{action}", response_model=None)
async def queue_action(request: Request, spp_id: str, action: str, gateway: GatewayDep) -> Response:
    """Issue the SPM or SP2D of a payment request, or reject it; back to the queue it was in."""
    caller = session_caller(request, gateway)
    if caller is None:
        return login_redirect(request)
    if not _ID.match(spp_id) or action not in _SPP_ACTIONS:
        return problem_page(request, gateway, "forbidden", 404)
    form = await request.form()
    back = str(form.get("status", "requested"))
    back = back if back in SPP_STATE_VALUES else "requested"
    try:
        await spp_action(
            _SPP_ACTIONS[action],
            spp_id,
            max(_int(form.get("version")), 0),
            str(form.get("reason", "")).strip()[:2000],
            gateway,
            gateway.clients.context(caller.token),
        )
    except UpstreamError as err:
        if err.code in (
            grpc.StatusCode.UNAUTHENTICATED,
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
        ):
            return _fail_page(request, gateway, err)
        code = {grpc.StatusCode.ABORTED: 409, grpc.StatusCode.PERMISSION_DENIED: 403, grpc.StatusCode.NOT_FOUND: 404}
        message = "budget.conflict" if err.code == grpc.StatusCode.ABORTED else f"!{err.message}"
        if err.violations:
            message = "!" + "; ".join(f"{v.field}: {v.description}" for v in err.violations)
        return await _queue(request, gateway, caller, back, "", alert=message, status_code=code.get(err.code, 400))
    return RedirectResponse(f"/perbendaharaan?status={back}", status_code=303, headers=NO_STORE)
