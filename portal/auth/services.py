"""MPass login and logout around the SAML messages.

:mod:`portal.auth.saml` says whether a message is authentic; this module
decides what it means for eSocial: which of our requests it answers (kept
server-side in :class:`SamlRequest`, never in a cookie, because the IdP's POST
is cross-site), that it is used once only (:class:`SeenAssertion`, whose unique
key holds across processes), who the person is (a person IDNP, nothing else),
and which server-side login sessions start or end.

Functions here take the service provider and the time as arguments and work on
``db.session``; only :func:`sign_in` and :func:`begin_logout` touch the browser
session (through Flask-Login).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from portal.accounts import sessions
from portal.accounts.models import Account, LoginSession
from portal.audit import services as audit
from portal.auth.models import SamlRequest, SeenAssertion
from portal.auth.saml import OutgoingMessage, SamlRefused, ServiceProvider, VerifiedAssertion
from portal.core.db import db, session_scope
from portal.core.idnp import is_person_idnp

AUTHN = "authn"
LOGOUT = "logout"
# A CUPS visitor logging in on the centre's computer to identify themselves (portal.assisted): the answer
# identifies the visitor for the specialist's open visit and opens no login session.
VISITOR = "visitor"

# Seen message ids are kept well beyond the 10 minutes in which a message can be accepted at all.
SEEN_RETENTION = dt.timedelta(hours=1)

# What the person is told, by refusal reason. Anything not listed gets the generic message.
MESSAGES = {
    "no_response": _l("eSocial did not receive an answer from MPass. Start again with the “Log in with MPass” "
                      "button."),
    "unknown_request": _l("This answer from MPass does not match a login started on eSocial. For your safety you "
                          "have not been logged in. Start again with the “Log in with MPass” button."),
    "request_used": _l("This login has already been completed once and cannot be used again. If you are not "
                       "logged in, start again with the “Log in with MPass” button."),
    "replayed": _l("This login has already been completed once and cannot be used again. If you are not "
                   "logged in, start again with the “Log in with MPass” button."),
    "request_expired": _l("The login took too long and has expired. Start again with the “Log in with MPass” "
                          "button."),
    "expired": _l("The answer from MPass has expired. Check that your device shows the right date and time, "
                  "then start again with the “Log in with MPass” button."),
    "not_yet_valid": _l("The answer from MPass is not valid yet. Check that your device shows the right date and "
                        "time, then start again with the “Log in with MPass” button."),
    "issued_in_future": _l("The answer from MPass has expired. Check that your device shows the right date and "
                           "time, then start again with the “Log in with MPass” button."),
    "not_a_person_idnp": _l("MPass did not give eSocial a personal identification number (IDNP), which eSocial "
                            "needs to find your records. Log in to MPass as a person, with your own IDNP."),
}
GENERIC = _l("eSocial could not verify the answer from MPass. For your safety you have not been logged in. "
             "Start again with the “Log in with MPass” button.")

LOGOUT_MESSAGES = {
    "request_used": _l("This logout has already been completed."),
}
LOGOUT_GENERIC = _l("eSocial could not verify the logout message from MPass, so it was not accepted.")


class Refused(Exception):
    """A SAML message was not accepted; ``reason`` goes to the audit trail, :attr:`message` to the person."""

    messages: dict = MESSAGES
    generic = GENERIC

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    @property
    def message(self):
        return self.messages.get(self.reason, self.generic)


class LoginRefused(Refused):
    pass


class LogoutRefused(Refused):
    messages = LOGOUT_MESSAGES
    generic = LOGOUT_GENERIC


# ---------------------------------------------------------------- helpers


def safe_return_to(value: str | None) -> str | None:
    """A local path to come back to after login, or None. Never another site (no open redirect)."""
    if not value or len(value) > 500:
        return None
    if not value.startswith("/") or value.startswith("//") or value.startswith("/\\"):
        return None
    if any(ch in value for ch in ("\\", "\r", "\n", "\t")) or any(ord(ch) < 32 for ch in value):
        return None
    return value


def _seen_key(message_id: str) -> str:
    """SAML ids are at most a few dozen characters; an absurdly long one is stored by its hash."""
    if len(message_id) <= 120:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()


def remember_once(message_ids: list[str], *, now: dt.datetime, refused: type[Refused]) -> None:
    """Record message ids as used; refuse if any was used before, in this process or any other."""
    keys = [_seen_key(i) for i in message_ids if i]
    if len(set(keys)) != len(keys):
        raise refused("replayed", "duplicate ids")
    for key in keys:
        if db.session.get(SeenAssertion, key) is not None:
            raise refused("replayed", key)
    try:
        with db.session.begin_nested():
            for key in keys:
                db.session.add(SeenAssertion(id=key, seen_at=now))
    except IntegrityError as exc:  # another process accepted the same message a moment ago
        raise refused("replayed", "concurrent") from exc


def _pending(request_id: str | None, kind: str, *, now: dt.datetime, timeout: dt.timedelta,
             refused: type[Refused]) -> SamlRequest:
    if not request_id:
        raise refused("no_in_response_to")
    pending = db.session.get(SamlRequest, request_id) if len(request_id) <= 128 else None
    if pending is None or pending.kind not in ((kind, VISITOR) if kind == AUTHN else (kind,)):
        raise refused("unknown_request", request_id[:64])
    if pending.used_at is not None:
        raise refused("request_used", request_id[:64])
    if now - pending.created_at > timeout:
        raise refused("request_expired", request_id[:64])
    return pending


def _consume(request_id: str, *, now: dt.datetime, refused: type[Refused]) -> None:
    """Mark our request answered, exactly once even when two processes race for it."""
    result = db.session.execute(
        update(SamlRequest).where(SamlRequest.id == request_id, SamlRequest.used_at.is_(None)).values(used_at=now)
    )
    if result.rowcount != 1:
        raise refused("request_used", request_id[:64])


def purge_expired(*, now: dt.datetime, timeout: dt.timedelta) -> None:
    """Forget requests that can no longer be answered and message ids that can no longer be replayed."""
    db.session.execute(delete(SamlRequest).where(SamlRequest.created_at < now - 2 * timeout))
    db.session.execute(delete(SeenAssertion).where(SeenAssertion.seen_at < now - max(SEEN_RETENTION, 2 * timeout)))


def record_refusal(action: str, refusal: Refused) -> None:
    """Audit a refusal in its own transaction: the request's own transaction is rolled back (HTTP 400)."""
    db.session.rollback()
    with session_scope() as s:
        audit.record(s, action, object_type="saml", reason=refusal.reason, detail=refusal.detail[:300])


# ---------------------------------------------------------------- login


def begin_login(sp: ServiceProvider, *, next_url: str | None, default_return: str, lang: str | None,
                now: dt.datetime, timeout: dt.timedelta) -> OutgoingMessage:
    """A signed AuthnRequest for the browser to carry to MPass; its id is kept to match the answer."""
    purge_expired(now=now, timeout=timeout)
    message = sp.authn_request(lang=lang)
    db.session.add(SamlRequest(id=message.id, kind=AUTHN, return_to=safe_return_to(next_url) or default_return,
                               created_at=now))
    return message


def begin_visitor_identification(sp: ServiceProvider, *, return_to: str, lang: str | None, now: dt.datetime,
                                 timeout: dt.timedelta) -> OutgoingMessage:
    """A signed AuthnRequest (ForceAuthn) for a CUPS visitor; its answer identifies them, logs nobody in."""
    purge_expired(now=now, timeout=timeout)
    message = sp.authn_request(lang=lang, force_authn=True)
    db.session.add(SamlRequest(id=message.id, kind=VISITOR, return_to=safe_return_to(return_to), created_at=now))
    return message


@dataclass(frozen=True)
class VerifiedLogin:
    assertion: VerifiedAssertion
    return_to: str | None
    kind: str = AUTHN
    request_id: str | None = None


def verify_login(sp: ServiceProvider, saml_response: str | None, *, now: dt.datetime,
                 timeout: dt.timedelta) -> VerifiedLogin:
    """Check a Response posted to the ACS; on success our request is consumed and the ids remembered.

    Raises :class:`LoginRefused`.  Nothing here depends on the browser's cookies.
    """
    if not saml_response:
        raise LoginRefused("no_response")
    try:
        sp.check_structure(saml_response)  # DTDs, wrapping, comments: refused before anything reads the message
    except SamlRefused as exc:
        raise LoginRefused(exc.reason, exc.detail) from exc
    request_id = sp.peek_in_response_to(saml_response)
    pending = _pending(request_id, AUTHN, now=now, timeout=timeout, refused=LoginRefused)
    try:
        assertion = sp.verify_response(saml_response, request_id=pending.id, now=now)
    except SamlRefused as exc:
        raise LoginRefused(exc.reason, exc.detail) from exc
    if not is_person_idnp(assertion.name_id):
        raise LoginRefused("not_a_person_idnp")
    _consume(pending.id, now=now, refused=LoginRefused)
    remember_once([assertion.response_id, assertion.assertion_id], now=now, refused=LoginRefused)
    return VerifiedLogin(assertion=assertion, return_to=pending.return_to, kind=pending.kind, request_id=pending.id)


def account_attributes(assertion: VerifiedAssertion, languages: tuple[str, ...]) -> dict:
    """Account fields from the MPass attributes; malformed optional values are dropped, not trusted."""
    def text(name: str, limit: int) -> str | None:
        value = (assertion.attribute(name) or "").strip()
        return value[:limit] if value else None

    birth_date = None
    raw = text("BirthDate", 10)
    if raw:
        try:
            birth_date = dt.date.fromisoformat(raw)
        except ValueError:
            birth_date = None
    email = text("EmailAddress", 254)
    if email and ("@" not in email or any(c.isspace() for c in email)):
        email = None
    phone = text("MobilePhone", 20)
    language = (text("Language", 2) or "").lower()
    return {
        "first_name": text("FirstName", 100),
        "last_name": text("LastName", 100),
        "birth_date": birth_date,
        "email": email,
        "phone": phone,
        "language": language if language in languages else None,
    }


def sign_in(login: VerifiedLogin, *, languages: tuple[str, ...]) -> tuple[Account, LoginSession]:
    """Create or refresh the account and open its server-side login session (needs a request context)."""
    assertion = login.assertion
    account = sessions.upsert_account(assertion.name_id, **account_attributes(assertion, languages))
    db.session.flush()
    session = sessions.start(account, assertion.name_id, assertion.session_index)
    return account, session


# ---------------------------------------------------------------- logout


def begin_logout(sp: ServiceProvider | None, account: Account, *, now: dt.datetime) -> OutgoingMessage | None:
    """End the local session now; return the signed LogoutRequest for MPass, if the session came from MPass."""
    login = db.session.get(LoginSession, account.login_session_id) if account.login_session_id else None
    sessions.end_current(account)
    if sp is None or login is None or not login.saml_session_index:
        return None
    message = sp.logout_request(name_id=login.name_id, session_index=login.saml_session_index)
    db.session.add(SamlRequest(id=message.id, kind=LOGOUT, created_at=now))
    return message


def finish_logout(sp: ServiceProvider, *, post: dict | None, get: dict | None, query_string: str,
                  now: dt.datetime, timeout: dt.timedelta) -> None:
    """Accept MPass's LogoutResponse to our LogoutRequest. Raises :class:`LogoutRefused`."""
    request_id = sp.peek_logout_in_response_to(post=post, get=get)
    pending = _pending(request_id, LOGOUT, now=now, timeout=timeout, refused=LogoutRefused)
    try:
        response = sp.verify_logout_response(request_id=pending.id, post=post, get=get, query_string=query_string,
                                             now=now)
    except SamlRefused as exc:
        raise LogoutRefused(exc.reason, exc.detail) from exc
    _consume(pending.id, now=now, refused=LogoutRefused)
    remember_once([response.id], now=now, refused=LogoutRefused)


def logout_from_idp(sp: ServiceProvider, *, post: dict | None, get: dict | None, query_string: str,
                    now: dt.datetime) -> OutgoingMessage:
    """An IdP-initiated LogoutRequest: end the sessions it names; return our signed LogoutResponse."""
    try:
        request = sp.verify_logout_request(post=post, get=get, query_string=query_string, now=now)
    except SamlRefused as exc:
        raise LogoutRefused(exc.reason, exc.detail) from exc
    remember_once([request.id], now=now, refused=LogoutRefused)
    ended = sessions.end_by_saml(request.name_id, request.session_indexes)
    subject = request.name_id if is_person_idnp(request.name_id) else None
    audit.record(db.session, "logout_by_idp", subject_idnp=subject, object_type="login_session", sessions=ended)
    return sp.logout_response(in_response_to=request.id)
