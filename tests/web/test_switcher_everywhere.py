"""The header's account switcher is on every page a rep reaches (issue 15, part 2: "in the header
of every page"), acting for an account or not, and on no page of a customer or an admin.

Every GET page route of the app is visited (path parameters filled from the seeded data), so a
new page that leaves the base layout fails here."""

from __future__ import annotations

import re

from web.test_authz_matrix import app_routes
from web.web_env import csrf_of

SKIP = ("/api/", "/static/", "/healthz", "/readyz", "/login", "/set-password", "/lists/open")


def _page_paths(gw) -> list[str]:
    an8 = gw.allowed_for("sales1")[1]
    values = {"an8": an8, "rep_id": gw.users["sales1"], "user_id": gw.users["sales1"]}
    paths = []
    for method, path in sorted(app_routes(gw)):
        if method != "GET" or path.startswith(SKIP) or path.endswith((".csv", "/live")):
            continue  # the API, downloads and the supervisor's fragment
        if not set(re.findall(r"{(\w+)}", path)) <= set(values):
            continue  # an order or a list of its own: the pages test draws those
        paths.append(path.format(**values))
    return paths


def test_every_page_a_rep_reaches_has_the_switcher_and_nobody_elses_does(gw):
    paths = _page_paths(gw)
    assert len(paths) >= 15, paths
    rep = gw.client("sales1")
    seen = 0
    for acting in (False, True):
        if acting:
            r = rep.post("/api/v1/obo", json={"an8": gw.allowed_for("sales1")[1]},
                         headers={"X-CSRF-Token": csrf_of(rep)})
            assert r.status_code == 200, r.text
        for path in paths:
            r = rep.get(path, follow_redirects=True)
            if "text/html" not in r.headers.get("content-type", ""):
                continue
            seen += 1
            assert 'id="switcher"' in r.text, (acting, path, r.status_code)  # also on a 403 or 404 page
    assert seen >= 2 * 12, seen
    for login in ("cust1", "admin1"):
        other = gw.client(login)
        for path in paths:
            r = other.get(path, follow_redirects=True)
            assert 'id="switcher"' not in r.text, (login, path)
