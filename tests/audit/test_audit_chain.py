"""The audit log: written in the caller's transaction, hash-chained, tamper-evident, append-only."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from databases import fresh_database
from ecgateway.audit import AuditError, record, verify
from ecgateway.audit.models import AuditEntry
from ecgateway.audit.service import entry_hash
from ecgateway.db import make_engine
from ecgateway.obo.context import Actor
from ecgateway.portal.migrate import upgrade

REP = Actor(user_id=7, login="rep1", name="Rita Rep", email="rita@example.com", user_type="Internal_SalesRep")


@pytest.fixture()
def engine(backend, tmp_path):
    """A migrated portal database of its own: these tests break the chain on purpose."""
    with fresh_database(backend, tmp_path, "audit") as url:
        upgrade(url)
        eng = make_engine(url)
        eng.info_url = url
        yield eng
        eng.dispose()


def write(engine, n: int, start: int = 0) -> None:
    with Session(engine) as s:
        for i in range(start, start + n):
            record(s, actor=REP, subject_an8=1000 + i, action="obo.start", object=f"account {1000 + i}",
                   outcome="ok", detail={"billing_an8": 2000 + i})
        s.commit()


def tamper(engine, sql: str, **params) -> None:
    """Change the table behind the application's back, past its append-only triggers."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text(sql), params)
            return
        triggers = conn.execute(sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'")).scalars().all()
        conn.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(sa.text("DROP TRIGGER audit_entries_no_delete"))
        conn.execute(sa.text(sql), params)
        for trigger in triggers:
            conn.execute(sa.text(trigger))


def check(engine):
    with Session(engine) as s:
        return verify(s)


def test_entries_chain_and_verify_ok(engine):
    write(engine, 5)
    result = check(engine)
    assert result.ok, result.message
    assert result.checked == 5
    with Session(engine) as s:
        rows = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert rows[0].actor_login == "rep1" and rows[0].actor_user_id == 7 and rows[0].subject_an8 == 1000
    assert rows[0].detail == '{"billing_an8":2000}'


def test_entry_written_in_callers_transaction(engine):
    write(engine, 1)
    with Session(engine) as s:
        record(s, actor=None, subject_an8=None, action="auth.sign_in", object="login nobody", outcome="refused")
        s.rollback()  # the action failed: its entry goes with it
    write(engine, 1, start=1)
    result = check(engine)
    assert result.ok and result.checked == 2, result.message


def test_secrets_refused_and_card_numbers_masked(engine):
    with Session(engine) as s:
        for key in ("password", "session_id", "csrf_token", "card_number", "cvv"):
            with pytest.raises(AuditError, match="looks like a secret"):
                record(s, actor=REP, subject_an8=1, action="x", object="", outcome="ok", detail={key: "v"})
        with pytest.raises(AuditError, match="outcome"):
            record(s, actor=REP, subject_an8=1, action="x", object="", outcome="maybe")
        e = record(s, actor=REP, subject_an8=1, action="order.place", object="order 1", outcome="refused",
                   detail={"reason": "card 4111 1111 1111 1111 please", "erp_key": "1234567890123"})
        assert "4111 1111" not in e.detail and "1111" in e.detail
        assert "1234567890123" in e.detail  # not a Luhn-valid number: left alone
        s.commit()


def test_verify_finds_edited_row(engine):
    write(engine, 6)
    tamper(engine, "UPDATE audit_entries SET outcome = 'refused' WHERE seq = 3")
    result = check(engine)
    assert (result.ok, result.kind, result.seq) == (False, "altered", 3), result.message


def test_verify_finds_edited_row_with_recomputed_hash(engine):
    write(engine, 6)
    with Session(engine) as s:
        entry = s.get(AuditEntry, 4)
        entry.object = "account 9999"
        new_hash = entry_hash(entry)
        s.rollback()
    tamper(engine, "UPDATE audit_entries SET object = 'account 9999', hash = :h WHERE seq = 4", h=new_hash)
    result = check(engine)
    assert (result.ok, result.kind, result.seq) == (False, "altered", 4), result.message


def test_verify_finds_deleted_rows(engine):
    write(engine, 6)
    tamper(engine, "DELETE FROM audit_entries WHERE seq = 2")
    result = check(engine)
    assert (result.ok, result.kind, result.seq) == (False, "removed", 2), result.message


def test_verify_finds_rows_removed_from_the_end(engine):
    write(engine, 6)
    tamper(engine, "DELETE FROM audit_entries WHERE seq >= 5")
    result = check(engine)
    assert (result.ok, result.kind, result.seq) == (False, "removed", 5), result.message


def test_verify_finds_inserted_row_in_the_middle(engine):
    """An insert that renumbers the rows after it and carries a well-formed hash still shows."""
    write(engine, 6)
    with Session(engine) as s:
        prev = s.get(AuditEntry, 3)
        forged = AuditEntry(seq=4, at=prev.at, actor_user_id=1, actor_login="mallory", subject_an8=4242,
                            action="obo.start", object="account 4242", outcome="ok", detail="{}",
                            prev_hash=prev.hash)
        forged.hash = entry_hash(forged)
        values = {c: getattr(forged, c) for c in ("seq", "at", "actor_user_id", "actor_login", "subject_an8",
                                                   "action", "object", "outcome", "detail", "prev_hash", "hash")}
        s.rollback()
    for seq in (6, 5, 4):
        tamper(engine, "UPDATE audit_entries SET seq = seq + 1 WHERE seq = :s", s=seq)
    tamper(engine, "INSERT INTO audit_entries (seq, at, actor_user_id, actor_login, subject_an8, action, object, "
                   "outcome, detail, prev_hash, hash) VALUES (:seq, :at, :actor_user_id, :actor_login, "
                   ":subject_an8, :action, :object, :outcome, :detail, :prev_hash, :hash)", **values)
    result = check(engine)
    assert (result.ok, result.kind, result.seq) == (False, "inserted", 4), result.message


def test_verify_finds_row_appended_behind_the_writers_back(engine):
    write(engine, 3)
    with Session(engine) as s:
        last = s.get(AuditEntry, 3)
        forged = AuditEntry(seq=4, at=last.at, actor_user_id=None, actor_login="", subject_an8=None,
                            action="sign_in", object="login x", outcome="ok", detail="{}", prev_hash=last.hash)
        h = entry_hash(forged)
        s.rollback()
    tamper(engine, "INSERT INTO audit_entries (seq, at, actor_login, action, object, outcome, detail, prev_hash, hash)"
                   " VALUES (4, :at, '', 'sign_in', 'login x', 'ok', '{}', :p, :h)", at=forged.at, p=forged.prev_hash, h=h)
    result = check(engine)
    assert (result.ok, result.kind, result.seq) == (False, "inserted", 4), result.message


def test_database_refuses_update_and_delete(engine, backend):
    write(engine, 2)
    statements = ["UPDATE audit_entries SET outcome = 'error'", "DELETE FROM audit_entries"]
    if backend == "postgresql":
        statements.append("TRUNCATE audit_entries")
    for sql in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(sql))
    assert check(engine).ok


def test_concurrent_writers_keep_the_chain(engine):
    writers, each = 20, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(each):
                with Session(engine) as s:
                    record(s, actor=REP, subject_an8=i, action="cart.add", object=f"writer {i} line {j}", outcome="ok")
                    s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    result = check(engine)
    assert result.ok and result.checked == writers * each, result.message


def test_cli_verify_reports_ok_and_tampering(engine, monkeypatch):
    from ecgateway.cli import app

    write(engine, 3)
    monkeypatch.setenv("ECGW_PORTAL_URL", engine.info_url)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "OK: 3 entries" in ok.output, ok.output
    tamper(engine, "UPDATE audit_entries SET action = 'nothing' WHERE seq = 2")
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "entry 2 was altered" in bad.output, bad.output
