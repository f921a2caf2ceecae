"""A database that does not answer in time gives 503 with Retry-After in the page's words, not a 500.

CI saw a 500 when 50 concurrent order submits over two gateway processes met PostgreSQL's
max_connections; a full connection pool, a refused connection, a lock not granted and a deadlock
victim all end the same way: the transaction is rolled back and the request may be sent again.
Here the portal's pool has one connection (ECGW_DB_POOL_SIZE=1, no overflow) and the test holds it.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from web.web_env import BASE_URL, api_client, build_gateway


@pytest.fixture()
def small_pool(jde_db, portal_url, tmp_path):
    gateway = build_gateway(jde_db, portal_url, tmp_path, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.5)
    yield gateway
    gateway.runtime.dispose()


def test_a_full_pool_answers_503_with_retry_after_and_the_same_request_then_works(small_pool):
    gw = small_pool
    client, _csrf = api_client(gw, "cs1")
    page = TestClient(gw.app, base_url=BASE_URL, follow_redirects=False)
    page.cookies.update(client.cookies)
    with gw.runtime.portal_engine.connect():  # the pool's only connection, taken
        busy = client.get("/api/v1/session")
        shown = page.get("/accounts", headers={"Accept": "text/html"})
    assert busy.status_code == 503, busy.text
    assert busy.headers["Retry-After"] == "5"
    assert busy.json()["status"] == 503
    assert "busy or not answering" in busy.json()["message"] and "Try again" in busy.json()["message"]
    assert shown.status_code == 503, shown.text[:300]
    assert "busy or not answering" in shown.text and 'href="/' in shown.text  # in words, with a way back
    assert client.get("/api/v1/session").status_code == 200  # released: the same request works
