"""`grms audit verify` on a real budgeting SQLite database, intact and tampered with: chains and daily anchors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from grms_budgeting.adapters.anchor_repository import anchor_due_days
from grms_budgeting.adapters.budget_repository import audit_entry_from_row
from grms_budgeting.adapters.tables import audit_anchor, audit_entry
from grms_budgeting.bootstrap import MIGRATIONS, unit_of_work_factory
from grms_budgeting.domain.anchor import replay_anchors
from grms_budgeting.domain.audit import GENESIS_HASH, entry_hash
from grms_budgeting.domain.budget import LineInput
from grms_budgeting.domain.codes import NomenclatureRow
from grms_budgeting.service_layer import budget, handlers
from grms_cli.main import main
from grms_kit.clock import Clock, ManualClock, SystemClock
from grms_kit.db import Database
from grms_kit.identity import Identity, Role
from grms_kit.migrations import upgrade
from sqlalchemy import select, update

ADMIN = Identity(sub="admin", roles=frozenset({Role.ADMIN}), government="33")
AGENCY = "1.02.0.00.0.00.01.0000"
SUB = "1.02.02.2.01.0001"
SALARY = "5.1.01.01.01.0001"


def _budgeting_db(var_dir: Path, clock: Clock | None = None) -> tuple[Database, list[str]]:
    """budgeting.db in `var_dir` with two plans: one of 3 audit entries, one of 2."""
    url = f"sqlite:///{var_dir / 'budgeting.db'}"
    upgrade(url, MIGRATIONS, "budgeting")
    db = Database(url)
    uow = unit_of_work_factory(db, clock or SystemClock())
    handlers.register_government(handlers.RegisterGovernment("33", "Provinsi Jawa Tengah"), uow=uow(), actor=ADMIN)
    handlers.register_agency(handlers.RegisterAgency("33", AGENCY, "Dinas Kesehatan"), uow=uow(), actor=ADMIN)
    rows = [
        ("1", "URUSAN PEMERINTAHAN WAJIB"),
        ("1.02", "URUSAN PEMERINTAHAN BIDANG KESEHATAN"),
        ("1.02.02", "PROGRAM PEMENUHAN UPAYA KESEHATAN"),
        ("1.02.02.2.01", "Penyediaan Fasilitas Pelayanan Kesehatan"),
        (SUB, "Pembangunan Rumah Sakit"),
        ("1.02.02.2.01.0003", "Pembangunan Fasilitas Kesehatan Lainnya"),
    ]
    budget.import_nomenclature(2026, [NomenclatureRow(c, n, True, True) for c, n in rows], uow=uow(), actor=ADMIN)
    accounts = [
        ("5", "BELANJA DAERAH"),
        ("5.1", "BELANJA OPERASI"),
        ("5.1.01", "Belanja Pegawai"),
        ("5.1.01.01", "Belanja Gaji dan Tunjangan ASN"),
        ("5.1.01.01.01", "Belanja Gaji Pokok ASN"),
        (SALARY, "Belanja Gaji Pokok PNS"),
    ]
    budget.import_account_codes(2026, accounts, uow=uow(), actor=ADMIN)
    ids = []
    for sub, lines in ((SUB, 2), ("1.02.02.2.01.0003", 1)):
        plan = budget.create_budget_plan(
            budget.CreateBudgetPlan("33", AGENCY, sub, 2026), uow=uow(), actor=ADMIN, request_id="cli-test"
        )
        for n in range(lines):
            line = LineInput(SALARY, "", "Gaji pokok", f"{n + 1} orang x 12 bulan", "OB", 4_000_000, "DAU")
            budget.add_budget_line(budget.AddBudgetLine(plan.id, None, line), uow=uow(), actor=ADMIN, request_id="r")
        ids.append(plan.id)
    return db, ids


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GRMS_BUDGETING_DATABASE_URL", raising=False)
    return tmp_path


def test_intact_chains_exit_0_and_a_tampered_row_exits_1_naming_its_seq(
    var_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, (first, second) = _budgeting_db(var_dir)
    assert main(["audit", "verify", "--var-dir", str(var_dir)]) == 0
    out = capsys.readouterr().out
    assert "2 audit chain(s) intact" in out and out.count("OK") == 2

    with db.engine.begin() as conn:  # someone edits the second entry (add_line) of the first plan by hand
        conn.execute(
            update(audit_entry)
            .where(audit_entry.c.plan_id == first, audit_entry.c.seq == 2)
            .values(actor="someone-else")
        )
    db.dispose()
    assert main(["audit", "verify", "--var-dir", str(var_dir)]) == 1
    captured = capsys.readouterr()
    assert "broken at seq 2" in captured.out and "1 of 2 audit chain(s) broken" in captured.err
    assert main(["audit", "verify", "--plan", second, "--var-dir", str(var_dir)]) == 0
    assert main(["audit", "verify", "--plan", first, "--var-dir", str(var_dir)]) == 1
    assert "broken at seq 2" in capsys.readouterr().out


def test_usage_errors_exit_2_and_a_missing_database_exits_1(var_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--var-dir", str(var_dir)]) == 1
    assert "has no database" in capsys.readouterr().err
    assert main(["audit", "verify", "--bogus"]) == 2
    db, _ = _budgeting_db(var_dir)
    db.dispose()
    assert main(["audit", "verify", "--plan", "no-such-plan", "--var-dir", str(var_dir)]) == 2
    assert "does not exist" in capsys.readouterr().err


START = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)  # 09:00 WIB, 1 March


def _anchored_db(var_dir: Path) -> tuple[Database, list[str]]:
    """Two plans edited on 1, 2 and 3 March (WIB), and budgeting's anchors of 1-4 March."""
    clock = ManualClock(START)
    db, ids = _budgeting_db(var_dir, clock)
    uow = unit_of_work_factory(db, clock)
    for plan_id in ids:  # one more line a day: 2 March on the first plan, 3 March on the second
        clock.advance(dt.timedelta(days=1))
        line = LineInput(SALARY, "", "Tunjangan", "1 orang x 12 bulan", "OB", 1_000_000, "DAU")
        budget.add_budget_line(budget.AddBudgetLine(plan_id, None, line), uow=uow(), actor=ADMIN, request_id="r")
    assert anchor_due_days(uow, START + dt.timedelta(days=4)) == 4  # 1-4 March (WIB) have ended
    return db, ids


def _save_anchors(db: Database, path: Path) -> None:
    """What a citizen saved of /open-data/audit/anchors.json?limit=2: both pages, as a JSON list."""
    with db.engine.connect() as conn:
        rows = list(conn.execute(select(audit_anchor).order_by(audit_anchor.c.day.desc())))
    anchors = [
        {
            "day": r.day.isoformat(), "combined_hash": r.combined_hash, "plan_count": r.plan_count,
            "entry_count": r.entry_count, "computed_at": r.computed_at.isoformat().replace("+00:00", "Z"),
        }
        for r in rows
    ]  # fmt: skip
    link = "http://127.0.0.1:8000/open-data/audit/anchors.json?government=33&before={}&limit=2"
    pages = [
        {"government_code": "33", "anchors": anchors[:2], "next": link.format(anchors[1]["day"])},
        {"government_code": "33", "anchors": anchors[2:]},
    ]
    path.write_text(json.dumps(pages), encoding="utf-8")


def _rewrite_chain(db: Database, plan_id: str, seq: int, *, anchors_too: bool) -> None:
    """A DBA's forgery: change entry `seq`, recompute every following hash of the chain, and the anchors if asked."""
    with db.engine.begin() as conn:
        rows = conn.execute(select(audit_entry).where(audit_entry.c.plan_id == plan_id).order_by(audit_entry.c.seq))
        entries = [audit_entry_from_row(r._mapping) for r in rows]
        prev = GENESIS_HASH
        for e in entries:
            forged = dataclasses.replace(e, actor="someone-else") if e.seq == seq else e
            forged = dataclasses.replace(forged, prev_hash=prev, hash=entry_hash(forged, prev))
            conn.execute(
                update(audit_entry)
                .where(audit_entry.c.plan_id == plan_id, audit_entry.c.seq == e.seq)
                .values(actor=forged.actor, prev_hash=forged.prev_hash, hash=forged.hash)
            )
            prev = forged.hash
        if anchors_too:
            everything = [audit_entry_from_row(r._mapping) for r in conn.execute(select(audit_entry))]
            days = list(conn.scalars(select(audit_anchor.c.day)))
            for day, anchor in replay_anchors("33", everything, days, now=START).items():
                conn.execute(
                    update(audit_anchor)
                    .where(audit_anchor.c.government_code == "33", audit_anchor.c.day == day)
                    .values(combined_hash=anchor.combined_hash, entry_count=anchor.entry_count)
                )


def test_a_consistent_rewrite_of_chain_and_anchors_passes_alone_but_not_against_the_saved_anchors(
    var_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, (first, _) = _anchored_db(var_dir)
    saved = var_dir / "saved.json"
    _save_anchors(db, saved)
    assert main(["audit", "verify", "--var-dir", str(var_dir)]) == 0
    out = capsys.readouterr().out
    assert "2 audit chain(s) intact" in out and "4 daily anchor(s) match the audit entries." in out
    assert main(["audit", "verify", "--anchors", str(saved), "--var-dir", str(var_dir)]) == 0
    assert "4 daily anchor(s) match the audit entries, 4 of them against the saved copy." in capsys.readouterr().out

    _rewrite_chain(db, first, 2, anchors_too=True)  # 1 March's entry of the first plan
    db.dispose()
    assert main(["audit", "verify", "--var-dir", str(var_dir)]) == 0  # the database agrees with itself
    capsys.readouterr()
    assert main(["audit", "verify", "--anchors", str(saved), "--var-dir", str(var_dir)]) == 1
    captured = capsys.readouterr()
    out, error = captured.out, " ".join(captured.err.split())  # rich wraps long lines
    assert "2 audit chain(s) intact" in out  # the chains are consistent: only the saved copy tells
    assert "4 of 4 daily anchor(s) do not match, the first: government 33, day 2025-03-01" in error
    assert "(saved ≠ recomputed; saved ≠ stored)" in error
    assert "4 day(s) differ" in out and "2025-03-01" in out


def test_a_rewritten_chain_whose_anchor_rows_were_left_alone_is_caught_without_a_saved_copy(
    var_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, (_, second) = _anchored_db(var_dir)
    _rewrite_chain(db, second, 3, anchors_too=False)  # the line the second plan got on 3 March
    db.dispose()
    assert main(["audit", "verify", "--var-dir", str(var_dir)]) == 1
    captured = capsys.readouterr()
    error = " ".join(captured.err.split())
    assert "2 audit chain(s) intact" in captured.out and "broken" not in error
    assert "2 of 4 daily anchor(s) do not match, the first: government 33, day 2025-03-03" in error
    assert "(stored ≠ recomputed)" in error


def test_an_unreadable_or_invalid_saved_copy_exits_2_naming_the_problem(
    var_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = _anchored_db(var_dir)
    saved = var_dir / "saved.json"
    _save_anchors(db, saved)
    db.dispose()
    pages = json.loads(saved.read_text())
    good = pages[0]["anchors"][0]
    cases = {
        "missing.json": (None, "cannot read the saved anchors"),
        "text.json": ("not json at all", "is not JSON"),
        "shape.json": ([{"anchors": "nope"}], "page 1 is not a page of anchors.json"),
        "government.json": ({"anchors": []}, "has no government_code"),
        "day.json": ({"government_code": "33", "anchors": [{**good, "day": "2025-02-30"}]}, "is not a date"),
        "hash.json": ({"government_code": "33", "anchors": [{**good, "combined_hash": "x"}]}, "64 lowercase hex"),
        "count.json": ({"government_code": "33", "anchors": [{**good, "entry_count": "5"}]}, "entry_count must be"),
        "twice.json": (
            [pages[0], {"government_code": "33", "anchors": [{**good, "entry_count": 99}]}],
            "page 2 contradicts an earlier page on 33 2025-03-04",
        ),
    }
    for name, (content, message) in cases.items():
        path = var_dir / name
        if content is not None:
            path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        assert main(["audit", "verify", "--anchors", str(path), "--var-dir", str(var_dir)]) == 2, name
        assert message in " ".join(capsys.readouterr().err.split()), name
    # The same page saved twice is fine.
    (var_dir / "again.json").write_text(json.dumps(pages + pages), encoding="utf-8")
    assert main(["audit", "verify", "--anchors", str(var_dir / "again.json"), "--var-dir", str(var_dir)]) == 0
