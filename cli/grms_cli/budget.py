"""Budgeting from the command line: verify the audit chains, move RKA workbooks in and out over gRPC."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from grms.budgeting.v1 import budgeting_service_pb2, budgeting_service_pb2_grpc

from grms_cli.accounts import service_database_url
from grms_cli.config import CliError
from grms_cli.seed import admin_token

if TYPE_CHECKING:
    from grms_budgeting.domain.anchor import AnchorCheck, AuditAnchor
    from grms_kit.db import Database

__all__ = [
    "ImportResult",
    "RejectedWorkbook",
    "export_plan",
    "import_lines",
    "read_saved_anchors",
    "verify_anchors",
    "verify_audit",
]

MAX_WORKBOOK_BYTES = 8 * 1024 * 1024  # what budgeting accepts


@contextmanager
def _budgeting_database(var_dir: Path, what: str) -> Iterator[tuple[Database, str]]:
    """Budgeting's database (and its URL); a missing or unreadable one is a CliError naming it."""
    from grms_kit.db import Database

    url = service_database_url("budgeting", var_dir)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise CliError(f"budgeting has no database at {url}: has the suite ever run from {var_dir}?")
    db = Database(url)
    try:
        yield db, url
    except CliError:
        raise
    except Exception as exc:
        reason = str(exc).splitlines()[0]
        raise CliError(f"cannot read {what} at {url}: {reason}") from None
    finally:
        db.dispose()


def verify_audit(var_dir: Path, plan_id: str | None) -> dict[str, int | None]:
    """Plan id → first broken seq of its audit chain (None: intact), read from budgeting's database."""
    from grms_budgeting.adapters.budget_repository import verify_audit_chain
    from grms_budgeting.adapters.tables import budget_plan
    from sqlalchemy import select

    with _budgeting_database(var_dir, "the audit chains") as (db, url):
        if plan_id is not None:
            with db.engine.connect() as conn:
                if conn.scalar(select(budget_plan.c.id).where(budget_plan.c.id == plan_id)) is None:
                    raise CliError(f"budget plan {plan_id} does not exist in {url}", 2)
        return verify_audit_chain(db, plan_id)


def verify_anchors(var_dir: Path, saved: list[AuditAnchor]) -> list[AnchorCheck]:
    """Every stored anchor (and every saved one) against the anchors recomputed from the audit entries."""
    from grms_budgeting.adapters.anchor_repository import verify_anchors as check

    with _budgeting_database(var_dir, "the audit anchors") as (db, _):
        return check(db, saved, now=dt.datetime.now(dt.UTC))


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_HASH = re.compile(r"[0-9a-f]{64}")


def read_saved_anchors(path: Path) -> list[AuditAnchor]:
    """The anchors of a saved copy of `/open-data/audit/anchors.json`: one page, or a JSON list of pages.

    Pages of several governments, overlapping pages and pages saved on different days may be
    mixed; a day given twice must say the same both times. Anything else is a CliError (exit 2)
    that names the file and the place in it.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read the saved anchors {path}: {exc.strerror or exc}", 2) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"{path} is not JSON: {exc}", 2) from None
    pages = document if isinstance(document, list) else [document]
    found: dict[tuple[str, dt.date], AuditAnchor] = {}
    for p, page in enumerate(pages):
        where = f"{path}: page {p + 1}" if isinstance(document, list) else str(path)
        if not isinstance(page, dict) or not isinstance(page.get("anchors"), list):
            raise CliError(f'{where} is not a page of anchors.json (an object with an "anchors" list)', 2)
        government = page.get("government_code")
        if not isinstance(government, str) or not government:
            raise CliError(f"{where} has no government_code", 2)
        for i, item in enumerate(page["anchors"]):
            anchor = _saved_anchor(government, item, f"{where}, anchors[{i}]")
            key = (government, anchor.day)
            seen = found.get(key)
            if seen is not None and (seen.combined_hash, seen.plan_count, seen.entry_count) != (
                anchor.combined_hash, anchor.plan_count, anchor.entry_count,
            ):  # fmt: skip
                raise CliError(f"{where} contradicts an earlier page on {government} {anchor.day}", 2)
            found.setdefault(key, anchor)
    return list(found.values())


def _saved_anchor(government: str, item: Any, where: str) -> AuditAnchor:
    from grms_budgeting.domain.anchor import AuditAnchor

    if not isinstance(item, dict):
        raise CliError(f"{where} is not an object", 2)
    day, combined = item.get("day"), item.get("combined_hash")
    plans, entries = item.get("plan_count"), item.get("entry_count")
    if not isinstance(day, str) or not _DAY.fullmatch(day):
        raise CliError(f"{where}: day must be YYYY-MM-DD", 2)
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        raise CliError(f"{where}: day {day} is not a date", 2) from None
    if not isinstance(combined, str) or not _HASH.fullmatch(combined):
        raise CliError(f"{where}: combined_hash must be 64 lowercase hex digits", 2)
    for name, value in (("plan_count", plans), ("entry_count", entries)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CliError(f"{where}: {name} must be a whole number ≥ 0", 2)
    computed_at = dt.datetime.min.replace(tzinfo=dt.UTC)  # not compared: when, not what
    return AuditAnchor(government, parsed, combined, plans, entries, computed_at)


class RejectedWorkbook(CliError):
    """Budgeting refused the workbook: every bad cell with what is wrong with it."""

    def __init__(self, message: str, violations: list[tuple[str, str]]) -> None:
        super().__init__(message, 1)
        self.violations = violations


def _violations(exc: grpc.RpcError) -> list[tuple[str, str]]:
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    out: list[tuple[str, str]] = []
    for detail in status.details if status else ():
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            out.extend((v.field, v.description) for v in bad.field_violations)
    return out


def _fail(exc: grpc.RpcError, address: str, what: str) -> CliError:
    code = exc.code() if hasattr(exc, "code") else None
    detail = exc.details() if hasattr(exc, "details") else str(exc)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return CliError(f"budgeting at {address} is unreachable ({code.name}): {detail}")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return RejectedWorkbook(f"{what} refused: {detail}", _violations(exc))
    return CliError(f"{what} failed: {code.name if code else 'ERROR'}: {detail}")


def _channel(address: str, timeout: float) -> grpc.Channel:
    limit = 16 * 1024 * 1024
    options = [("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)]
    channel = grpc.insecure_channel(address, options=options)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        channel.close()
        raise CliError(f"budgeting at {address} is unreachable (no connection within {timeout:.0f}s)") from None
    return channel


@dataclass(frozen=True)
class ImportResult:
    imported: int
    line_count: int
    version: int
    total: int


def import_lines(
    address: str,
    secret: str,
    plan_id: str,
    path: Path,
    *,
    expected_version: int = 0,
    advance: Callable[[str], None] = lambda _step: None,
    timeout: float = 60.0,
) -> ImportResult:
    """Send an RKA workbook to budgeting; all its lines are added to the plan, or none. Three steps."""
    data = path.read_bytes()
    if len(data) > MAX_WORKBOOK_BYTES:
        raise CliError(f"{path} is larger than {MAX_WORKBOOK_BYTES // (1024 * 1024)} MiB", 2)
    advance(f"read {len(data):,} bytes")
    metadata = [("authorization", f"Bearer {admin_token(secret)}")]
    with _channel(address, timeout) as channel:
        advance("connected")
        stub = budgeting_service_pb2_grpc.BudgetingServiceStub(channel)
        request = budgeting_service_pb2.ImportBudgetLinesRequest(
            plan_id=plan_id, expected_version=expected_version, workbook=data
        )
        try:
            reply = stub.ImportBudgetLines(request, metadata=metadata, timeout=timeout)
        except grpc.RpcError as exc:
            raise _fail(exc, address, f"importing {path.name}") from None
    advance("imported")
    plan = reply.budget_plan
    return ImportResult(reply.imported_count, len(plan.lines), plan.version, plan.total.rupiah)


def export_plan(
    address: str,
    secret: str,
    plan_id: str,
    out: Path,
    *,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
    timeout: float = 60.0,
) -> int:
    """Write a plan's RKA/DPA workbook to `out` as budgeting streams it; return its size."""
    metadata = [("authorization", f"Bearer {admin_token(secret)}")]
    parts: list[bytes] = []
    total = done = 0
    with _channel(address, timeout) as channel:
        stub = budgeting_service_pb2_grpc.BudgetingServiceStub(channel)
        try:
            for message in stub.ExportBudgetPlan(
                budgeting_service_pb2.ExportBudgetPlanRequest(plan_id=plan_id), metadata=metadata, timeout=timeout
            ):
                total = message.total_size or total
                parts.append(message.chunk)
                done += len(message.chunk)
                progress(done, total)
        except grpc.RpcError as exc:
            raise _fail(exc, address, f"exporting plan {plan_id}") from None
    if done != total:
        raise CliError(f"budgeting sent {done:,} of {total:,} bytes; {out} was not written")
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(b"".join(parts))
    tmp.replace(out)
    return done
