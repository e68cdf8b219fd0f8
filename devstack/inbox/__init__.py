"""The development mail and SMS sinks: what eSocial sends, caught and shown instead of delivered.

* :class:`Inbox` — an SMTP server (aiosmtpd) that keeps every message it is
  given, and the in-memory store behind both sinks;
* :func:`create_app` — the HTTP side: the SMS gateway stand-in
  (``POST /sms/send``), a page listing everything caught (``GET /``) and a JSON
  API for tests (``GET /api/messages``).

Run both with ``python -m devstack.inbox`` (SMTP on 1025, HTTP on 5003: the
development settings point the portal there).  Never imported by the portal.
"""
from devstack.inbox.smtp import Inbox, parse_email  # noqa: F401
from devstack.inbox.store import MessageStore  # noqa: F401
from devstack.inbox.web import create_app, serve_in_thread  # noqa: F401

__all__ = ["Inbox", "MessageStore", "create_app", "parse_email", "serve_in_thread"]
