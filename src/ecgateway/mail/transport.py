"""Where messages go: an SMTP server (STARTTLS, TLS or plain, with an optional login), or, the
embedded default without SMTP settings, one .eml file per message under the data folder."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from ecgateway.config import Settings


class MailUnavailable(Exception):
    """The server could not be reached or answered 4xx: the message waits and is tried again."""


class MailRefused(Exception):
    """The server refused the message for good (5xx, e.g. no such mailbox): it is not retried."""


class Transport(Protocol):
    def send(self, message: MimeMessage) -> None: ...


def build_message(*, sender: str, to: str, subject: str, text: str, html: str, message_id: str) -> MimeMessage:
    """A multipart/alternative message (text first, HTML preferred by readers that show it)."""
    msg = MimeMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"], msg["Message-ID"] = formatdate(localtime=False, usegmt=True), message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to the gateway
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def new_message_id(settings: Settings) -> str:
    domain = settings.mail_from.rpartition("@")[2].rstrip(">").strip() or "ecgateway.localhost"
    return make_msgid(domain=domain)


def make_transport(settings: Settings) -> Transport:
    """SMTP when ECGW_SMTP_HOST is set, else .eml files in settings.mail_folder."""
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(settings.mail_folder)


class SmtpTransport:
    """One SMTP conversation per message, bounded by smtp_timeout_seconds."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, message: MimeMessage) -> None:
        s = self.settings
        try:
            if s.smtp_security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                                        context=self._tls())
            else:
                client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            with client:
                if s.smtp_security == "starttls":
                    client.starttls(context=self._tls())
                if s.smtp_username:
                    client.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= c < 600 for c in codes):
                raise MailRefused(f"recipient refused: {_first(exc.recipients)}") from exc
            raise MailUnavailable(f"recipient deferred: {_first(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            text = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                raise MailUnavailable(f"SMTP login refused ({text}): check ECGW_SMTP_USERNAME / _PASSWORD") from exc
            if 500 <= exc.smtp_code < 600 and not isinstance(exc, smtplib.SMTPSenderRefused):
                raise MailRefused(text) from exc
            raise MailUnavailable(text) from exc
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:  # refused, timed out, reset, no STARTTLS
            raise MailUnavailable(f"{type(exc).__name__}: {exc} ({s.smtp_host}:{s.smtp_port})") from exc


    def _tls(self) -> ssl.SSLContext:
        """Certificate and host name checked (against ECGW_SMTP_CA_FILE when set): never an unchecked TLS."""
        ca = self.settings.smtp_ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)


class FileTransport:
    """The embedded default: each message as <folder>/<utc time>-<id>.eml, written whole then renamed."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, message: MimeMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stem = message["Message-ID"].strip("<>").replace("/", "_").replace("@", "_at_")
            final = self.folder / f"{stem}.eml"
            partial = self.folder / f".{stem}.part"
            partial.write_bytes(bytes(message))
            os.replace(partial, final)
        except OSError as exc:
            raise MailUnavailable(f"cannot write {self.folder}: {exc}") from exc


def _first(recipients: dict) -> str:
    addr, (code, text) = next(iter(recipients.items()))
    return f"{addr}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


__all__ = ["FileTransport", "MailRefused", "MailUnavailable", "SmtpTransport", "Transport", "build_message",
           "make_transport", "new_message_id"]
