"""E-mail: an outbox in the portal database, templates in templates/email/, a sender with
backoff (SMTP or .eml files), and single-purpose expiring signed links for the messages.

    from ecgateway.mail import enqueue, sign_link, check_link
"""

from ecgateway.mail.links import LinkInvalid, check_link, link_url, sign_link
from ecgateway.mail.outbox import MailAddressInvalid, MailSender, enqueue, mail_report
from ecgateway.mail.render import MailTemplateError, render

__all__ = ["LinkInvalid", "MailAddressInvalid", "MailSender", "MailTemplateError", "check_link", "enqueue", "link_url",
           "mail_report", "render", "sign_link"]
