"""JDE side: tables as the gateway sees them, conventions, the demo/benchmark generator."""
