"""A circuit breaker: after N failures in a row, fail fast for a cool-down, then let one call try.

closed  -> every call goes through; a success resets the count of failures in a row.
open    -> N failures in a row happened; calls fail at once until the cool-down ends.
half-open -> the cool-down ended; one trial call goes through (others still fail fast):
             its success closes the circuit, its failure opens it for another cool-down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitOpen(Exception):
    """Raised instead of making a call while the circuit is open."""

    def __init__(self, failures: int, retry_in: float):
        super().__init__(f"{failures} failures in a row; next try in {retry_in:.1f}s")
        self.failures = failures
        self.retry_in = retry_in


class CircuitBreaker:
    def __init__(self, *, failure_threshold: int = 5, reset_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def before_call(self) -> None:
        """Let the call through, or raise CircuitOpen."""
        with self._lock:
            state = self._state()
            if state == CLOSED:
                return
            if state == HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return
            waited = self.clock() - (self._opened_at or 0.0)
            raise CircuitOpen(self._failures, max(0.0, self.reset_after - waited))

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= self.failure_threshold:
                self._opened_at = self.clock()
            self._trial_running = False

    def _state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self.clock() - self._opened_at >= self.reset_after:
            return HALF_OPEN
        return OPEN
