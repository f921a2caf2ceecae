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


class CartJustOrdered(CommerceError):
    """Another checkout of the same cart made an order first: one cart, one order at a time."""

    status = 409

    def __init__(self, order_id: int):
        super().__init__(f"this cart was just ordered: order {order_id} was placed from it a moment ago, so no "
                         "second order was made. Open that order to see it, or add items to the cart for a new one",
                         field="cart")
        self.order_id = order_id

    def body(self) -> dict:
        return {**super().body(), "order_id": self.order_id, "link": self.link(api=True)[0]}

    def link(self, *, api: bool) -> tuple[str, str]:
        return (f"/api/v1/orders/{self.order_id}" if api else f"/orders/{self.order_id}", f"Order {self.order_id}")


class PricingUnavailable(CommerceError):
    """The ERP could not price the cart just now."""

    status = 503


class PricingRefused(Invalid):
    """JD Edwards refused to price the cart (e.g. an item it may not sell to this customer); the
    message carries its reason, so the person can change the cart."""
