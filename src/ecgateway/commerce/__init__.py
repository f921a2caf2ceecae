"""Commerce: carts, checkout, orders with idempotency keys, and the outbox that sends them to the ERP."""
