"""Single-purpose, expiring signed links."""

from __future__ import annotations

import datetime as dt

import pytest

from ecgateway.clock import frozen, utcnow
from ecgateway.mail import LinkInvalid, check_link, sign_link

SECRET = "k" * 48


def test_a_link_gives_back_its_subject_for_its_purpose_only():
    token = sign_link(SECRET, purpose="list.open", subject="list:12", expires_in=dt.timedelta(days=1))
    assert check_link(SECRET, token, purpose="list.open") == "list:12"
    with pytest.raises(LinkInvalid):
        check_link(SECRET, token, purpose="password.set")
    with pytest.raises(LinkInvalid):
        check_link("other" * 10, token, purpose="list.open")


def test_an_altered_link_is_refused():
    token = sign_link(SECRET, purpose="list.open", subject="list:12", expires_in=dt.timedelta(days=1))
    other = sign_link(SECRET, purpose="list.open", subject="list:13", expires_in=dt.timedelta(days=1))
    spliced = other.split(".")[0] + "." + token.split(".")[1]
    for bad in (spliced, token[:-2], token + "x", "", ".", "abc", "a" * 700):
        with pytest.raises(LinkInvalid):
            check_link(SECRET, bad, purpose="list.open")


def test_a_link_expires():
    token = sign_link(SECRET, purpose="list.open", subject="7", expires_in=dt.timedelta(hours=2))
    with frozen(utcnow() + dt.timedelta(hours=1, minutes=59)):
        assert check_link(SECRET, token, purpose="list.open") == "7"
    with frozen(utcnow() + dt.timedelta(hours=2, seconds=1)), pytest.raises(LinkInvalid) as caught:
        check_link(SECRET, token, purpose="list.open")
    assert caught.value.status == 410 and "expired" in caught.value.message


def test_link_url_prefers_the_public_address():
    from ecgateway.mail import link_url

    assert link_url("/lists/3", "T", public_url="https://portal.example.com/", request_base="http://x/") == \
        "https://portal.example.com/lists/3?t=T"
    assert link_url("lists/3", "T", public_url=None, request_base="http://127.0.0.1:9/") == "http://127.0.0.1:9/lists/3?t=T"
