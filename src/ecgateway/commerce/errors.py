"""Errors of commerce: each says what was wrong, where, and what to do, and maps to an HTTP status."""

from __future__ import annotations

from ecgateway.errors import GatewayError


class CommerceError(GatewayError):
    """A cart or order action that cannot go ahead; the message is for the person who asked."""


class NoAccount(CommerceError):
    """There is no account to shop for: a rep who is not acting on behalf, or anonymous."""

    status = 409


class NotAllowed(CommerceError):
    status = 403


class NotFound(CommerceError):
    status = 404


class Invalid(CommerceError):
    status = 422


class IdempotencyKeyReused(CommerceError):
    """The same Idempotency-Key came with a different request."""

    status = 422


class IdempotencyKeyInFlight(CommerceError):
    """A request with the same Idempotency-Key is still being processed."""

    status = 409


class PricingUnavailable(CommerceError):
    """The ERP could not price the cart just now."""

    status = 503


class PricingRefused(Invalid):
    """JD Edwards refused to price the cart (e.g. an item it may not sell to this customer); the
    message carries its reason, so the person can change the cart."""
