"""Errors of commerce: each says what was wrong, where, and what to do, and maps to an HTTP status."""

from __future__ import annotations


class CommerceError(Exception):
    """A cart or order action that cannot go ahead; the message is for the person who asked."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the request field at fault, when there is one


class NoAccount(CommerceError):
    """There is no account to shop for: a rep who is not acting on behalf, or anonymous."""

    http_status = 409


class NotAllowed(CommerceError):
    http_status = 403


class NotFound(CommerceError):
    http_status = 404


class Invalid(CommerceError):
    http_status = 422


class IdempotencyKeyReused(CommerceError):
    """The same Idempotency-Key came with a different request."""

    http_status = 422


class IdempotencyKeyInFlight(CommerceError):
    """A request with the same Idempotency-Key is still being processed."""

    http_status = 409


class PricingUnavailable(CommerceError):
    """The ERP could not price the cart just now."""

    http_status = 503


class PricingRefused(Invalid):
    """JD Edwards refused to price the cart (e.g. an item it may not sell to this customer); the
    message carries its reason, so the person can change the cart."""
