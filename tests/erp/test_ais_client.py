"""The AIS client against a fake AIS server on loopback (real uvicorn, real HTTP)."""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal

import pytest

from ecgateway.config import Settings
from ecgateway.erp import (
    ErpRejected,
    ErpUnavailable,
    OrderLine,
    OrderSubmission,
    PriceRequest,
    PriceRequestLine,
)
from ecgateway.erp.references import external_reference
from erp.fake_ais import ORDER, PRICE, USERNAME, FakeAis, local_pricer


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


CART = PriceRequest(sold_to=4242, ship_to=4243, company="00000", branch="30", currency=None,
                    lines=(PriceRequestLine("FAS-00001", 2), PriceRequestLine("NO-SUCH", 1), PriceRequestLine("SAF-00009", 3, "BX")))


def order(key: str = "key-1") -> OrderSubmission:
    return OrderSubmission(erp_key=key, sold_to=4242, ship_to=4243, parent=4240, company="00200", branch="30",
                           currency="USD", customer_po="PO-9", placed_by="Rep One <rep@example.com>",
                           lines=(OrderLine("FAS-00001", 2, "EA", Decimal("9.1234")),))


# --- the session ---------------------------------------------------------------------------

def test_one_token_serves_many_calls_from_many_threads(fake, make_client):
    client = make_client()
    errors = []

    def work():
        try:
            for _ in range(5):
                client.price(CART)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert fake.calls_to(PRICE) == 40
    assert len(fake.token_requests) == 1
    assert fake.token_requests[0] == {"username": USERNAME, "deviceName": "ecgw-test-1", "environment": "JPS920",
                                      "role": "*ALL"}
    [token] = fake.tokens
    client.close()
    assert fake.logouts == [token] and fake.tokens == set()


@pytest.mark.parametrize("refusal", ["444", "403-token"])
def test_logs_in_again_once_when_the_token_is_refused(fake, make_client, refusal):
    client = make_client()
    client.price(CART)
    fake.fail_next(refusal)
    result = client.price(CART)
    assert result.lines[0].available
    assert len(fake.token_requests) == 2
    assert fake.calls_to(PRICE) == 2


def test_expired_token_is_replaced(fake, make_client):
    client = make_client()
    client.price(CART)
    fake.expire_tokens()
    client.submit_order(order())
    assert len(fake.token_requests) == 2 and len(fake.orders) == 1


def test_a_fresh_token_refused_again_is_not_a_loop(fake, make_client):
    client = make_client()
    fake.fail_next("444", "444")
    with pytest.raises(ErpUnavailable, match="refused a token it had just issued"):
        client.price(CART)
    assert len(fake.token_requests) == 2


def test_wrong_password_says_what_to_check(fake, make_client):
    client = make_client(password="wrong")
    with pytest.raises(ErpUnavailable, match="refused the login of JDEGW.*check ECGW_AIS_USERNAME, ECGW_AIS_PASSWORD"):
        client.price(CART)


# --- the calls -----------------------------------------------------------------------------

def test_a_cart_is_priced_in_one_call_in_standard_input_form(fake, make_client):
    result = make_client().price(CART)
    assert fake.calls_to(PRICE) == 1
    _name, body = fake.calls[0]
    assert {"name": "SoldTo", "value": "4242"} in body["inputs"]
    assert {"name": "Currency", "value": ""} in body["inputs"]
    [grid] = body["detailInputs"]
    assert grid["name"] == "GridData"
    assert [row["inputs"] for row in grid["repeatingInputs"]][2] == [
        {"name": "ItemNumber", "value": "SAF-00009"}, {"name": "Quantity", "value": "3"},
        {"name": "UnitOfMeasure", "value": "BX"}]
    first, missing, third = result.lines
    assert (first.unit_price, first.extended, first.available) == (Decimal("9.1234"), Decimal("18.25"), True)
    assert (missing.available, missing.source) == (False, "JDE: Item NO-SUCH not found")
    assert (third.uom, third.extended) == ("BX", Decimal("27.37"))
    assert result.total == Decimal("18.25") + Decimal("27.37")


def test_order_carries_its_reference_and_status_reads_back(fake, make_client):
    client = make_client()
    key = "0f8c9b1e-5f0c-4a7e-9d7e-2b1c3d4e5f60"
    receipt = client.submit_order(order(key))
    assert receipt.erp_reference == "SO 00200 700001" and receipt.status == "accepted"
    [(reference, made)] = fake.orders.items()
    assert reference == external_reference(key) and made["inputs"]["CustomerPO"] == "PO-9"
    assert made["lines"] == [{"ItemNumber": "FAS-00001", "Quantity": "2", "UnitOfMeasure": "EA", "UnitPrice": "9.1234"}]
    assert client.submit_order(order(key)) == receipt  # the orchestration drops the duplicate
    status = client.order_status(receipt.erp_reference)
    assert (status.status, status.detail) == ("entered", "Print pick slips")
    with pytest.raises(ErpRejected, match="not a JDE sales order reference"):
        client.order_status("EDI 00000 SO 1")


# (behaviour the fake applies, exception, message)
ERROR_CASES = [
    (("reply", 400, {"message": "Item FAS-00001 is not stocked at branch 30", "status": 400}), ErpRejected,
     "JDE refused EC_PriceCart as a bad request: Item FAS-00001 is not stocked at branch 30"),
    (("reply", 200, {"jde__status": "ERROR", "jde__simpleMessage": "Customer 4242 is on credit hold"}), ErpRejected,
     "JDE refused EC_PriceCart: Customer 4242 is on credit hold"),
    (("reply", 403, {"message": "User not authorized for orchestration", "status": 403}), ErpUnavailable,
     "may not run orchestration EC_PriceCart .* ask the JDE security administrator"),
    (("reply", 200, {"Lines": []}), ErpUnavailable, "returned 0 price lines for 3 requested"),
]


@pytest.mark.parametrize(("behaviour", "error", "message"), ERROR_CASES)
def test_errors_say_what_to_do(fake, make_client, behaviour, error, message):
    fake.fail_next(behaviour)
    with pytest.raises(error, match=message):
        make_client().price(CART)
    assert fake.calls_to(PRICE) == 1  # none of these is worth a retry


def test_unknown_orchestration(fake, make_client):
    with pytest.raises(ErpUnavailable, match="has no orchestration EC_NoSuch .*ECGW_AIS_\\*_ORCHESTRATION"):
        make_client(price_orchestration="EC_NoSuch").price(CART)


# --- retries -------------------------------------------------------------------------------

def test_pricing_is_retried_with_capped_jittered_backoff(fake, make_client):
    sleeps: list[float] = []
    client = make_client(sleeps=sleeps, max_attempts=5, backoff_base=0.2, backoff_cap=0.5)
    fake.fail_next("500", "drop", "500", "500")
    assert client.price(CART).lines[0].available
    assert fake.calls_to(PRICE) == 5
    ceilings = [0.2, 0.4, 0.5, 0.5]  # doubling, capped at 0.5
    assert len(sleeps) == 4
    assert all(c / 2 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))


def test_slow_replies_time_out(fake, make_client):
    client = make_client(timeout=0.3, max_attempts=2)
    fake.fail_next(("slow", 1.0), ("slow", 1.0))
    started = time.monotonic()
    with pytest.raises(ErpUnavailable, match="did not answer EC_PriceCart after 2 tries .*no answer within 0.3s"):
        client.price(CART)
    assert time.monotonic() - started < 1.5


def test_unkeyed_order_is_not_retried_after_a_timeout(fake, make_client):
    client = make_client(timeout=0.3)
    fake.fail_next(("slow", 1.0))
    with pytest.raises(ErpUnavailable, match="whether it created the order .* is unknown .*check JDE"):
        client.submit_order(order(key=""))
    assert fake.calls_to(ORDER) == 1


def test_keyed_order_is_not_retried_when_the_orchestration_keeps_duplicates(fake, make_client):
    client = make_client(timeout=0.3, drops_duplicates=False)
    fake.fail_next(("slow", 1.0))
    with pytest.raises(ErpUnavailable, match="is unknown"):
        client.submit_order(order())
    assert fake.calls_to(ORDER) == 1


def test_keyed_order_is_retried_and_made_once(fake, make_client):
    client = make_client(timeout=0.3)
    fake.fail_next(("slow", 1.0))  # the order is made, the answer comes too late
    receipt = client.submit_order(order("retry-me"))
    assert fake.calls_to(ORDER) == 2
    assert len(fake.orders) == 1
    assert receipt.erp_reference == "SO 00200 " + fake.orders["retry-me"]["OrderNumber"]


def test_dropped_connection_on_an_unkeyed_order(fake, make_client):
    client = make_client()
    fake.fail_next("drop")
    with pytest.raises(ErpUnavailable, match="connection dropped"):
        client.submit_order(order(key=""))
    assert fake.calls_to(ORDER) == 1


def test_an_order_that_never_left_is_retried(make_client):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    sleeps: list[float] = []
    client = make_client(base_url=f"http://127.0.0.1:{closed_port}", sleeps=sleeps, drops_duplicates=False)
    with pytest.raises(ErpUnavailable, match="after 3 tries .*could not connect"):
        client.submit_order(order(key=""))
    assert len(sleeps) == 2  # connection refused: nothing reached AIS, so trying again was safe


# --- the circuit breaker ---------------------------------------------------------------------

def test_circuit_opens_fails_fast_and_closes_again(fake, make_client):
    clock = Clock()
    client = make_client(clock=clock, failure_threshold=3, reset_after=30.0, max_attempts=3)
    fake.fail_next("500", "500", "500")
    with pytest.raises(ErpUnavailable, match="did not answer EC_PriceCart after 3 tries"):
        client.price(CART)
    assert client.breaker.state == "open"
    with pytest.raises(ErpUnavailable, match="failed 3 times in a row.*30s more"):
        client.price(CART)
    with pytest.raises(ErpUnavailable, match="stops calling it"):
        client.submit_order(order())
    assert fake.calls_to(PRICE) == 3 and fake.calls_to(ORDER) == 0  # failing fast: nothing sent

    clock.now += 30  # cool-down over: one trial call; it fails, so the circuit opens again
    fake.fail_next("500")
    with pytest.raises(ErpUnavailable, match="stops calling it"):
        client.price(CART)
    assert fake.calls_to(PRICE) == 4 and client.breaker.state == "open"

    clock.now += 30  # the next trial succeeds and closes it
    assert client.price(CART).lines[0].available
    assert client.breaker.state == "closed"
    client.submit_order(order())
    assert fake.calls_to(ORDER) == 1


def test_refusals_do_not_open_the_circuit(fake, make_client):
    client = make_client(failure_threshold=2)
    for _ in range(3):
        fake.fail_next(("reply", 400, {"message": "bad item"}))
        with pytest.raises(ErpRejected):
            client.price(CART)
    assert client.breaker.state == "closed"


# --- the same prices as the local ERP ----------------------------------------------------------

def test_ais_over_local_tables_prices_like_local(server, make_client, jde_db, tmp_path):
    """A fake AIS that prices with the JDE tables gives the AIS client the local ERP's prices."""
    from ecgateway.erp.local import LocalErp
    from erp import jde_rows

    jde_rows.add_pricing_rows(jde_db.engine, jde_db.tables)
    local = LocalErp(jde_db.engine, jde_db.tables, Settings(data_dir=tmp_path), today=lambda: jde_rows.TODAY)
    switch, _url = server
    switch.app = FakeAis(pricer=local_pricer(local))
    request = PriceRequest(sold_to=jde_rows.an8("group_adj"), ship_to=jde_rows.an8("group_adj"), company="00000",
                           branch="30", currency=None,
                           lines=tuple(PriceRequestLine(item, q) for item, q in [
                               (jde_rows.ITEM, 1), (jde_rows.ITEM, 10), (jde_rows.ITEM, 100),
                               (jde_rows.DECIMALS_ITEM, 3), ("NO-SUCH", 1)]))
    by_ais, by_local = make_client().price(request), local.price(request)
    assert [(x.unit_price, x.extended, x.available) for x in by_ais.lines] == [
        (x.unit_price, x.extended, x.available) for x in by_local.lines]
    assert by_ais.total == by_local.total
