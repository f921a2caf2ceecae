"""Admin console: users and their types, rep restrictions with history, the transaction log."""

from ecgateway.admin import history as _history  # noqa: F401,E402  records every restriction change
