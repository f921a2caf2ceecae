"""The audit log: one tamper-evident entry per action, written in the action's transaction."""

from ecgateway.audit.service import (  # noqa: F401  the public API
    OUTCOMES,
    AuditError,
    VerifyResult,
    record,
    verify,
)
