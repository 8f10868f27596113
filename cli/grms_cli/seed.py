"""Loads the demo reference data into budgeting over gRPC, skipping what is already there."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from grms.budgeting.v1 import agency_pb2, budgeting_service_pb2, budgeting_service_pb2_grpc, government_pb2
from grms.complaints.v1 import complaints_service_pb2, complaints_service_pb2_grpc
from grms_kit.identity import Identity, TokenCodec

from grms_cli import demo_data
from grms_cli.config import CliError

__all__ = ["SeedResult", "admin_token", "seed", "seed_complaints", "seed_steps", "tapd_token"]

_LEVELS = {
    "province": government_pb2.GOVERNMENT_LEVEL_PROVINCE,
    "regency": government_pb2.GOVERNMENT_LEVEL_REGENCY,
    "city": government_pb2.GOVERNMENT_LEVEL_CITY,
}
_KINDS = {
    "email": agency_pb2.CONTACT_KIND_EMAIL,
    "phone": agency_pb2.CONTACT_KIND_PHONE,
    "whatsapp": agency_pb2.CONTACT_KIND_WHATSAPP,
}


@dataclass
class SeedResult:
    """How many governments and agencies were created and how many already existed."""

    governments_created: int = 0
    governments_existing: int = 0
    agencies_created: int = 0
    agencies_existing: int = 0

    @property
    def changed(self) -> bool:
        """True when this run created anything."""
        return bool(self.governments_created or self.agencies_created)


def admin_token(secret: str) -> str:
    """A token of the `grms-cli` administrator of the province, for budgeting's mutations."""
    return TokenCodec(secret).issue(Identity(sub="grms-cli", roles=frozenset({"admin"}), government="33"))


def tapd_token(secret: str) -> str:
    """A token of the province's budget team (TAPD), for prices and ceilings of the demo budget."""
    return TokenCodec(secret).issue(Identity(sub="grms-cli-tapd", roles=frozenset({"tapd"}), government="33"))


def seed_steps() -> int:
    """How many RPCs a full seed makes (governments plus agencies)."""
    return len(demo_data.governments()) + len(demo_data.all_agencies())


def _government_request(gov: demo_data.DemoGovernment) -> budgeting_service_pb2.RegisterGovernmentRequest:
    return budgeting_service_pb2.RegisterGovernmentRequest(code=gov.code, name=gov.name, level=_LEVELS[gov.level])


def _agency_request(agency: demo_data.DemoAgency) -> budgeting_service_pb2.RegisterAgencyRequest:
    return budgeting_service_pb2.RegisterAgencyRequest(
        government_code=agency.government_code,
        code=agency.code,
        name=agency.name,
        short_name=agency.short_name,
        head=agency_pb2.AgencyHead(name=agency.head_name, title=agency.head_title, nip=agency.head_nip),
        contacts=[
            agency_pb2.ContactChannel(kind=_KINDS[c.kind], value=c.value, verified=c.verified) for c in agency.contacts
        ],
    )


def _call(
    method: Callable[..., object],
    request: object,
    metadata: list[tuple[str, str]],
    what: str,
    address: str,
    timeout: float,
) -> bool:
    """Make one registration; True when created, False when it already existed."""
    try:
        method(request, metadata=metadata, timeout=timeout)
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        if code == grpc.StatusCode.ALREADY_EXISTS:
            return False
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise CliError(f"budgeting at {address} is unreachable ({code.name}): {detail}") from None
        name = code.name if code else "ERROR"
        raise CliError(f"registering {what} failed: {name}: {detail}") from None
    return True


def seed(
    address: str,
    secret: str,
    *,
    advance: Callable[[str], None] = lambda _what: None,
    should_stop: Callable[[], bool] = lambda: False,
    timeout: float = 10.0,
) -> SeedResult:
    """Register every demo government and agency at budgeting `address`; ALREADY_EXISTS is skipped."""
    result = SeedResult()
    metadata = [("authorization", f"Bearer {admin_token(secret)}")]
    with grpc.insecure_channel(address) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise CliError(f"budgeting at {address} is unreachable (no connection within {timeout:.0f}s)") from None
        stub = budgeting_service_pb2_grpc.BudgetingServiceStub(channel)
        for gov in demo_data.governments():
            if should_stop():
                return result
            created = _call(
                stub.RegisterGovernment, _government_request(gov), metadata, f"government {gov.code}", address, timeout
            )
            if created:
                result.governments_created += 1
            else:
                result.governments_existing += 1
            advance(f"{gov.code} {gov.name}")
        for agency in demo_data.all_agencies():
            if should_stop():
                return result
            what = f"agency {agency.government_code}/{agency.code} {agency.short_name}"
            created = _call(stub.RegisterAgency, _agency_request(agency), metadata, what, address, timeout)
            if created:
                result.agencies_created += 1
            else:
                result.agencies_existing += 1
            advance(what)
    return result


def seed_complaints(
    address: str,
    secret: str,
    *,
    government: str = demo_data.PROVINCE_CODE,
    months: int = 12,
    per_month: int = 2000,
    should_stop: Callable[[], bool] = lambda: False,
    wait_for_agencies: float = 120.0,
    timeout: float = 900.0,
) -> tuple[int, float]:
    """Ask complaints at `address` for its demo year (SeedDemoComplaints); return (added, seconds).

    The service builds the complaints itself and stores them through its bulk path. Its copy of
    the agencies arrives from budgeting's events shortly after `seed`, so FAILED_PRECONDITION is
    retried for up to `wait_for_agencies` seconds. 0 added means the demo year was there already.
    """
    metadata = [("authorization", f"Bearer {admin_token(secret)}")]
    request = complaints_service_pb2.SeedDemoComplaintsRequest(
        government_code=government, months=months, per_month=per_month
    )
    started = time.monotonic()
    with grpc.insecure_channel(address) as channel:
        stub = complaints_service_pb2_grpc.ComplaintsServiceStub(channel)
        while True:
            try:
                answer = stub.SeedDemoComplaints(request, metadata=metadata, timeout=timeout)
                return int(answer.added), time.monotonic() - started
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                waiting = code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE)
                if not waiting or time.monotonic() - started > wait_for_agencies or should_stop():
                    detail = exc.details() if hasattr(exc, "details") else str(exc)
                    name = code.name if code else "ERROR"
                    raise CliError(f"demo complaints at {address} failed: {name}: {detail}") from None
                time.sleep(1.0)
