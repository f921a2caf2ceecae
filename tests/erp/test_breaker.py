"""The circuit breaker on its own, with a clock the test moves."""

from __future__ import annotations

import pytest

from ecgateway.erp.breaker import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_n_failures_in_a_row_only():
    breaker = CircuitBreaker(failure_threshold=3, reset_after=10, clock=Clock())
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    breaker.before_call()
    breaker.record_success()  # a success resets the count
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen) as info:
        breaker.before_call()
    assert info.value.failures == 3 and info.value.retry_in == 10


def test_half_open_lets_one_trial_through():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=5, clock=clock)
    breaker.before_call()
    breaker.record_failure()
    clock.now = 4.9
    assert breaker.state == "open"
    clock.now = 5.0
    assert breaker.state == "half-open"
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # others wait for the trial's outcome
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now = 10.0
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == "closed"
    breaker.before_call()
    breaker.before_call()


def test_threshold_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker(failure_threshold=0)
