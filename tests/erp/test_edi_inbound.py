"""Local ERP orders against JDE's shape: every F47011/F47012 column written, R47011's fields set, safe numbers.

The EDI tables here are JDE's real ones (211/267 columns, every one NOT NULL with no default), so
a writer that leaves a column out fails the insert, as a site whose DDL gives no defaults refuses it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecgateway.config import Settings
from ecgateway.erp import ErpRejected, ErpUnavailable, OrderLine, OrderSubmission
from ecgateway.erp.local import WAITING, LocalErp
from ecgateway.jde.layouts import layout
from erp import jde_rows as rows
from erp.jde_rows import an8

NOW = dt.datetime(2026, 4, 10, 14, 5, 9, tzinfo=dt.UTC)  # Julian 126100, as rows.TODAY


@pytest.fixture(scope="module")
def erp(jde_db, tmp_path_factory) -> LocalErp:
    rows.add_pricing_rows(jde_db.engine, jde_db.tables)
    settings = Settings(data_dir=tmp_path_factory.mktemp("edi"), jde_user="REPORTAL", jde_program_id="EP47GW",
                        jde_job_number="GWHOST01")
    return LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY, now=lambda: NOW)


def order(key: str, *, po: str = "PO-EDI", lines=None) -> OrderSubmission:
    return OrderSubmission(
        erp_key=key, sold_to=an8("group_adj"), ship_to=an8("group_adj") + 100, parent=an8("group_adj") - 1,
        company="00000", branch="30", currency="USD", customer_po=po, placed_by="Rep One <rep@example.com>",
        lines=lines or (OrderLine(rows.ITEM, 10, "EA", Decimal("85.5")), OrderLine(rows.DECIMALS_ITEM, 3, "EA", Decimal("11.7283"))),
    )


def raw(conn, table: sa.Table, where) -> dict:
    """The stored row as the database holds it (padding kept), by column name."""
    columns = [sa.literal_column(c.name) for c in table.c]
    row = conn.execute(sa.select(*columns).select_from(table).where(where)).mappings().one()
    return dict(row)


def test_edi_tables_have_jdes_real_shape(jde_db):
    for table, name in ((jde_db.tables.F47011, "F47011"), (jde_db.tables.F47012, "F47012")):
        assert [c.name for c in table.c] == [c.name.lower() for c in layout(name)]
        assert all(not c.nullable and c.default is None and c.server_default is None for c in table.c)
    assert (len(jde_db.tables.F47011.c), len(jde_db.tables.F47012.c)) == (211, 267)


def test_a_row_missing_one_column_is_refused(jde_db):
    """The guard the writer is held to: JDE's shape takes no NULL and supplies no default."""
    h = jde_db.tables.F47011
    full = {c.name: (0 if isinstance(c.type, sa.BigInteger) else dt.datetime(1900, 1, 1)
                     if isinstance(c.type, sa.DateTime) else " ") for c in h.c}
    partial = dict(full, syedoc=987654321)
    del partial["syotot"]
    with pytest.raises(sa.exc.IntegrityError), jde_db.engine.begin() as conn:
        conn.execute(h.insert(), [partial])


def test_order_lands_with_every_r47011_field(erp, jde_db):
    t = jde_db.tables
    key = "edi-" + uuid.uuid4().hex[:8]
    receipt = erp.submit_order(order(key, po="PO 4711"))
    number = int(receipt.erp_reference.split()[-1])
    with jde_db.engine.connect() as conn:
        header = raw(conn, t.F47011, sa.and_(t.F47011.c.syedoc == number, t.F47011.c.syekco == "00000"))
        lines = [raw(conn, t.F47012, sa.and_(t.F47012.c.szedoc == number, t.F47012.c.szedln == n * 1000))
                 for n in (1, 2)]
    expected_header = {
        "syekco": "00000", "syedoc": number, "syedct": "SO", "syedst": "850   ", "syeder": "R", "sytpur": "00",
        "syan8": an8("group_adj"), "syshan": an8("group_adj") + 100, "sypa8": an8("group_adj") - 1,
        "symcu": "          30", "syedsp": " ", "syvr01": "PO 4711".ljust(25), "syvr02": key.ljust(25),
        "syedbt": "ECGATEWAY".ljust(15), "syeddl": 2, "sytrdj": rows.TODAY, "syeddt": rows.TODAY,
        "sycrcd": "USD", "syotot": 85500 + 3518, "syuser": "REPORTAL  ", "sytorg": "REPORTAL  ",
        "sypid": "EP47GW    ", "syjobn": "GWHOST01  ", "syupmj": 126100, "sytday": 140509,
    }
    for column, value in expected_header.items():
        assert header[column] == value, column
    _rest_is_blank(header, expected_header, t.F47011)
    expected_lines = [
        {"szekco": "00000", "szedoc": number, "szedct": "SO", "szedln": 1000, "szlnid": 1000, "szedst": "850   ",
         "szeder": "R", "szan8": an8("group_adj"), "szshan": an8("group_adj") + 100, "szpa8": an8("group_adj") - 1,
         "szmcu": "          30", "szitm": rows.ITEM_ITM, "szlitm": rows.ITEM.ljust(25), "szuorg": 10,
         "szuom": "EA", "szuprc": 855000, "szaexp": 85500, "szedsp": " ", "szvr01": "PO 4711".ljust(25),
         "szvr02": key.ljust(25), "szcrcd": "USD", "sztrdj": rows.TODAY, "szeddt": rows.TODAY,
         "szedbt": "ECGATEWAY".ljust(15), "szuser": "REPORTAL  ", "sztorg": "REPORTAL  ", "szpid": "EP47GW    ",
         "szjobn": "GWHOST01  ", "szupmj": 126100, "sztday": 140509},
    ]
    expected_lines.append(dict(expected_lines[0], szedln=2000, szlnid=2000, szitm=rows.ITEM_ITM + 2,
                               szlitm=rows.DECIMALS_ITEM.ljust(25), szuorg=3, szuprc=117283, szaexp=3518))
    for line, expected in zip(lines, expected_lines, strict=True):
        for column, value in expected.items():
            assert line[column] == value, column
        _rest_is_blank(line, expected, t.F47012)


def _rest_is_blank(row: dict, written: dict, table: sa.Table) -> None:
    """Every column the order does not name holds JDE's "nothing": blanks, 0, the blank DateTime."""
    for column in table.c:
        if column.name in written:
            continue
        value = row[column.name]
        if isinstance(column.type, sa.DateTime):
            assert value in (dt.datetime(1900, 1, 1), "1900-01-01 00:00:00.000000"), column.name
        elif isinstance(column.type, sa.BigInteger):
            assert value == 0, column.name
        else:
            assert value is not None and value.strip() == "", column.name


def test_numbers_come_from_next_numbers_and_advance_it(erp, jde_db):
    f0002 = jde_db.tables.F0002
    with jde_db.engine.connect() as conn:
        before = conn.scalar(sa.select(f0002.c.nnn001).where(f0002.c.nnsy == "47"))
    receipt = erp.submit_order(order("nn-" + uuid.uuid4().hex[:8]))
    with jde_db.engine.connect() as conn:
        after = conn.scalar(sa.select(f0002.c.nnn001).where(f0002.c.nnsy == "47"))
    assert int(receipt.erp_reference.split()[-1]) == before and after == before + 1


def test_two_gateways_and_jde_never_share_a_number(erp, jde_db, tmp_path):
    """Two gateway writers (own engines) and a JDE-side writer taking next numbers the documented way at once."""
    from ecgateway.db import make_engine

    f0002 = jde_db.tables.F0002
    engines = [make_engine(jde_db.url, jde=True) for _ in range(2)]
    gateways = [LocalErp(e, jde_db.tables, erp.settings, today=lambda: rows.TODAY, now=lambda: NOW) for e in engines]
    taken_by_jde: list[int] = []
    receipts, errors = [], []
    start = threading.Barrier(7)

    def jde_program():
        """What JDE's next-number function does: increment the system's line, read it back, commit."""
        start.wait()
        for _ in range(5):
            with engines[0].begin() as conn:
                conn.execute(sa.update(f0002).where(f0002.c.nnsy == "47").values(nnn001=f0002.c.nnn001 + 1))
                taken_by_jde.append(conn.scalar(sa.select(f0002.c.nnn001).where(f0002.c.nnsy == "47")) - 1)
                time.sleep(0.01)  # hold the row lock while the gateways queue behind it

    def gateway(n: int):
        start.wait()
        try:
            for i in range(4):
                receipts.append(gateways[n % 2].submit_order(order(f"two-{uuid.uuid4().hex[:6]}-{n}-{i}")))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=jde_program)] + [threading.Thread(target=gateway, args=(n,)) for n in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for e in engines:
            e.dispose()
    assert errors == []
    ours = [int(r.erp_reference.split()[-1]) for r in receipts]
    assert len(ours) == 24 and len(set(ours)) == 24
    assert not set(ours) & set(taken_by_jde) and len(set(taken_by_jde)) == 5


def test_missing_next_numbers_row_is_said_plainly(jde_db, tmp_path):
    settings = Settings(data_dir=tmp_path, edi_next_number_system="Q9")
    other = LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY)
    with pytest.raises(ErpUnavailable, match="F0002. have no row for system Q9"):
        other.submit_order(order("nonum-" + uuid.uuid4().hex[:8]))


def test_a_sequence_on_the_jde_side_gives_the_numbers(jde_db, tmp_path):
    settings = Settings(data_dir=tmp_path, edi_numbers="sequence", edi_sequence="ecgw_edi_test_seq")
    other = LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY)
    if jde_db.backend == "sqlite":
        with pytest.raises(ErpUnavailable, match="needs PostgreSQL or Oracle"):
            other.submit_order(order("seq-" + uuid.uuid4().hex[:8]))
        return
    sequence = sa.Sequence("ecgw_edi_test_seq", start=7_000_000, schema=jde_db.schema)
    with jde_db.engine.begin() as conn:
        conn.execute(sa.schema.CreateSequence(sequence))
    numbers, start = [], threading.Barrier(4)

    def submit(n):
        start.wait()
        numbers.append(int(other.submit_order(order(f"seq-{uuid.uuid4().hex[:6]}-{n}")).erp_reference.split()[-1]))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(7_000_000, 7_000_004))


def test_an_order_r47011_has_not_taken_is_reported_waiting(erp, jde_db):
    receipt = erp.submit_order(order("wait-" + uuid.uuid4().hex[:8]))
    assert erp.order_status(receipt.erp_reference).status == "queued"
    later = LocalErp(jde_db.engine, jde_db.tables, erp.settings, today=lambda: rows.TODAY,
                     now=lambda: NOW + dt.timedelta(minutes=erp.settings.edi_wait_minutes + 5))
    status = later.order_status(receipt.erp_reference)
    assert status.status == WAITING and "1 h 5 min" in status.detail and "R47011" in status.detail
    waiting = later.waiting_for_r47011()
    assert waiting.count >= 1 and waiting.oldest >= dt.timedelta(minutes=65)
    assert erp.waiting_for_r47011().count == 0


def test_a_repeated_or_refused_order_gives_its_number_back(erp, jde_db):
    f0002 = jde_db.tables.F0002

    def next_number():
        with jde_db.engine.connect() as conn:
            return conn.scalar(sa.select(f0002.c.nnn001).where(f0002.c.nnsy == "47"))

    key = "again-" + uuid.uuid4().hex[:8]
    first = erp.submit_order(order(key))
    after_first = next_number()
    assert erp.submit_order(order(key)) == first
    with pytest.raises(ErpRejected, match="not in the item master"):
        erp.submit_order(order("bad-" + uuid.uuid4().hex[:8], lines=(OrderLine("NO-SUCH", 1, "EA", Decimal(1)),)))
    assert next_number() == after_first


def test_r47011_as_documented_makes_the_order_and_status_follows_it(erp, jde_db):
    from erp.fake_r47011 import run_r47011

    key = "r47011-" + uuid.uuid4().hex[:8]
    receipt = erp.submit_order(order(key, po="PO-BATCH"))
    with jde_db.engine.begin() as conn:
        refused = run_r47011(conn, jde_db.tables)
    assert refused == {}
    status = erp.order_status(receipt.erp_reference)
    assert status.status == "entered" and "next status 520" in status.detail
    sh = jde_db.tables.F4201
    with jde_db.engine.connect() as conn:
        made = conn.execute(sa.select(sh.c.shan8, sh.c.shshan, sh.c.shmcu, sh.c.shvr01).where(sh.c.shvr02 == key)).one()
    assert tuple(made) == (an8("group_adj"), an8("group_adj") + 100, "30", "PO-BATCH")


def test_r47011_as_documented_refuses_a_header_without_its_purpose(erp, jde_db):
    """The fake is as strict as Oracle's list: a writer that left TPUR blank would never see its order made."""
    from erp.fake_r47011 import run_r47011

    receipt = erp.submit_order(order("notpur-" + uuid.uuid4().hex[:8]))
    number = int(receipt.erp_reference.split()[-1])
    h = jde_db.tables.F47011
    with jde_db.engine.begin() as conn:
        conn.execute(sa.update(h).where(h.c.syedoc == number).values(sytpur=" ", syeder=" "))
        refused = run_r47011(conn, jde_db.tables)
    assert refused == {number: ["F47011 SYTPUR is blank", "F47011 SYEDER is not R (received)"]}
    assert erp.order_status(receipt.erp_reference).status == "queued"
