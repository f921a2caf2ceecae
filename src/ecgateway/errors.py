"""The one root of the errors a person reads: what was wrong (message), the HTTP status to
answer with, and the request field at fault when there is one.

Every domain error derives from GatewayError; web/errors.py has the one handler that turns it
into the page or the JSON body (`body()`) the person sees. No web framework is imported here.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """A refusal or failure written for the person who asked; `status` is the HTTP status."""

    status: int = 400

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the request field at fault, when there is one
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        """The JSON an API client gets."""
        return {"status": self.status, "message": self.message}

    def link(self, *, api: bool) -> tuple[str, str] | None:
        """Where to go from here, as (address, words), when the error has such a place: the JSON body
        carries the address (`link`), the page draws it as a link. api: the address for an API client."""
        return None

    def headers(self) -> dict[str, str] | None:
        """Headers that go with the answer (e.g. Retry-After)."""
        return None


class DatabaseBusy(GatewayError):
    """A database did not answer in time: every pooled connection was taken for ECGW_DB_POOL_TIMEOUT
    seconds, it refused a new connection (PostgreSQL's max_connections), a lock was not granted,
    or it chose this request's transaction as a deadlock's victim. The transaction was rolled
    back; the same request may be sent again."""

    status = 503
    RETRY_SECONDS = 5

    def __init__(self) -> None:
        super().__init__("The gateway's database is busy or not answering, so this request was not completed. "
                         "Try again in a moment; what was saved before is kept.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.RETRY_SECONDS)}

