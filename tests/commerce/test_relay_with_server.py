"""The relay starts with the server (app lifespan) and stops with it."""

from __future__ import annotations

from commerce_procs import free_port, place_orders, relay_env, serve, stop, wait_until_sent


def test_a_running_gateway_sends_orders_from_the_outbox(clean):
    shop = clean
    server = serve(relay_env(shop), free_port())
    try:
        placed = place_orders(shop, 3, prefix="srv")  # committed by another process: found by polling
        wait_until_sent(shop, [o.id for o in placed], procs=[server])
    finally:
        output = stop(server)
    # uvicorn shuts down gracefully (the lifespan stops the relay), then re-raises SIGTERM
    assert "Application shutdown complete" in output and server.returncode in (0, -15), output
