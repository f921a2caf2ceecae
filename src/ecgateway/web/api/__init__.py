"""The JSON API under /api/v1, one module per domain: auth (sessions), accounts, obo, commerce, admin."""
