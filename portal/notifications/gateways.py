"""SMS gateways: one small interface, chosen by the ``sms_gateway`` setting.

A gateway hands one text to one E.164 number and returns the provider's
reference for it, or raises :class:`DeliveryError`.
Every call carries an idempotency ``key`` that stays the same across retries of
one notification: a gateway that honours it (the HTTP one sends it as the
``Idempotency-Key`` header and as ``reference``) accepts a repeated key without
sending a second SMS, which is what makes a retry after a crash safe.

``sms_gateway = "http"`` is :class:`HttpSmsGateway` (JSON over HTTP; the
development stand-in in ``devstack.inbox`` speaks it).  Any other value is
``"package.module:ClassName"``: a class taking the settings, implementing
:class:`SmsGateway`; that is how a real operator's API is plugged in without
touching the delivery code.
"""
from __future__ import annotations

import abc
import importlib

import requests

from portal.config import Settings, SettingsError


class DeliveryError(Exception):
    """The message was not handed over. ``permanent``: retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class SmsGateway(abc.ABC):
    """Sends texts. Implementations raise ``DeliveryError`` (``permanent`` when retrying cannot help)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @abc.abstractmethod
    def send_text(self, to: str, text: str, *, key: str) -> str | None:
        """Send ``text`` to ``to`` (E.164) once per ``key``; return the provider's message id if any."""

    def close(self) -> None:
        """Release connections held between sends."""


class HttpSmsGateway(SmsGateway):
    """POST ``{"to", "text", "reference"}`` as JSON to ``sms_gateway_url`` with a bearer token if set.

    2xx: accepted (``{"id": ...}`` is the reference).  400/422: the gateway
    refuses this number or text, which no retry fixes.  Anything else, or no
    answer, may pass later.
    """

    # (connect, read) seconds: a slow gateway must not hold the worker.
    timeout = (3.05, 10.0)

    def __init__(self, settings: Settings, *, http: requests.Session | None = None):
        super().__init__(settings)
        self._owns_http = http is None
        self.http = http or requests.Session()

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def send_text(self, to: str, text: str, *, key: str) -> str | None:
        headers = {"Accept": "application/json", "Idempotency-Key": key}
        if self.settings.sms_gateway_token:
            headers["Authorization"] = f"Bearer {self.settings.sms_gateway_token}"
        try:
            response = self.http.post(self.settings.sms_gateway_url,
                                      json={"to": to, "text": text, "reference": key},
                                      headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"SMS gateway: {exc.__class__.__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"SMS gateway answered {response.status_code}: {response.text[:200]}",
                                permanent=response.status_code in (400, 422))
        try:
            return str(response.json().get("id") or "") or None
        except ValueError:
            return None


GATEWAYS: dict[str, type[SmsGateway]] = {"http": HttpSmsGateway}


def gateway_class(name: str) -> type[SmsGateway]:
    """The class named by the ``sms_gateway`` setting: a short name above, or ``module:Class``."""
    if name in GATEWAYS:
        return GATEWAYS[name]
    module_name, _, class_name = name.partition(":")
    if not module_name or not class_name:
        raise SettingsError(f"sms_gateway must be one of {', '.join(GATEWAYS)} or 'module:Class', not {name!r}")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise SettingsError(f"sms_gateway {name!r} cannot be loaded: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, SmsGateway)):
        raise SettingsError(f"sms_gateway {name!r} is not an SmsGateway")
    return cls


def sms_gateway(settings: Settings) -> SmsGateway:
    return gateway_class(getattr(settings, "sms_gateway", "http") or "http")(settings)
