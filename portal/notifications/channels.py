"""Delivery channels: one small interface, one real implementation per channel.

A channel sends one rendered message to one address and either returns (the
message was handed over) or raises :class:`DeliveryError`.  ``permanent``
errors (the address itself was refused) are not retried.  Channels know
nothing of the database or of retries: see :mod:`portal.notifications.delivery`.

In development and tests the same classes talk to ``devstack.inbox`` (an SMTP
sink and an SMS gateway stand-in); production points the settings at the real
relay and gateway.  No fake channel exists in the portal's code.
"""
from __future__ import annotations

import abc
import secrets
import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from portal.config import Settings
from portal.notifications.gateways import DeliveryError, SmsGateway, sms_gateway  # noqa: F401 - re-exported
from portal.notifications.services import Rendered


class Channel(abc.ABC):
    name: str

    @abc.abstractmethod
    def send(self, address: str, message: Rendered, *, key: str | None = None) -> str | None:
        """Hand ``message`` over for ``address``; return the provider's reference if any.

        ``key`` is the notification's idempotency key, the same for every
        retry of one notification: the e-mail's Message-ID, the SMS
        gateway's ``Idempotency-Key``.
        """

    def close(self) -> None:
        """Release connections held between sends."""


class EmailChannel(Channel):
    """SMTP to ``settings.smtp_host:smtp_port``, with optional STARTTLS and login."""

    name = "email"

    def __init__(self, settings: Settings, *, timeout: float = 10.0):
        self.settings = settings
        self.timeout = timeout

    def build(self, address: str, message: Rendered, key: str | None = None) -> EmailMessage:
        """A multipart/alternative message: the plain-text part first, then HTML.

        The Message-ID is made from ``key``, so a retry of one notification
        carries the same Message-ID as the first try: mailboxes (and the
        development sink) keep one copy.
        """
        msg = EmailMessage()
        msg["From"] = self.settings.mail_from
        msg["To"] = address
        msg["Subject"] = message.subject  # non-ASCII is encoded per RFC 2047 by the default policy
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        domain = parseaddr(self.settings.mail_from)[1].rpartition("@")[2] or "esocial.gov.md"
        msg["Message-ID"] = f"<{key or _random_key()}@{domain}>"
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        msg.set_content(message.text, charset="utf-8")
        if message.html:
            msg.add_alternative(message.html, subtype="html", charset="utf-8")
        return msg

    def send(self, address: str, message: Rendered, *, key: str | None = None) -> str | None:
        msg = self.build(address, message, key)
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"recipient refused: {codes}", permanent=all(500 <= c < 600 for c in codes)) from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise DeliveryError(f"SMTP {s.smtp_host}:{s.smtp_port}: {exc.__class__.__name__}: {exc}") from exc
        if refused:
            raise DeliveryError(f"recipient refused: {refused}")
        return msg["Message-ID"]


class SmsChannel(Channel):
    """The text of a message through the configured SMS gateway (:mod:`portal.notifications.gateways`)."""

    name = "sms"

    def __init__(self, settings: Settings, *, gateway: SmsGateway | None = None):
        self.settings = settings
        self.gateway = gateway or sms_gateway(settings)

    def close(self) -> None:
        self.gateway.close()

    def send(self, address: str, message: Rendered, *, key: str | None = None) -> str | None:
        return self.gateway.send_text(address, message.sms, key=key or _random_key())


def _random_key() -> str:
    return "esocial-" + secrets.token_hex(12)


def channels_for(settings: Settings) -> dict[str, Channel]:
    """The delivery channels configured by ``settings``, by notification channel name."""
    return {"email": EmailChannel(settings), "sms": SmsChannel(settings)}

