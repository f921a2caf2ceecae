"""The AIS client against the strict fake: sessions and errors as Oracle documents them.

Sessions: a token is bound to the device name it was requested with, expires when idle, and
is logged out with the same device name (Interoperability Guide for AIS, "Using a Token",
"Session Management"). Errors: a step that aborts on a business rule answers HTTP 500 with a
ServiceErrorResponse carrying userDefinedErrorText (REST API reference, "Execute an
Orchestration v2"; Orchestrator Guide, "Defining Error Handling for Orchestration Steps").
"""

from __future__ import annotations

import httpx
import pytest

from ecgateway.erp import ErpRejected, ErpUnavailable
from erp.fake_ais import ORDER, PASSWORD, PRICE, STATUS, USERNAME
from erp.test_ais_client import CART, order

DEVICE = "ecgw-test-1"  # the device name make_client configures
CREDIT_HOLD = "Customer 4242 is on credit hold: call Credit Control on 555-0100 before ordering"


# --- the fake itself refuses what AIS refuses ------------------------------------------------

def _login(url: str, **body) -> str:
    reply = httpx.post(url + "/jderest/v2/tokenrequest",
                       json={"username": USERNAME, "password": PASSWORD, "environment": "JPS920", **body})
    assert reply.status_code == 200, reply.text
    return reply.json()["userInfo"]["token"]


def _orchestrate(url: str, headers: dict, body: dict | None = None) -> httpx.Response:
    return httpx.post(url + "/jderest/v3/orchestrator/" + STATUS, headers=headers,
                      json=body or {"inputs": [{"name": "OrderNumber", "value": "1"}]})


def test_the_fake_binds_a_token_to_its_device_name(fake, server):
    _switch, url = server
    token = _login(url, deviceName="gw-a")
    assert _orchestrate(url, {"jde-AIS-Auth": token}).status_code == 444  # no device name
    assert _orchestrate(url, {"jde-AIS-Auth": token, "jde-AIS-Auth-Device": "gw-b"}).status_code == 444
    assert _orchestrate(url, {"jde-AIS-Auth": token, "jde-AIS-Auth-Device": "gw-a"}).status_code == 200
    assert _orchestrate(url, {}, {"token": token, "deviceName": "gw-a"}).status_code == 200  # in the body
    logout = url + "/jderest/v2/tokenrequest/logout"
    assert httpx.post(logout, json={"token": token}).status_code == 444
    assert token in fake.tokens
    assert httpx.post(logout, json={"token": token, "deviceName": "gw-a"}).status_code == 200
    assert fake.tokens == set() and fake.logouts == [token]


def test_the_fake_binds_a_token_without_device_name_to_the_address(fake, server):
    _switch, url = server
    token = _login(url)
    assert _orchestrate(url, {"jde-AIS-Auth": token}).status_code == 200
    with fake.lock:
        fake.sessions[token].address = "10.9.9.9"  # as if requested from another machine
    assert _orchestrate(url, {"jde-AIS-Auth": token}).status_code == 444


def test_the_fake_expires_idle_tokens_and_refuses_other_content_types(fake, server):
    _switch, url = server
    fake.idle_timeout = 60
    token = _login(url, deviceName="gw-a")
    headers = {"jde-AIS-Auth": token, "jde-AIS-Auth-Device": "gw-a"}
    fake.idle_for(59)
    assert _orchestrate(url, headers).status_code == 200  # use restarts the idle time
    fake.idle_for(59)
    assert _orchestrate(url, headers).status_code == 200
    fake.idle_for(61)
    assert _orchestrate(url, headers).status_code == 444
    assert fake.tokens == set()
    form = httpx.post(url + "/jderest/v2/tokenrequest", data={"username": USERNAME, "password": PASSWORD})
    assert form.status_code == 415


def test_the_fake_answers_a_business_refusal_as_the_rest_reference_shows(fake, server):
    _switch, url = server
    fake.hold(4242, CREDIT_HOLD)
    token = _login(url, deviceName="gw-a")
    reply = httpx.post(url + "/jderest/v3/orchestrator/" + ORDER,
                       headers={"jde-AIS-Auth": token, "jde-AIS-Auth-Device": "gw-a"},
                       json={"inputs": [{"name": "SoldTo", "value": "4242"}]})
    assert reply.status_code == 500
    body = reply.json()
    assert body["userDefinedErrorText"] == CREDIT_HOLD and body["status"] == "ERROR"
    assert {"message", "exception", "timeStamp"} <= body.keys()
    assert fake.orders == {}


# --- sessions --------------------------------------------------------------------------------

def test_every_call_and_the_logout_carry_the_device_name(fake, make_client):
    client = make_client()
    client.price(CART)
    receipt = client.submit_order(order())
    client.order_status(receipt.erp_reference)
    [token] = fake.tokens
    client.close()
    assert fake.refused == []
    assert fake.devices_seen == [DEVICE] * 4  # three calls and the logout
    assert fake.logouts == [token] and fake.tokens == set()
    assert [r["deviceName"] for r in fake.token_requests] == [DEVICE]


def test_one_token_serves_a_session_of_calls(fake, make_client):
    client = make_client()
    for _ in range(5):
        client.price(CART)
    client.submit_order(order("one-token"))
    assert len(fake.token_requests) == 1 and fake.refused == []


def test_an_idle_token_is_replaced_once_and_the_call_succeeds(fake, make_client):
    fake.idle_timeout = 300
    client = make_client()
    client.price(CART)
    fake.idle_for(301)
    assert client.price(CART).lines[0].available
    receipt = client.submit_order(order("after-idle"))
    assert receipt.status == "accepted"
    assert len(fake.token_requests) == 2
    assert [why for _path, why in fake.refused] == ["the session timed out"]
    assert client.breaker.state == "closed"


def test_a_device_name_refused_after_a_new_login_is_a_clear_error(fake, make_client):
    client = make_client()
    client.price(CART)
    fake.fail_next("444", "444")
    with pytest.raises(ErpUnavailable, match="refused a token it had just issued.*ECGW_AIS_DEVICE_NAME"):
        client.price(CART)
    assert len(fake.token_requests) == 2


# --- errors told apart -------------------------------------------------------------------------

def test_a_business_refusal_of_an_order_carries_jde_words_and_is_not_retried(fake, make_client):
    fake.hold(4242, CREDIT_HOLD)
    client = make_client(failure_threshold=2, max_attempts=3)
    for _ in range(5):
        with pytest.raises(ErpRejected) as info:
            client.submit_order(order("held"))
        assert info.value.reason == CREDIT_HOLD
        assert CREDIT_HOLD in str(info.value)
    assert fake.calls_to(ORDER) == 5  # one call each: never retried
    assert client.breaker.state == "closed"  # and never counted
    assert fake.orders == {}
    fake.release(4242)
    assert client.submit_order(order("held")).status == "accepted"
    assert len(fake.orders) == 1


def test_a_business_refusal_of_pricing_is_a_refusal(fake, make_client):
    client = make_client(failure_threshold=1)
    fake.fail_next(("refuse", "Sold-to 4242 has no price list for branch 30"))
    with pytest.raises(ErpRejected) as info:
        client.price(CART)
    assert info.value.reason == "Sold-to 4242 has no price list for branch 30"
    assert fake.calls_to(PRICE) == 1 and client.breaker.state == "closed"


# (behaviour, retried and counted?)
OUTAGES = ["500", "500-html", "502", "503", "504"]


@pytest.mark.parametrize("behaviour", OUTAGES)
def test_an_outage_is_retried_with_backoff_and_counted(fake, make_client, behaviour):
    sleeps: list[float] = []
    client = make_client(sleeps=sleeps, max_attempts=3, failure_threshold=3, backoff_base=0.2, backoff_cap=0.3)
    fake.fail_next(behaviour, behaviour)
    assert client.price(CART).lines[0].available
    assert fake.calls_to(PRICE) == 3 and len(sleeps) == 2
    assert all(s <= 0.3 for s in sleeps)
    fake.fail_next(behaviour, behaviour, behaviour)
    with pytest.raises(ErpUnavailable, match="did not answer EC_PriceCart after 3 tries"):
        client.price(CART)
    assert client.breaker.state == "open"


@pytest.mark.parametrize(("body", "kind"), [
    ({"message": "Customer 4242: order exceeds credit limit", "exception": "JDERestServiceException",
      "status": "ERROR"}, ErpRejected),
    ({"message": "Enterprise Server cannot be reached: JDENET timed out", "exception": "JDERestServiceException",
      "status": "ERROR"}, ErpUnavailable),
    ({"message": "Read timed out", "exception": "java.net.SocketTimeoutException", "status": "ERROR"}, ErpUnavailable),
    ({"unexpected": "shape"}, ErpUnavailable),
])
def test_a_500_is_read_before_it_is_retried(fake, make_client, body, kind):
    client = make_client(max_attempts=2)
    fake.fail_next(("reply", 500, body), ("reply", 500, body))
    with pytest.raises(kind):
        client.price(CART)
    assert fake.calls_to(PRICE) == (1 if kind is ErpRejected else 2)


@pytest.mark.parametrize("status", [409, 422])
def test_other_refusing_4xx_are_refusals(fake, make_client, status):
    client = make_client(failure_threshold=1)
    fake.fail_next(("reply", status, {"message": "Item FAS-00001 is obsolete", "status": "ERROR"}))
    with pytest.raises(ErpRejected) as info:
        client.price(CART)
    assert info.value.reason == "Item FAS-00001 is obsolete"
    assert client.breaker.state == "closed"


@pytest.mark.parametrize(("status", "words"), [
    (403, "ask the JDE security administrator"), (404, "ECGW_AIS_\\*_ORCHESTRATION"), (415, "disagree on the call")])
def test_setup_errors_wait_for_a_fix_and_do_not_open_the_circuit(fake, make_client, status, words):
    client = make_client(failure_threshold=1)
    for _ in range(2):
        fake.fail_next(("reply", status, {"message": "refused", "status": "ERROR"}))
        with pytest.raises(ErpUnavailable, match=words):
            client.submit_order(order("setup"))
    assert fake.calls_to(ORDER) == 2 and client.breaker.state == "closed"
