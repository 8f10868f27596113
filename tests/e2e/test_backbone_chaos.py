"""The backbone survives crashes: 2,000 events through the outbox while the broker is
SIGKILLed and restarted twice and the consuming service is SIGKILLed and restarted once.

Producer: the real budgeting service (1,000 agencies registered and each updated once, plus
the province: 2,001 events). Consumer: the real planning service keeping its copy. At the
end, counted in the databases: every event applied exactly once by the consumer's inbox,
none lost, no outbox row unsent, and every copy at budgeting's version.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grms.budgeting.v1 import agency_pb2
from grms.budgeting.v1 import budgeting_service_pb2 as pb
from grms_kit.testing import NatsServer, ServiceProcess

from tests.e2e.suite import admin_metadata, agency_request, budgeting_stub

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(240)]

AGENCIES = 1000
EVENTS = 1 + 2 * AGENCIES


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def _until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_every_event_applied_exactly_once_across_broker_and_consumer_crashes(tmp_path: Path) -> None:
    nats = NatsServer(tmp_path / "nats").start()
    env = {"GRMS_NATS_URL": nats.url, "GRMS_VAR_DIR": str(tmp_path)}
    budgeting_db, planning_db = tmp_path / "budgeting.db", tmp_path / "planning.db"
    budgeting = ServiceProcess("budgeting", env, tmp_path, database_url=f"sqlite:///{budgeting_db}").start()
    planning = ServiceProcess("planning", env, tmp_path, database_url=f"sqlite:///{planning_db}").start()
    try:
        budgeting.wait_serving(60)
        planning.wait_serving(60)
        md = admin_metadata()
        done = 0

        async with grpc.aio.insecure_channel(budgeting.address) as channel:
            stub = budgeting_stub(channel)
            await stub.RegisterGovernment(
                pb.RegisterGovernmentRequest(code="33", name="Provinsi Jawa Tengah"), metadata=md, timeout=10
            )

            async def produce(worker: int, workers: int) -> None:
                nonlocal done
                for i in range(worker, AGENCIES, workers):
                    code = f"A{i:04d}"
                    await stub.RegisterAgency(agency_request(code, f"Dinas Uji {i}"), metadata=md, timeout=10)
                    await stub.UpdateAgency(
                        pb.UpdateAgencyRequest(
                            agency=agency_pb2.Agency(government_code="33", code=code, short_name=f"DU{i}"),
                            update_mask=field_mask_pb2.FieldMask(paths=["short_name"]),
                            expected_version=1,
                        ),
                        metadata=md,
                        timeout=10,
                    )
                    done += 1

            async def chaos() -> None:
                # Faults strike while events are being written and relayed.
                await _until(lambda: done >= AGENCIES * 0.2, 60, "20 % produced")
                nats.kill()
                await asyncio.sleep(0.5)
                nats.start()
                await _until(lambda: done >= AGENCIES * 0.45, 60, "45 % produced")
                planning.kill()
                await asyncio.sleep(0.3)
                planning.start()
                await _until(lambda: done >= AGENCIES * 0.7, 60, "70 % produced")
                nats.kill()
                await asyncio.sleep(0.5)
                nats.start()

            await asyncio.gather(chaos(), *(produce(w, 8) for w in range(8)))

        assert _count(budgeting_db, "SELECT count(*) FROM outbox_message") == EVENTS
        await _until(
            lambda: _count(budgeting_db, "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL") == 0,
            60,
            "every outbox row sent",
        )
        inbox = "SELECT count(*) FROM inbox_message WHERE consumer = 'planning-budgeting-reference'"
        await _until(lambda: _count(planning_db, inbox) >= EVENTS, 90, "every event applied by planning")
        planning.wait_serving(30)

        # Exactly once: one inbox row per event (the primary key forbids a second), and the
        # inbox holds exactly the outbox's event ids.
        assert _count(planning_db, inbox) == EVENTS
        with sqlite3.connect(budgeting_db) as b, sqlite3.connect(planning_db) as p:
            produced = {r[0] for r in b.execute("SELECT event_id FROM outbox_message")}
            applied = {r[0] for r in p.execute("SELECT event_id FROM inbox_message")}
            assert produced == applied
            assert b.execute("SELECT count(*) FROM outbox_message WHERE dead_at IS NOT NULL").fetchone()[0] == 0
            assert p.execute("SELECT count(*) FROM dead_letter").fetchone()[0] == 0
            copies = dict(p.execute("SELECT code, version FROM ref_agency").fetchall())
            sources = dict(b.execute("SELECT code, version FROM agency").fetchall())
        assert len(copies) == AGENCIES
        assert copies == sources
        assert set(sources.values()) == {2}
        assert planning.proc is not None and planning.proc.poll() is None
        assert budgeting.proc is not None and budgeting.proc.poll() is None
    finally:
        budgeting.stop()
        planning.stop()
        nats.stop()
