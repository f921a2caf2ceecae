"""The JSON API: sign-in reply, account search/sort/keyset paging, the OpenAPI schema, and the
server-rendered picker's paging (the page works without JavaScript)."""

from __future__ import annotations

from web.web_env import PASSWORD, api_client


def test_sign_in_returns_user_csrf_and_context(gw):
    client = gw.client()
    r = client.post("/api/v1/session", json={"login": "cust1", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["login"] == "cust1" and body["user"]["user_type"] == "Customer"
    assert body["csrf_token"] and body["obo"]["account_an8"] == gw.accounts[0] and body["obo"]["acting"] is False
    assert "password" not in r.text.lower().replace("password_", "")


def test_accounts_keyset_paging_covers_the_list_once(gw):
    client, _ = api_client(gw, "cs1")  # no restriction: every account
    seen, cursor = [], None
    while True:
        r = client.get("/api/v1/accounts", params={"limit": 7, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        seen += [a["an8"] for a in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(gw.accounts) and len(seen) == len(set(seen))


def test_accounts_search_sort_and_restriction(gw):
    client, _ = api_client(gw, "sales1")
    allowed = set(gw.allowed_for("sales1"))
    names = client.get("/api/v1/accounts", params={"sort": "name", "limit": 200}).json()["items"]
    assert {a["an8"] for a in names} == allowed
    assert [a["name"] for a in names] == sorted(a["name"] for a in names)
    target = names[0]
    word = target["name"].split()[0].lower()
    found = client.get("/api/v1/accounts", params={"q": word}).json()["items"]
    assert target["an8"] in [a["an8"] for a in found] and {a["an8"] for a in found} <= allowed
    by_number = client.get("/api/v1/accounts", params={"q": str(target["an8"])}).json()["items"]
    assert [a["an8"] for a in by_number][:1] == [target["an8"]]


def test_picker_page_pages_without_javascript(gw):
    client = gw.client("cs1")
    first = client.get("/accounts", params={"limit": 10})
    assert first.status_code == 200 and 'id="next-page"' in first.text
    href = first.text.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(href + "&limit=10")
    assert second.status_code == 200
    assert f'data-an8="{gw.accounts[0]}"' in first.text and f'data-an8="{gw.accounts[0]}"' not in second.text
    assert f'data-an8="{gw.accounts[10]}"' in second.text


def test_openapi_is_for_signed_in_users_and_there_is_no_cdn_docs_page(gw):
    anonymous = gw.client()
    assert anonymous.get("/api/openapi.json").status_code == 401
    for path in ("/docs", "/redoc", "/openapi.json"):  # FastAPI's own pages load Swagger/ReDoc from a CDN
        assert anonymous.get(path).status_code == 404, path
        assert gw.client("ar1").get(path).status_code == 404, path
    # /api/docs is the gateway's own page drawn from the document (issue 15 part 9): signed-in users only,
    # nothing loaded from elsewhere
    assert anonymous.get("/api/docs").status_code in (303, 401)
    page = gw.client("ar1").get("/api/docs")
    assert page.status_code == 200 and "/api/v1/accounts" in page.text
    import re
    outside = [u for u in re.findall(r'(?:src|href)="(https?://[^"]+)"', page.text) if not u.startswith("http://testserver/")]
    assert outside == [], outside


def test_openapi_documents_the_api(gw):
    spec = gw.client("ar1").get("/api/openapi.json").json()
    paths = spec["paths"]
    for path, methods in {"/api/v1/session": {"post", "get", "delete"}, "/api/v1/accounts": {"get"},
                          "/api/v1/accounts/{an8}": {"get"}, "/api/v1/obo": {"get", "post", "delete"}}.items():
        assert methods <= set(paths[path]), path
    assert "X-CSRF-Token" in paths["/api/v1/obo"]["post"]["description"]
