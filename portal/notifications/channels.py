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
import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import requests

from portal.config import Settings
from portal.notifications.services import Rendered


class DeliveryError(Exception):
    """The message was not handed over. ``permanent``: retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel(abc.ABC):
    name: str

    @abc.abstractmethod
    def send(self, address: str, message: Rendered) -> str | None:
        """Hand ``message`` over for ``address``; return the provider's reference if any."""

    def close(self) -> None:
        """Release connections held between sends."""


class EmailChannel(Channel):
    """SMTP to ``settings.smtp_host:smtp_port``, with optional STARTTLS and login."""

    name = "email"

    def __init__(self, settings: Settings, *, timeout: float = 10.0):
        self.settings = settings
        self.timeout = timeout

    def build(self, address: str, message: Rendered) -> EmailMessage:
        """A multipart/alternative message: the plain-text part first, then HTML."""
        msg = EmailMessage()
        msg["From"] = self.settings.mail_from
        msg["To"] = address
        msg["Subject"] = message.subject  # non-ASCII is encoded per RFC 2047 by the default policy
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        domain = parseaddr(self.settings.mail_from)[1].rpartition("@")[2] or None
        msg["Message-ID"] = make_msgid(domain=domain)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        msg.set_content(message.text, charset="utf-8")
        if message.html:
            msg.add_alternative(message.html, subtype="html", charset="utf-8")
        return msg

    def send(self, address: str, message: Rendered) -> str | None:
        msg = self.build(address, message)
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
    """POST ``{"to": E.164, "text": ...}`` as JSON to the SMS gateway."""

    name = "sms"
    # (connect, read) seconds: a slow gateway must not hold the worker.
    timeout = (3.05, 10.0)

    def __init__(self, settings: Settings, *, http: requests.Session | None = None):
        self.settings = settings
        self._owns_http = http is None
        self.http = http or requests.Session()

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def send(self, address: str, message: Rendered) -> str | None:
        headers = {"Accept": "application/json"}
        if self.settings.sms_gateway_token:
            headers["Authorization"] = f"Bearer {self.settings.sms_gateway_token}"
        try:
            response = self.http.post(self.settings.sms_gateway_url, json={"to": address, "text": message.sms},
                                      headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"SMS gateway: {exc.__class__.__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            # 400/422: the gateway refuses this number or text; anything else may pass later.
            raise DeliveryError(f"SMS gateway answered {response.status_code}: {response.text[:200]}",
                                permanent=response.status_code in (400, 422))
        try:
            return str(response.json().get("id") or "") or None
        except ValueError:
            return None


def channels_for(settings: Settings) -> dict[str, Channel]:
    """The delivery channels configured by ``settings``, by notification channel name."""
    return {"email": EmailChannel(settings), "sms": SmsChannel(settings)}

