"""SMTP with STARTTLS and a login, and TLS from the first byte, against aiosmtpd on loopback with a
certificate made for the test: the certificate is checked (an unknown CA is refused, the message
waits), and a server that wants a login gets it only over TLS. (A refused login is not tested here:
aiosmtpd left the next conversation hanging after one.)"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy.orm import sessionmaker

from ecgateway.config import Settings
from ecgateway.db import make_engine
from ecgateway.mail import MailSender, enqueue
from ecgateway.mail.models import MAIL_PENDING, EmailMessage
from mail.smtp_server import SmtpServer, _Handler, free_port

CONTEXT = {"name": "Ops", "site": "test", "link": "", "link_expires": ""}


@pytest.fixture(scope="module")
def sessions(portal_url):
    engine = make_engine(portal_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (its own CA), as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("cert")
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder


def server_tls(cert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert / "cert.pem", cert / "key.pem")
    return context


def only(login: str, password: str):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == login.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok)
    return check


def clear(sessions):
    with sessions() as db, db.begin():
        db.execute(sa.delete(EmailMessage))


def send_one(sessions, settings) -> MailSender:
    clear(sessions)
    with sessions() as db:
        enqueue(db, "ops@example.com", "mail_check", CONTEXT, settings=settings)
        db.commit()
    sender = MailSender(sessions=sessions, settings=settings)
    sender.run_until_idle()
    return sender


def test_starttls_with_a_login(sessions, cert, tmp_path):
    box = SmtpServer()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, tls_context=server_tls(cert),
                            require_starttls=True, authenticator=only("gateway", "s3cret-for-test"),
                            auth_require_tls=True)
    controller.start()
    try:
        settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=box.port, smtp_security="starttls",
                            smtp_username="gateway", smtp_password="s3cret-for-test", smtp_ca_file=cert / "cert.pem",
                            smtp_timeout_seconds=5)
        send_one(sessions, settings)
        assert len(box.wait_for("ops@example.com")) == 1
        # the same server, without the CA: the certificate is refused and the message waits
        send_one(sessions, settings.model_copy(update={"smtp_ca_file": None}))
        with sessions() as db:
            row = db.scalar(sa.select(EmailMessage))
            assert row.state == MAIL_PENDING and "CERTIFICATE_VERIFY_FAILED" in row.last_error
        assert len(box.to("ops@example.com")) == 1
    finally:
        controller.stop()


def test_tls_from_the_first_byte(sessions, cert, tmp_path):
    box = SmtpServer(port=free_port())
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, ssl_context=server_tls(cert))
    controller.start()
    try:
        settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=box.port, smtp_security="tls",
                            smtp_ca_file=cert / "cert.pem")
        send_one(sessions, settings)
        assert len(box.wait_for("ops@example.com")) == 1
    finally:
        controller.stop()
