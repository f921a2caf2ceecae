"""Local ERP orders: queued once in F47011/F47012, keyed by the idempotency key; their status."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecgateway.config import Settings
from ecgateway.erp import ErpRejected, OrderLine, OrderSubmission
from ecgateway.erp.local import LocalErp
from ecgateway.erp.references import external_reference
from erp import jde_rows as rows
from erp.jde_rows import an8


@pytest.fixture(scope="module")
def erp(jde_db, tmp_path_factory) -> LocalErp:
    rows.add_pricing_rows(jde_db.engine, jde_db.tables)
    settings = Settings(data_dir=tmp_path_factory.mktemp("erp"))
    return LocalErp(jde_db.engine, jde_db.tables, settings, today=lambda: rows.TODAY)


def order(key: str, *, po: str = "PO-1", lines=None, company: str = "00000") -> OrderSubmission:
    return OrderSubmission(
        erp_key=key, sold_to=an8("group_adj"), ship_to=an8("group_adj") + 100, parent=an8("group_adj") - 1,
        company=company, branch="30", currency="USD", customer_po=po, placed_by="Rep One <rep@example.com>",
        lines=lines or (OrderLine(rows.ITEM, 10, "EA", Decimal("85.5")), OrderLine(rows.DECIMALS_ITEM, 3, "EA", Decimal("11.7283"))),
    )


def headers(jde_db, reference: str):
    h = jde_db.tables.F47011
    with jde_db.engine.connect() as conn:
        return conn.execute(sa.select(h).where(h.c.syvr02 == reference)).all()


def test_order_is_queued_with_implied_decimals(erp, jde_db):
    key = "order-" + uuid.uuid4().hex[:8]
    receipt = erp.submit_order(order(key, po="PO 77"))
    assert receipt.status == "queued" and receipt.erp_reference.startswith("EDI 00000 SO ")
    [header] = headers(jde_db, key)
    assert (header.syan8, header.syshan, header.symcu, header.syvr01, header.syedsp) == (
        an8("group_adj"), an8("group_adj") + 100, "30", "PO 77", "")
    assert header.syotot == 85500 + 3518  # 855.00 + 35.1849 rounded to 35.18, in AEXP cents
    d = jde_db.tables.F47012
    with jde_db.engine.connect() as conn:
        lines = conn.execute(sa.select(d.c.szedln, d.c.szlitm, d.c.szitm, d.c.szuorg, d.c.szuprc, d.c.szaexp, d.c.szedsp)
                             .where(d.c.szedoc == header.syedoc, d.c.szekco == "00000").order_by(d.c.szedln)).all()
    assert [tuple(line) for line in lines] == [
        (1000, rows.ITEM, rows.ITEM_ITM, 10, 855000, 85500, ""),
        (2000, rows.DECIMALS_ITEM, rows.ITEM_ITM + 2, 3, 117283, 3518, ""),
    ]


def test_same_key_returns_the_first_receipt(erp, jde_db):
    key = str(uuid.uuid4())  # 36 characters: stored as its 25-character reference
    first = erp.submit_order(order(key))
    again = erp.submit_order(order(key, po="A DIFFERENT PO"))
    assert again == first
    assert len(headers(jde_db, external_reference(key))) == 1
    assert len(external_reference(key)) == 25


def test_concurrent_submits_with_one_key_make_one_order(erp, jde_db):
    key = "race-" + uuid.uuid4().hex
    receipts, errors = [], []
    start = threading.Barrier(12)

    def submit():
        start.wait()
        try:
            receipts.append(erp.submit_order(order(key)))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.erp_reference for r in receipts}) == 1 and len(receipts) == 12
    assert len(headers(jde_db, external_reference(key))) == 1


def test_concurrent_submits_with_different_keys_get_different_numbers(erp):
    receipts = []
    start = threading.Barrier(8)

    def submit(n):
        start.wait()
        receipts.append(erp.submit_order(order(f"many-{uuid.uuid4().hex[:6]}-{n}")))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.erp_reference for r in receipts}) == 8


@pytest.mark.parametrize(("changes", "message"), [
    (dict(lines=(OrderLine("NO-SUCH-ITEM", 1, "EA", Decimal("1")),)), "NO-SUCH-ITEM are not in the item master F4101"),
    (dict(lines=(OrderLine(rows.ITEM, 0, "EA", Decimal("1")),)), "quantities must be at least 1"),
    (dict(lines=(OrderLine(rows.ITEM, 1, "EA", Decimal("1.00001")),)), "does not fit JDE column UPRC"),
    (dict(po="P" * 26), "longer than JDE's 25 characters"),
    (dict(key="  "), "has no idempotency key"),
])
def test_refused_orders_leave_nothing_behind(erp, jde_db, changes, message):
    changes = dict(changes)  # the parameter dict is shared by both backends
    key = changes.pop("key", "refused-" + uuid.uuid4().hex[:8])
    with pytest.raises(ErpRejected, match=message):
        erp.submit_order(order(key, **changes))
    if key.strip():
        assert headers(jde_db, key) == []


def test_status_follows_the_order_into_jde(erp, jde_db):
    t = jde_db.tables
    reference = "status-" + uuid.uuid4().hex[:8]
    receipt = erp.submit_order(order(reference, po="PO-STATUS"))
    assert erp.order_status(receipt.erp_reference).status == "queued"
    number = int(receipt.erp_reference.split()[-1])
    with jde_db.engine.begin() as conn:  # what R47011 does: flag the EDI order, create the sales order
        conn.execute(sa.update(t.F47011).where(t.F47011.c.syedoc == number, t.F47011.c.syekco == "00000")
                     .values(syedsp="Y"))
    assert erp.order_status(receipt.erp_reference).status == "processed"
    with jde_db.engine.begin() as conn:
        # R47011 carries the EDI order's VR02 (the gateway's reference) to the sales order's SHVR02
        conn.execute(t.F4201.insert().values(shkcoo="00000", shdoco=88001, shdcto="SO", shan8=an8("group_adj"),
                                             shtrdj=rows.TODAY, shvr01="PO-STATUS", shvr02=reference))
        conn.execute(t.F4211.insert(), [
            dict(sdkcoo="00000", sddoco=88001, sddcto="SO", sdlnid=1000, sdnxtr="560", sdlttr="540"),
            dict(sdkcoo="00000", sddoco=88001, sddcto="SO", sdlnid=2000, sdnxtr="999", sdlttr="620"),
        ])
    status = erp.order_status(receipt.erp_reference)
    assert status.status == "picking" and "SO 00000 88001" in status.detail


@pytest.mark.parametrize(("reference", "message"), [
    ("EDI 00000 SO 999999", "no EDI order EDI 00000 SO 999999 in F47011"),
    ("SO 00200 5001", "is not an EDI order reference"),
])
def test_status_of_unknown_references(erp, reference, message):
    with pytest.raises(ErpRejected, match=message):
        erp.order_status(reference)


def test_sqlite_lock_really_serialises(tmp_path):
    """The SQLite branch of the lock: a second writer waits until the first commits."""
    from ecgateway.erp.local import _serialise_inbound_writers
    from ecgateway.jde.tables import jde_tables

    url = f"sqlite:///{tmp_path / 'lock.sqlite'}"
    tables = jde_tables(None)
    engine = sa.create_engine(url, connect_args={"timeout": 0.2})
    tables.metadata.create_all(engine)
    try:
        with engine.begin() as first:
            _serialise_inbound_writers(first, tables.F47011)
            with pytest.raises(sa.exc.OperationalError, match="locked"), engine.begin() as second:
                _serialise_inbound_writers(second, tables.F47011)
    finally:
        engine.dispose()
