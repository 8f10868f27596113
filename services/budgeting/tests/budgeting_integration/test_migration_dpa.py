"""Migration 0005 on data stored before it: each plan's DPA in force is found, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from grms_budgeting.adapters.tables import agency, budget_line, budget_plan, budget_plan_version, government
from grms_budgeting.bootstrap import MIGRATIONS
from grms_kit.db import Database
from grms_kit.migrations import upgrade
from sqlalchemy import insert, select

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
AGENCY = "1.02.0.00.0.00.01.0000"


def _plan(plan_id: str, sub: str, state: str, revision: int, total: int) -> dict[str, object]:
    return {
        "id": plan_id, "government_code": "33", "agency_code": AGENCY, "sub_activity_code": sub,
        "fiscal_year": 2026, "state": state, "version": 9, "next_line_number": 3, "total": total,
        "review_note": "", "line_notes": {}, "created_at": NOW, "updated_at": NOW, "line_count": 2,
        "revision": revision, "approved_total": 500_000 if state == "approved" or revision else 0,
    }  # fmt: skip


def _line(plan_id: str, number: int, account: str, amount: int, committed: int = 0) -> dict[str, object]:
    return {
        "plan_id": plan_id, "number": number, "account_code": account, "standard_item_code": "",
        "specification": "Honorarium", "volume": "1 orang", "factors": [[1, "orang"]], "unit": "orang",
        "unit_price": amount, "amount": amount, "funding_source": "PAD", "tags": [], "committed": committed,
    }  # fmt: skip


def test_migration_0005_finds_the_dpa_in_force_of_approved_plans_and_of_plans_in_revision(database_url: str) -> None:
    upgrade(database_url, MIGRATIONS, "budgeting", "0004")
    db = Database(database_url)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(government).values(code="33", name="Jawa Tengah", level="province", created_at=NOW))
            conn.execute(
                insert(agency).values(
                    government_code="33", code=AGENCY, name="Dinas Kesehatan", short_name="", contacts=[], version=1,
                    created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
            conn.execute(
                insert(budget_plan),
                [
                    _plan("approved", "1.02.02.2.01.0001", "approved", 0, 500_000),
                    _plan("revising", "1.02.02.2.01.0002", "draft", 1, 450_000),
                    _plan("draft", "1.02.02.2.01.0003", "draft", 0, 100_000),
                ],
            )
            conn.execute(
                insert(budget_line),
                [
                    _line("approved", 1, "5.1.01.01.01.0001", 300_000, committed=100_000),
                    _line("approved", 2, "5.1.01.01.01.0002", 200_000),
                    # Lowered by the open revision (the DPA said 400,000) and moved to another account.
                    _line("revising", 1, "5.1.01.01.01.0003", 350_000, committed=50_000),
                    _line("revising", 2, "5.1.01.01.01.0002", 100_000),  # unchanged
                    _line("draft", 1, "5.1.01.01.01.0001", 100_000),
                ],
            )
            approved_snapshot = {
                "lines": [
                    {"number": 1, "account_code": "5.1.01.01.01.0001", "amount": 400_000},
                    {"number": 2, "account_code": "5.1.01.01.01.0002", "amount": 100_000},
                ]
            }
            conn.execute(
                insert(budget_plan_version),
                [
                    {"plan_id": "revising", "version": v, "state": s, "action": a, "actor": "tapd",
                     "created_at": NOW, "total": 500_000, "line_count": 2, "content": c}
                    for v, s, a, c in (
                        (3, "approved", "approve", {"lines": []}),  # an older approval
                        (7, "approved", "approve", approved_snapshot),
                        (8, "draft", "revise", approved_snapshot),
                    )
                ],
            )  # fmt: skip
        upgrade(database_url, MIGRATIONS, "budgeting")
        t = budget_line
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.plan_id, t.c.number, t.c.dpa_amount, t.c.dpa_account_code, t.c.removed).order_by(
                    t.c.plan_id, t.c.number
                )
            ).all()
    finally:
        db.dispose()
    assert [tuple(r) for r in rows] == [
        ("approved", 1, 300_000, "5.1.01.01.01.0001", False),
        ("approved", 2, 200_000, "5.1.01.01.01.0002", False),
        ("draft", 1, 0, "", False),
        ("revising", 1, 400_000, "5.1.01.01.01.0001", False),
        ("revising", 2, 100_000, "5.1.01.01.01.0002", False),
    ]
