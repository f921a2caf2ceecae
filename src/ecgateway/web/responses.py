"""Answers more than one router draws: a template page, the transaction log as CSV."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from ecgateway.admin import txlog


def render(request: Request, template: str, context: dict, status: int = 200, headers: dict | None = None):
    """A page from templates/ (base.html adds who is signed in and the on-behalf-of banner)."""
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status,
                                                        headers=headers)


def audit_csv(db: Session, flt: txlog.LogFilter, sort: str, direction: str) -> StreamingResponse:
    """The transaction log as CSV, streamed; a bad sort is an error before the first byte."""
    txlog.query_log(db, flt=flt, sort=sort, direction=direction, limit=1)
    return StreamingResponse(txlog.csv_chunks(db, flt=flt, sort=sort, direction=direction),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="transaction-log.csv"'})
