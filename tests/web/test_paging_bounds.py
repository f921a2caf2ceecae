"""Every `limit` and `offset` is bounded in one place (ecgateway.web.params): the API answers
422 naming the field, a page sent past any list goes to its first page; never a 500.

Before, an offset of 2^63 or more reached the database (a driver error: 500) on the catalog,
users and audit lists, API and pages (issue 14, point 4).
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

OFFSET_MAX = 2**31 - 1  # ecgateway.web.params.OFFSET_MAX: no list has more rows than a 32-bit id numbers
HUGE = [str(2**63), str(2**64 + 5), str(OFFSET_MAX + 1), "9" * 5000]

API_LISTS = [("admin1", "/api/v1/admin/users"), ("admin1", "/api/v1/admin/audit"), ("cust1", "/api/v1/catalog")]
PAGES = [("admin1", "/admin/users"), ("admin1", "/admin/audit"), ("cust1", "/catalog")]


@pytest.mark.parametrize(("login", "path"), API_LISTS)
def test_an_api_offset_past_any_list_is_422_naming_the_field(gw, login, path):
    client = gw.client(login)
    for value in HUGE:
        r = client.get(path, params={"offset": value})
        assert r.status_code == 422, (path, value[:30], r.status_code, r.text[:300])
        assert r.json()["message"].count("offset") == 1 and "offset:" in r.json()["message"]
        assert r.json()["field"] == "offset"  # one field at fault: named as a GatewayError names it
    assert client.get(path, params={"offset": str(OFFSET_MAX)}).status_code == 200  # the bound itself: an empty page


@pytest.mark.parametrize(("login", "path"), PAGES)
def test_a_page_offset_past_any_list_goes_to_the_first_page(gw, login, path):
    client = gw.client(login)
    for value in [*HUGE, "-1", "x", "\uff14"]:
        r = client.get(path, params={"offset": value, "q": "a b"})
        assert r.status_code == 303, (path, value[:30], r.status_code, r.text[:300])
        assert r.headers["location"] == f"{path}?q=a+b"
        assert "here is its first page" in r.text
        assert client.get(r.headers["location"]).status_code == 200
    assert client.get(path, params={"offset": str(OFFSET_MAX)}).status_code == 200
    assert client.get(path, params={"offset": "0"}).status_code == 200


@pytest.mark.parametrize("value", ["0", str(2**63), "-1", "x"])
def test_api_limits_are_bounded_and_named(gw, value):
    r = gw.client("admin1").get("/api/v1/admin/audit", params={"limit": value})
    assert r.status_code == 422 and "limit:" in r.json()["message"], r.text[:300]


def test_no_route_takes_an_unbounded_limit_or_offset(gw):
    """Every query parameter named like paging has an upper bound (declared in web/params.py)."""
    from ecgateway.web.params import OFFSET_MAX as declared
    from ecgateway.web.params import PAGING_NAMES

    assert declared == OFFSET_MAX
    unbounded = []
    for route in gw.app.routes:
        if not isinstance(route, APIRoute):
            continue
        params = [*route.dependant.query_params]
        for dep in route.dependant.dependencies:
            params.extend(dep.query_params)
        for param in params:
            if param.name not in PAGING_NAMES:
                continue
            upper = [m.le for m in param.field_info.metadata if getattr(m, "le", None) is not None]
            if not upper and route.dependant.call is not None and not _page_dependency(route, param):
                unbounded.append((route.path, param.name))
    assert unbounded == []


def _page_dependency(route: APIRoute, param) -> bool:
    """The pages' offset is checked by params._page_offset (a redirect, not a 422)."""
    from ecgateway.web import params as p

    return any(dep.call is p._page_offset and param in dep.query_params for dep in route.dependant.dependencies)
