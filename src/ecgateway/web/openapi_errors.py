"""The errors every API route may answer, documented once for all routes (issue 14, point 7).

Every answer that is not a success has one JSON shape (ErrorOut, drawn by web/errors.py):
`{"status": <the HTTP status>, "message": <what was wrong and what to do>}`, with `field` on
admin refusals and `order_id` + `link` when the error points at an order. web/setup.py
includes every router with ERROR_RESPONSES, so a new route under /api/ documents these
without doing anything; a route that documents a status itself keeps its own description.
FastAPI's own 422 shape (`detail`) is replaced: the validation handler answers ErrorOut too.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErrorOut(BaseModel):
    """An error answer of the API."""

    model_config = ConfigDict(extra="allow")

    status: int = Field(description="The HTTP status, again")
    message: str = Field(description="What was wrong, where, and what to do, in words for a person")
    field: str | None = Field(default=None, description="The request field at fault, when there is one")
    order_id: int | None = Field(default=None, description="The order the error is about (409 \"this cart was "
                                                           "just ordered\")")
    link: str | None = Field(default=None, description="The API address of what the error points at")


ERROR_STATUSES = {
    400: "The request cannot be read (e.g. a form field sent twice, or a body that is not what the route takes)",
    401: "Not signed in, or the session ended: sign in with POST /api/v1/session",
    403: "Signed in, but this user may not do this (the route's access level, the CSRF token, the Origin, "
         "or a rep's restriction)",
    404: "No such thing, or not one this user may see",
    405: "The path takes other methods; the Allow header lists them",
    409: "Not possible in the current state (e.g. an order with this Idempotency-Key is still running, "
         "this cart was just ordered, no account is being served)",
    422: "A field is missing or not valid; the message names it",
    429: "Too many attempts; the Retry-After header says how long to wait",
    500: "The gateway failed; nothing was changed by the request",
    503: "A system behind the gateway (JD Edwards, the ERP, its own database) cannot answer just now; the "
         "Retry-After header, when given, says when to try again",
}

ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorOut, "description": description} for status, description in ERROR_STATUSES.items()
}
