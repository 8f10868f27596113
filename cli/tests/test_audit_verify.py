"""`grms audit verify` on a real budgeting SQLite database, intact and tampered with."""

from __future__ import annotations

from pathlib import Path

import pytest
from grms_budgeting.adapters.tables import audit_entry
from grms_budgeting.bootstrap import MIGRATIONS, unit_of_work_factory
from grms_budgeting.domain.budget import LineInput
from grms_budgeting.domain.codes import NomenclatureRow
from grms_budgeting.service_layer import budget, handlers
from grms_cli.main import main
from grms_kit.clock import SystemClock
from grms_kit.db import Database
from grms_kit.identity import Identity, Role
from grms_kit.migrations import upgrade
from sqlalchemy import update

ADMIN = Identity(sub="admin", roles=frozenset({Role.ADMIN}), government="33")
AGENCY = "1.02.0.00.0.00.01.0000"
SUB = "1.02.02.2.01.0001"
SALARY = "5.1.01.01.01.0001"


def _budgeting_db(var_dir: Path) -> tuple[Database, list[str]]:
    """budgeting.db in `var_dir` with two plans: one of 3 audit entries, one of 2."""
    url = f"sqlite:///{var_dir / 'budgeting.db'}"
    upgrade(url, MIGRATIONS, "budgeting")
    db = Database(url)
    uow = unit_of_work_factory(db, SystemClock())
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
