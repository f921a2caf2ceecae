"""The e-mail outbox against a real SMTP server on loopback (aiosmtpd), on SQLite and PostgreSQL:
a committed message is received, a rolled-back one never leaves, SMTP down -> the message waits
and goes when the server is back, a 5xx refusal is not retried, and without SMTP each message is
an .eml file under the data folder."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from ecgateway.clock import frozen, utcnow
from ecgateway.config import Settings
from ecgateway.db import make_engine
from ecgateway.mail import MailAddressInvalid, MailSender, MailTemplateError, enqueue, mail_report
from ecgateway.mail.models import MAIL_DEAD, MAIL_PENDING, MAIL_SENT, EmailMessage
from mail.smtp_server import SmtpServer, free_port

CONTEXT = {"name": "Blake Buyer", "site": "http://127.0.0.1:8000", "link": "http://127.0.0.1:8000/x?t=abc",
           "link_expires": "15 Dec 2026"}


@pytest.fixture(scope="module")
def sessions(portal_url):
    engine = make_engine(portal_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def clean(sessions):
    with sessions() as db, db.begin():
        db.execute(sa.delete(EmailMessage))
    return sessions


def smtp_settings(tmp_path, port: int) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="s" * 48, smtp_host="127.0.0.1", smtp_port=port,
                    smtp_security="none", mail_from="ecgateway <noreply@portal.example.com>",
                    mail_backoff_base_seconds=30, mail_backoff_cap_seconds=120)


def put(sessions, settings, to="buyer@example.com", template="mail_check", context=CONTEXT, commit=True) -> int:
    with sessions() as db:
        message = enqueue(db, to, template, context, settings=settings)
        (db.commit if commit else db.rollback)()
        return message.id


def test_committed_message_is_received_with_text_and_html(clean, tmp_path):
    server = SmtpServer().start()
    try:
        settings = smtp_settings(tmp_path, server.port)
        put(clean, settings, commit=False)  # rolled back with its action: never sent
        put(clean, settings)
        result = MailSender(sessions=clean, settings=settings).run_until_idle()
        assert (result.sent, result.retried) == (1, 0)
        [got] = server.wait_for("buyer@example.com")
        assert got.message["Subject"] == "ecgateway: test message for Blake Buyer"
        assert got.message["From"] == "ecgateway <noreply@portal.example.com>"
        assert got.message["Auto-Submitted"] == "auto-generated"
        assert "http://127.0.0.1:8000/x?t=abc" in got.text
        assert 'href="http://127.0.0.1:8000/x?t=abc"' in got.html
        with clean() as db:
            row = db.scalar(sa.select(EmailMessage))
            assert (row.state, row.attempts, row.message_id) == (MAIL_SENT, 1, got.message["Message-ID"])
    finally:
        server.stop()


def test_smtp_down_the_message_waits_and_goes_when_the_server_is_back(clean, tmp_path):
    server = SmtpServer(port=free_port())  # not started: connection refused
    settings = smtp_settings(tmp_path, server.port)
    first, second = put(clean, settings), put(clean, settings, to="other@example.com")
    sender = MailSender(sessions=clean, settings=settings)
    result = sender.run_once()
    assert (result.sent, result.retried) == (0, 1) and 15 <= result.pause_seconds <= 30
    with clean() as db:
        rows = {r.id: r for r in db.scalars(sa.select(EmailMessage))}
    assert rows[first].state == MAIL_PENDING and rows[first].attempts == 1
    assert "ConnectionRefusedError" in rows[first].last_error or "refused" in rows[first].last_error.lower()
    assert rows[second].attempts == 0  # released untried, due after the same pause
    with clean() as db:
        assert any("oldest pending" in line for line in mail_report(db))
    assert sender.run_once().claimed == 0  # backing off: not tried again at once
    server.start()
    try:
        with frozen(utcnow() + dt.timedelta(seconds=31)):
            assert sender.run_until_idle().sent == 2
        assert len(server.wait_for("buyer@example.com")) == 1 and len(server.wait_for("other@example.com")) == 1
    finally:
        server.stop()


def test_a_refused_recipient_is_kept_dead_not_retried(clean, tmp_path):
    server = SmtpServer(refuse={"gone@example.com"}).start()
    try:
        settings = smtp_settings(tmp_path, server.port)
        dead, live = put(clean, settings, to="gone@example.com"), put(clean, settings)
        result = MailSender(sessions=clean, settings=settings).run_until_idle()
        assert (result.sent, result.refused) == (1, 1)
        with clean() as db:
            assert db.get(EmailMessage, dead).state == MAIL_DEAD and "550" in db.get(EmailMessage, dead).last_error
            assert db.get(EmailMessage, live).state == MAIL_SENT
    finally:
        server.stop()


def test_without_smtp_each_message_is_an_eml_file_under_the_data_folder(clean, tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key="s" * 48)
    put(clean, settings)
    assert MailSender(sessions=clean, settings=settings).run_until_idle().sent == 1
    [path] = list((tmp_path / "mail").glob("*.eml"))
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "buyer@example.com" and "Blake Buyer" in msg.get_body(("plain",)).get_content()
    assert not list((tmp_path / "mail").glob(".*.part"))


@pytest.mark.parametrize("context, message", [
    ({**CONTEXT, "password": "x"}, "password"),
    ({**CONTEXT, "session_id": "x"}, "session"),
])
def test_a_context_carrying_a_password_or_session_id_is_refused(clean, tmp_path, context, message):
    with pytest.raises(MailTemplateError, match=message):
        put(clean, Settings(data_dir=tmp_path), context=context)


@pytest.mark.parametrize("to", ["", "no-at-sign", "a@b", "x@example.com\r\nBcc: evil@example.com", "a b@example.com"])
def test_addresses_that_cannot_be_sent_to_are_refused(clean, tmp_path, to):
    with pytest.raises(MailAddressInvalid):
        put(clean, Settings(data_dir=tmp_path), to=to)


def test_an_unknown_template_is_refused_in_the_callers_transaction(clean, tmp_path):
    with pytest.raises(MailTemplateError, match="no e-mail template"):
        put(clean, Settings(data_dir=tmp_path), template="no_such_template")
