"""The supervisor's view (/admin/supervisor): live sessions, the period's figures, alerts, per account.

Admin only (AdminAuth: 403 for anyone else). The live sessions refresh without reloading
(static/admin/supervisor.js fetches /admin/supervisor/live); without script the page's own
"Refresh" link does the same. Ending a session is a POST with the session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecgateway.admin import supervisor as sv
from ecgateway.admin.users import AdminError
from ecgateway.clock import utcnow
from ecgateway.csvout import rows_to_csv
from ecgateway.web.charts import hbar, stacked_columns
from ecgateway.web.deps import AdminAuth, PortalSessionDep, SettingsDep
from ecgateway.web.errors import back_with_message
from ecgateway.web.params import AccountNumberPath, RowIdPath
from ecgateway.web.responses import render

router = APIRouter(include_in_schema=False)

CHART_REPS = 7  # reps drawn (and tabled) one by one in the sessions figure; the rest as "others"
DateQuery = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (UTC)")]


@router.get("/admin/supervisor", response_class=HTMLResponse)
def supervisor_page(request: Request, auth: AdminAuth, db: PortalSessionDep, settings: SettingsDep,
                    date_from: DateQuery = None, date_to: DateQuery = None):
    return _page(request, db, settings, date_from, date_to)


@router.get("/admin/supervisor/live", response_class=HTMLResponse)
def live_fragment(request: Request, auth: AdminAuth, db: PortalSessionDep, settings: SettingsDep):
    """The live sessions and alerts as HTML fragments, for the page's refresh."""
    alerts = sv.current_alerts(db, settings=settings)  # read only: the watcher raises and e-mails them
    return render(request, "admin/_supervisor_live.html", {
        "sessions": sv.live_sessions(db, settings=settings), "alerts": alerts, "alert_link": sv.alert_link,
        "settings": settings, "fragment": True})


@router.post("/admin/supervisor/sessions/{session_id}/end", response_class=HTMLResponse)
def end_session(request: Request, session_id: RowIdPath, auth: AdminAuth, db: PortalSessionDep,
                settings: SettingsDep, reason: Annotated[str, Form(max_length=2000)] = ""):
    try:
        ended = sv.end_session(db, ctx=auth.context, session_id=session_id, reason=reason)
    except AdminError as exc:
        db.rollback()
        return _page(request, db, settings, None, None, error=exc, failed_session=session_id,
                     status_code=exc.status)
    db.commit()
    return _page(request, db, settings, None, None,
                 message=f"Ended: {ended.rep_login} no longer acts on behalf of account {ended.account}. "
                         "They read your reason on their next page.")


@router.get("/admin/supervisor/{figure}.csv")
def figure_csv(figure: str, auth: AdminAuth, db: PortalSessionDep,
               date_from: DateQuery = None, date_to: DateQuery = None):
    within = sv.period(date_from, date_to)
    if figure not in sv.FIGURE_NAMES:  # said before any figure is counted
        sv.figure_rows(sv.Figures(within, {}, [], [], []), figure)
    header, rows = sv.figure_rows(sv.figures(db, within=within), figure)
    return Response(rows_to_csv(header, rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="supervisor-{figure}-{within.date_from}-{within.date_to}.csv"'})


@router.get("/admin/supervisor/accounts", response_class=HTMLResponse)
def account_lookup(request: Request, auth: AdminAuth, account: Annotated[str, Query(max_length=12)] = ""):
    """The account form's target: on to that account's page (a number is checked there).

    The form is on the view: nothing typed goes back there, and so does a wrong value, with the message."""
    text = account.strip()
    if not text:
        return RedirectResponse("/admin/supervisor", status_code=303)
    if not (text.isascii() and text.isdigit()):
        return back_with_message(request, "/admin/supervisor",
                                 f"{text[:20]!r} is not an account number; type the account's number in digits, e.g. 4242.")
    return RedirectResponse(f"/admin/supervisor/accounts/{int(text)}", status_code=303)


@router.get("/admin/supervisor/accounts/{an8}", response_class=HTMLResponse)
def account_page(request: Request, an8: AccountNumberPath, auth: AdminAuth, db: PortalSessionDep):
    history = sv.account_history(db, account=an8)
    return render(request, "admin/supervisor_account.html", {"history": history, "tab": "supervisor"})


# -- helpers ---------------------------------------------------------------------------------

def _page(request: Request, db, settings, date_from, date_to, *, message=None, error: AdminError | None = None,
          failed_session: int | None = None, status_code: int = 200):
    period_error = None
    try:
        within = sv.period(date_from, date_to)
    except AdminError as exc:
        period_error, within = exc, sv.period(None, None)
    figs = sv.figures(db, within=within)
    alerts = sv.current_alerts(db, settings=settings)  # read only: the watcher raises and e-mails them
    args = within.query_args()
    per_rep = figs.sessions_per_rep()
    # The chart's series (the CHART_REPS reps with most sessions, then the others together) are also the
    # table's columns: a year of every rep was a table of 366 x 51 cells (887 KiB of HTML, most of the
    # page's time); every rep's own figures stay in the CSV and the JSON API.
    series = figs.reps[:CHART_REPS] + (["others"] if len(figs.reps) > CHART_REPS else [])
    columns, table_rows = [], []
    for day, per in figs.sessions_per_day():
        values = [per.get(r, 0) for r in figs.reps[:CHART_REPS]]
        if len(figs.reps) > CHART_REPS:
            values.append(sum(per.get(r, 0) for r in figs.reps[CHART_REPS:]))
        columns.append((day.strftime("%m-%d"), values))
        if sum(values):
            table_rows.append((day, values, sum(values)))
    charts = {
        "sessions": stacked_columns("chart-sessions", "On-behalf-of sessions started per day, by representative",
                                    columns, series),
        "orders_count": hbar("chart-orders-count", "Orders placed: on behalf against by customers (count)",
                             [(f"{o.channel} ({o.currency})", o.count, str(o.count)) for o in figs.orders]),
        "orders_amount": hbar("chart-orders-amount", "Orders placed: on behalf against by customers (amount)",
                              [(f"{o.channel} ({o.currency})", float(o.amount), f"{o.amount} {o.currency}")
                               for o in figs.orders]),
        "refusals": hbar("chart-refusals", "Refused starts and refused actions per representative",
                         [(r.rep_login, r.refused_starts + r.refused_actions,
                           f"{r.refused_starts} starts, {r.refused_actions} actions") for r in figs.refusals]),
        "accounts": hbar("chart-accounts", f"The {sv.TOP_ACCOUNTS} accounts served most (sessions)",
                         [(f"account {a.account}", a.sessions, str(a.sessions)) for a in figs.accounts]),
    }
    return render(request, "admin/supervisor.html", {
        "tab": "supervisor", "figs": figs, "charts": charts, "per_rep": per_rep, "within": within,
        "series": series, "table_rows": table_rows, "others": max(0, len(figs.reps) - CHART_REPS),
        "period_error": period_error, "sessions": sv.live_sessions(db, settings=settings), "alerts": alerts,
        "alert_link": sv.alert_link, "settings": settings, "message": message, "error": error,
        "failed_session": failed_session, "csv": lambda name: f"/admin/supervisor/{name}.csv?" + urlencode(args),
        "args": args, "fragment": False, "now_text": utcnow().strftime("%H:%M:%S UTC"),
    }, status=status_code)
