"""The composition root of complaints: the one place concrete things are built."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from grms.complaints.v1 import complaints_service_pb2, complaints_service_pb2_grpc
from grms_kit.clock import Clock, SystemClock
from grms_kit.consumer import EventConsumer
from grms_kit.db import Database
from grms_kit.runtime import ServiceRuntime
from grms_kit.settings import load_settings
from grms_reference.replica import ReferenceReplica

from grms_complaints.adapters.calendar import sla_policy
from grms_complaints.adapters.channels import SmtpAdapter, SmtpConfig
from grms_complaints.adapters.photos import FilePhotoStore
from grms_complaints.adapters.report_cache import ReportCache
from grms_complaints.adapters.tables import messaging, reference
from grms_complaints.adapters.unit_of_work import SqlUnitOfWork
from grms_complaints.config import Settings
from grms_complaints.domain.duplicates import DuplicatePolicy
from grms_complaints.domain.pins import DERIVED_KEY_ID, PinGuard, PinHasher, pin_pepper
from grms_complaints.domain.sla import SlaPolicy, SlaRule
from grms_complaints.domain.watch import watch_key
from grms_complaints.entrypoints.grpc_api import ComplaintsApi
from grms_complaints.entrypoints.notification_dispatcher import NotificationDispatcher
from grms_complaints.entrypoints.sla_scheduler import SlaScheduler

__all__ = ["MIGRATIONS", "SERVICE", "build", "pin_hasher", "policy_from", "unit_of_work_factory"]

SERVICE = "complaints"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def unit_of_work_factory(db: Database, clock: Clock) -> Callable[[], SqlUnitOfWork]:
    """A factory of complaints units of work on `db`, sharing one cache of recent reports."""
    reports = ReportCache()
    return lambda: SqlUnitOfWork(db, messaging, clock=clock, source=f"grms-{SERVICE}", reports=reports)


def policy_from(settings: Settings) -> SlaPolicy:
    """The SLA policy the settings describe."""
    categories = {code: SlaRule(**rule.model_dump()) for code, rule in settings.sla_categories.items()}
    return sla_policy(settings.cuti_bersama, categories, auto_close_days=settings.auto_close_days)


def smtp_from(settings: Settings) -> SmtpAdapter | None:
    """The e-mail adapter, when GRMS_COMPLAINTS_SMTP_HOST and _SENDER are set."""
    if not settings.smtp_host or not settings.smtp_sender:
        return None
    return SmtpAdapter(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout,
        )
    )


def pin_hasher(settings: Settings) -> PinHasher:
    """The PIN hasher: the configured peppers (current first), and always the one derived from the secret.

    The derived pepper stays for verification so PINs issued before peppers were configured
    keep working while GRMS_AUTH_SECRET is unchanged.
    """
    derived = pin_pepper(settings.auth_secret.get_secret_value())
    keys = settings.pin_pepper_keys()
    if not keys:
        return PinHasher(derived, DERIVED_KEY_ID)
    (current_id, current), *older = keys
    return PinHasher(current, current_id, {DERIVED_KEY_ID: derived, **dict(older)})


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> ServiceRuntime:
    """Build the complaints service from the environment (or the given settings)."""
    settings = settings or load_settings(Settings)
    clock = clock or SystemClock()
    db = Database(settings.database_url_for(SERVICE))
    uow = unit_of_work_factory(db, clock)
    replica = ReferenceReplica(db, reference, clock)
    categories = [c.to_domain() for c in settings.categories]
    photos = FilePhotoStore(settings.photo_root(), max_bytes=settings.photo_max_bytes)
    duplicates = DuplicatePolicy(
        radius_m=settings.duplicate_radius_m,
        window=dt.timedelta(days=settings.duplicate_window_days),
        threshold=settings.duplicate_threshold,
    )
    api = ComplaintsApi(
        db,
        uow,
        policy_from(settings),
        replica,
        categories,
        photos=photos,
        pins=PinGuard(pin_hasher(settings)),
        duplicates=duplicates,
        check_duplicates_at_intake=settings.duplicate_check_at_intake,
        watch_key=watch_key(settings.auth_secret.get_secret_value()),
    )
    scheduler = SlaScheduler(
        uow, run=db.run, interval=settings.sla_scan_interval, batch=settings.sla_scan_batch, fold_board=True
    )
    dispatcher = NotificationDispatcher(
        uow,
        run=db.run,
        smtp=smtp_from(settings),
        interval=settings.notify_interval,
        max_attempts=settings.notify_max_attempts,
    )
    name = complaints_service_pb2.DESCRIPTOR.services_by_name["ComplaintsService"].full_name
    return ServiceRuntime(
        SERVICE,
        settings,
        db,
        messaging,
        clock,
        migrations=MIGRATIONS,
        grpc_services=[(complaints_service_pb2_grpc.add_ComplaintsServiceServicer_to_server, api, name)],
        consumers=[EventConsumer(f"{SERVICE}-budgeting-reference", db, messaging, replica.handlers, clock)],
        background=[scheduler.run, dispatcher.run],
    )
