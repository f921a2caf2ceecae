"""The desk's reads over HTTP, on SQLite and PostgreSQL: recent accounts, accounts found by an order,
each decided by the rep's compiled restriction (issue 15, part 2)."""

from __future__ import annotations

from decimal import Decimal

from web.web_env import csrf_of


def _order(gw, *, an8: int, po: str) -> int:
    from ecgateway.commerce.models import Order

    with gw.portal() as db:
        order = Order(erp_key=f"D-{po}", account_an8=an8, sold_to=an8, ship_to=an8, company="00000", branch="M30",
                      currency="USD", customer_po=po, total=Decimal("1.00"), placed_by_login="cust1", on_behalf=False)
        db.add(order)
        db.commit()
        return order.id


def test_orders_find_accounts_only_within_the_restriction(gw):
    mine, other = gw.allowed_for("ar1")[1], gw.accounts[-1]
    inside = _order(gw, an8=mine, po="Desk_PO%1")  # LIKE's wildcards are matched as themselves
    _order(gw, an8=other, po="desk_po%2")
    client = gw.client("ar1")
    r = client.get("/api/v1/desk/search", params={"q": "DESK_PO%"})
    assert r.status_code == 200, r.text
    found = [(m["account"]["an8"], m["customer_po"], m["matched"]) for m in r.json()["orders"]]
    assert found == [(mine, "Desk_PO%1", "customer PO")]
    assert client.get("/api/v1/desk/search", params={"q": "DESK_PO_"}).json()["orders"] == []  # _ is no wildcard
    by_number = client.get("/api/v1/desk/search", params={"q": str(inside)}).json()["orders"]
    assert [(m["account"]["an8"], m["matched"]) for m in by_number] == [(mine, "order number")]


def test_an_order_of_the_reps_account_is_found_behind_many_newer_ones_of_other_accounts(gw):
    """The switcher read the newest 32 matching orders and then applied the restriction: an older order
    of the rep's own account behind them was not found."""
    from ecgateway.commerce.models import Order
    from ecgateway.obo.desk import ORDER_MATCHES

    mine, other = gw.allowed_for("ar1")[2], gw.accounts[-1]
    older = _order(gw, an8=mine, po="BURIED-PO-1")
    with gw.portal() as db:
        for n in range(ORDER_MATCHES * 4 * 3):  # three batches of newer matches the rep may not see
            db.add(Order(erp_key=f"D-BURIED-{n}", account_an8=other, sold_to=other, ship_to=other, company="00000",
                         branch="M30", currency="USD", customer_po=f"BURIED-PO-X{n}", total=Decimal("1.00"),
                         placed_by_login="cust1", on_behalf=False))
        db.commit()
    found = gw.client("ar1").get("/api/v1/desk/search", params={"q": "buried-po"}).json()["orders"]
    assert [(m["account"]["an8"], m["order_id"]) for m in found] == [(mine, older)], found


def test_recent_accounts_newest_first_and_still_allowed(gw):
    client = gw.client("sales1")
    allowed = gw.allowed_for("sales1")
    for an8 in (allowed[0], allowed[2], allowed[0], allowed[5]):
        token = csrf_of(client)
        assert client.post("/obo", data={"an8": an8, "csrf_token": token}).status_code == 303
    recent = [a["an8"] for a in client.get("/api/v1/desk/search").json()["recent"]]
    assert recent[:3] == [allowed[5], allowed[0], allowed[2]]
    gw.restrict("sales1", f"ABAN8 IN ('{allowed[0]}', '{allowed[2]}')")
    try:
        assert [a["an8"] for a in client.get("/api/v1/desk/search").json()["recent"]][:2] == [allowed[0], allowed[2]]
    finally:
        gw.restrict("sales1", "ABAN8 IN (" + ",".join(f"'{a}'" for a in allowed) + ")")


def test_a_long_or_odd_query_is_no_500(gw):
    client = gw.client("cs1")
    for q in ("x" * 100, "'; DROP TABLE ec_orders; --", "\\%_", "9" * 30, "Köln"):
        assert client.get("/api/v1/desk/search", params={"q": q}).status_code == 200, q
    assert client.get("/api/v1/desk/search", params={"q": "x" * 101}).status_code == 422
