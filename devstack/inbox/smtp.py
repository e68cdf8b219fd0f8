"""The SMTP sink: an aiosmtpd server that keeps what it receives instead of delivering it."""
from __future__ import annotations

import email
import email.policy
import email.utils
import logging

from aiosmtpd.controller import Controller

from devstack.inbox.store import DEFAULT_LIMIT, MessageStore

log = logging.getLogger(__name__)

# ok; down: 451 (try later); refuse: 550 to every recipient (the address itself is refused).
MODES = ("ok", "down", "refuse")


def _content(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, KeyError):  # an unknown or wrong charset: show what we can
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def parse_email(data: bytes, *, envelope_from: str = "", envelope_to: list[str] | None = None) -> dict:
    """The parts of a message a developer looks at, decoded (RFC 2047 headers, any transfer encoding)."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    recipients = [addr for _, addr in email.utils.getaddresses(
        [str(v) for v in (msg.get_all("To") or []) + (msg.get_all("Cc") or [])]) if addr]
    for addr in envelope_to or []:
        if addr.lower() not in (r.lower() for r in recipients):
            recipients.append(addr)
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    date_header = msg.get("Date")
    date = getattr(date_header, "datetime", None)
    return {
        "from": str(msg.get("From") or envelope_from),
        "to": str(msg.get("To") or ", ".join(envelope_to or [])),
        "recipients": recipients,
        "subject": str(msg.get("Subject") or ""),
        "date": date.isoformat() if date else None,
        "message_id": str(msg.get("Message-ID") or ""),
        "text": _content(plain) if plain is not None else "",
        "html": _content(html) if html is not None else None,
        "headers": [(name, str(value)) for name, value in msg.items()],
        "size": len(data),
    }


class _Handler:
    def __init__(self, inbox: "Inbox"):
        self.inbox = inbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.inbox.smtp_mode == "down":
            return "451 4.3.0 The development mail sink is set to fail"
        if self.inbox.smtp_mode == "refuse":
            return "550 5.1.1 The development mail sink is set to refuse every recipient"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        try:
            fields = parse_email(data, envelope_from=envelope.mail_from or "", envelope_to=list(envelope.rcpt_tos))
        except Exception:  # noqa: BLE001 - keep a message we cannot parse rather than lose it
            log.exception("could not parse a message")
            fields = {"from": envelope.mail_from or "", "to": ", ".join(envelope.rcpt_tos),
                      "recipients": list(envelope.rcpt_tos), "subject": "(unparseable)", "date": None,
                      "message_id": "", "text": data.decode("utf-8", errors="replace"), "html": None,
                      "headers": [], "size": len(data)}
        # A mailbox keeps one message per Message-ID: a resend after a crash shows once.
        key = (f"email:{fields['message_id']}:{','.join(sorted(r.lower() for r in fields['recipients']))}"
               if fields.get("message_id") else None)
        stored = self.inbox.store.add("email", dedupe_key=key, **fields)
        log.info("mail %s to %s: %s%s", stored["id"], stored["to"], stored["subject"],
                 " (duplicate Message-ID, not kept again)" if stored.get("duplicate") else "")
        return "250 Message accepted for delivery"


class Inbox:
    """The SMTP sink and the store shared with the HTTP side (:func:`devstack.inbox.create_app`).

    ``Inbox(smtp_port=...)`` then :meth:`start`; or use it as a context manager.
    Tests should pass a free port: aiosmtpd's ``Controller`` cannot start on
    port 0 (it connects to itself to check it is up).
    """

    def __init__(self, smtp_host: str = "127.0.0.1", smtp_port: int = 1025, *, limit: int = DEFAULT_LIMIT):
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.store = MessageStore(limit)
        self.smtp_mode = "ok"
        self.sms_mode = "ok"
        self._controller: Controller | None = None

    # --- lifecycle
    def start(self) -> "Inbox":
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname=self.smtp_host, port=self.smtp_port,
                                          enable_SMTPUTF8=True, ready_timeout=5.0)
            self._controller.start()
            log.info("SMTP sink on %s:%s", self.smtp_host, self.smtp_port)
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> "Inbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- faults, for tests of the portal's retries
    def set_fault(self, *, sms: str | None = None, smtp: str | None = None) -> None:
        for mode in (sms, smtp):
            if mode is not None and mode not in MODES:
                raise ValueError(f"mode must be one of {MODES}")
        if sms is not None:
            self.sms_mode = sms
        if smtp is not None:
            self.smtp_mode = smtp

    # --- messages
    def add_sms(self, to: str, text: str, *, key: str | None = None, **extra) -> dict:
        """Keep one SMS; with ``key`` (the sender's idempotency key) a repeat is answered, not kept."""
        return self.store.add("sms", dedupe_key=f"sms:{to}:{key}" if key else None, to=to, recipients=[to],
                              text=text, **extra)

    def messages(self, kind: str | None = None, to: str | None = None) -> list[dict]:
        return self.store.list(kind, to)

    def message(self, message_id: int) -> dict | None:
        return self.store.get(message_id)

    def clear(self) -> None:
        self.store.clear()
