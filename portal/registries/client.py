"""eSocial's client for the state registries, reached through MConnect (X-Road style).

Every query is about one person and says who asks, why and on what legal basis
(:class:`Purpose`); MConnect requires a purpose and a legal basis for every
request and logs them in MLog.  Addresses follow the X-Road REST shape::

    GET {base_url}/r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICE}/{idnp}
    X-Road-Client: MD/GOV/MMPS/ESOCIAL        (Settings.registry_client_id)
    X-Road-Id: <correlation id of this query>
    X-Road-UserId: <IDNP of the citizen or official on whose behalf>
    X-Road-Purpose: purpose=…; legal-basis=…; ref=…   (values percent-encoded)

with member/subsystem from ``config/reference/registries.toml``.  Answers are
validated and mapped by :mod:`portal.registries.schemas`; nothing unvalidated
leaves this module.  Failures are one of three exceptions:

* :class:`RegistryUnavailable`: timeout (code ``timeout``), connection error, HTTP 5xx or 429 (ask again later);
* :class:`RegistryNotFound`: HTTP 404, the registry does not know the person;
* :class:`RegistryDataError`: the answer is not what was agreed (bad JSON, wrong shape, another person).

This module is one HTTP attempt and nothing more: no retries, no cache, no
log of its own.  :mod:`portal.registries.gateway` wraps it with what a real
exchange needs (retries with backoff, a circuit breaker per registry, a
short-lived cache per purpose, and the data-access log).
"""
from __future__ import annotations

import abc
import datetime as dt
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from portal.core import clock
from portal.core.idnp import is_well_formed, mask
from portal.registries import schemas
from portal.routing.reference import Registry, territory

log = logging.getLogger("esocial.registries")

MAX_ANSWER_BYTES = 2 * 1024 * 1024
_CORRELATION = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")


# --- errors ----------------------------------------------------------------------------------


class RegistryError(Exception):
    """A registry query failed. ``code`` is a short machine code kept with the evidence."""

    code = "error"

    def __init__(self, message: str, *, registry: str | None = None, service: str | None = None,
                 correlation_id: str | None = None, status: int | None = None, code: str | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.registry = registry
        self.service = service
        self.correlation_id = correlation_id
        self.status = status
        self.retry_after = retry_after  # seconds the registry asked us to wait (HTTP Retry-After), if it said
        if code:
            self.code = code


class RegistryUnavailable(RegistryError):
    """Timeout, connection failure, HTTP 5xx/429: the registry may answer later."""

    code = "unavailable"


class RegistryNotFound(RegistryError):
    """HTTP 404: the registry holds no record of the person."""

    code = "not_found"


class RegistryDataError(RegistryError):
    """The answer broke the agreed schema (or is about someone else): never use it."""

    code = "malformed"


# --- the query --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purpose:
    """Why a query is made, for whom, and on what legal basis: sent with every query and logged.

    ``actor_idnp`` is the person on whose behalf the query is made (the citizen, or the
    official handling the case); ``correlation_id`` (optional) ties the queries of one
    operation together: the prefill derives its per-item ids from it.

    For the data-access log: ``actor_role`` says who asked (``citizen``, ``official`` or
    ``system`` for eSocial's own sweeps), ``on_behalf_of`` the person for whom they acted
    (the applicant, when a specialist or a sweep asks for them) and ``institution`` the
    institution that asked (an agency code; ``None`` is eSocial itself).
    """

    purpose: str
    legal_basis: str
    actor_idnp: str
    application_ref: str | None = None
    correlation_id: str | None = None
    actor_role: str = "citizen"
    on_behalf_of: str | None = None
    institution: str | None = None

    def __post_init__(self):
        if not (self.purpose or "").strip():
            raise ValueError("a registry query needs a purpose")
        if not (self.legal_basis or "").strip():
            raise ValueError("a registry query needs a legal basis")
        if not is_well_formed(self.actor_idnp or ""):
            raise ValueError("a registry query needs the IDNP of the person on whose behalf it is made")
        if self.correlation_id is not None and not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", self.correlation_id):
            raise ValueError("correlation_id: up to 40 letters, digits, '.', '_' or '-'")
        if self.actor_role not in ACTOR_ROLES:
            raise ValueError(f"actor_role is one of {', '.join(ACTOR_ROLES)}")
        if self.on_behalf_of is not None and not is_well_formed(self.on_behalf_of):
            raise ValueError("on_behalf_of: the IDNP of the person the actor acts for")

    def header(self) -> str:
        """The ``X-Road-Purpose`` value: ``key=value`` pairs, values percent-encoded (headers are ASCII)."""
        parts = [f"purpose={quote(self.purpose.strip(), safe='')}",
                 f"legal-basis={quote(self.legal_basis.strip(), safe='')}"]
        if self.application_ref:
            parts.append(f"ref={quote(self.application_ref, safe='')}")
        return "; ".join(parts)


Query = Purpose  # the name used in the design notes
ACTOR_ROLES = ("citizen", "official", "system")


@dataclass(frozen=True)
class Record:
    """A validated answer about one person, in eSocial's field names (see :mod:`portal.registries.schemas`)."""

    registry: str
    service: str
    idnp: str
    data: dict
    correlation_id: str
    retrieved_at: dt.datetime  # the registry's time stamp
    received_at: dt.datetime = field(default_factory=clock.now)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


# --- the interface ------------------------------------------------------------------------------


class RegistryClient(abc.ABC):
    """Ask a registry about one person. Implementations return only validated :class:`Record` data."""

    @abc.abstractmethod
    def fetch(self, registry: str, service: str, idnp: str, purpose: Purpose, *,
              correlation_id: str | None = None, params: Mapping[str, Any] | None = None) -> Record:
        """Ask ``registry``'s ``service`` about ``idnp``.

        Raises :class:`RegistryUnavailable`, :class:`RegistryNotFound`, :class:`RegistryDataError`,
        or :class:`RegistryError` (code ``unsupported``/``rejected``) for a service the client does not
        know or a query the registry refused.
        """

    def supports(self, registry: str, service: str) -> bool:
        return (registry, service) in schemas.SERVICES

    def close(self) -> None:
        """Release connections (no-op by default)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class HttpRegistryClient(RegistryClient):
    """The registries over HTTP(S), through the MConnect security server (or the simulator in development).

    One :class:`requests.Session` per client: keep one client per process so connections are pooled.
    ``timeout`` is the read timeout in seconds; the connect timeout is ``connect_timeout`` or the smaller
    of 3 s and ``timeout``.  ``cert`` (client certificate and key) and ``verify`` (CA bundle) are passed
    to requests for the mutual TLS MConnect uses.
    """

    def __init__(self, base_url: str, client_id: str, timeout: float = 5.0, *, connect_timeout: float | None = None,
                 registries: Mapping[str, Registry] | None = None, pool_size: int = 48,
                 cert: str | tuple[str, str] | None = None, verify: bool | str = True,
                 session: requests.Session | None = None):
        parts = client_id.split("/")
        if len(parts) != 4 or not all(parts):
            raise ValueError("client_id is INSTANCE/CLASS/MEMBER/SUBSYSTEM, e.g. MD/GOV/MMPS/ESOCIAL")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.instance, self.member_class = parts[0], parts[1]
        self.timeout = (connect_timeout if connect_timeout is not None else min(3.0, timeout), timeout)
        self.registries = dict(registries if registries is not None else territory().registries)
        self.session = session or requests.Session()
        self.session.trust_env = False  # no proxies or .netrc from the environment on the government network
        adapter = HTTPAdapter(pool_connections=max(1, len(self.registries)), pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json", "X-Road-Client": client_id,
                                     "User-Agent": "eSocial-registry-client/1"})
        if cert:
            self.session.cert = cert
        self.session.verify = verify

    def supports(self, registry: str, service: str) -> bool:
        return registry in self.registries and (registry, service) in schemas.SERVICES

    def url(self, registry: str, service: str, idnp: str) -> str:
        reg = self.registries[registry]
        path = "/".join(quote(p, safe="") for p in
                        ("r1", self.instance, self.member_class, reg.member, reg.subsystem, service, idnp))
        return f"{self.base_url}/{path}"

    def fetch(self, registry: str, service: str, idnp: str, purpose: Purpose, *,
              correlation_id: str | None = None, params: Mapping[str, Any] | None = None) -> Record:
        cid = correlation_id or purpose.correlation_id or new_correlation_id()
        if not _CORRELATION.match(cid):
            raise ValueError("correlation id: up to 64 letters, digits and . _ : / -")
        where = {"registry": registry, "service": service, "correlation_id": cid}
        if not self.supports(registry, service):
            raise RegistryError(f"{registry} offers no service {service!r} to eSocial", code="unsupported", **where)
        if not is_well_formed(idnp):
            raise ValueError("not a valid IDNP")
        spec = schemas.SERVICES[registry, service]
        params = dict(params or {})
        headers = {"X-Road-Id": cid, "X-Road-UserId": purpose.actor_idnp, "X-Road-Purpose": purpose.header()}
        started = time.perf_counter()
        status = None
        try:
            with self.session.get(self.url(registry, service, idnp), params=spec.query(params), headers=headers,
                                  timeout=self.timeout, stream=True, allow_redirects=False) as response:
                status = response.status_code
                body = self._read(response, where)
            return self._answer(spec, response, body, idnp, params, where)
        except requests.Timeout as exc:
            raise RegistryUnavailable(f"{registry} did not answer in time", code="timeout", **where) from exc
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"{registry} could not be reached: {type(exc).__name__}", **where) from exc
        finally:
            log.info("registry query %s/%s subject=%s id=%s status=%s %.0f ms", registry, service, mask(idnp), cid,
                     status, (time.perf_counter() - started) * 1000)

    @staticmethod
    def _read(response: requests.Response, where: dict) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise RegistryDataError("the answer is too large", status=response.status_code, **where)
            chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, spec: schemas.Service, response: requests.Response, body: bytes, idnp: str,
                params: dict, where: dict) -> Record:
        status = response.status_code
        if status == 404:
            raise RegistryNotFound(f"{spec.registry} holds no record of this person", status=status, **where)
        if status >= 500 or status == 429:
            raise RegistryUnavailable(f"{spec.registry} answered HTTP {status}", status=status,
                                      retry_after=_retry_after(response.headers.get("Retry-After")), **where)
        if status != 200:
            raise RegistryError(f"{spec.registry} refused the query (HTTP {status})", status=status,
                                code="rejected", **where)
        echoed = response.headers.get("X-Road-Id")
        if echoed is not None and echoed != where["correlation_id"]:
            raise RegistryDataError("the answer belongs to another query", status=status, **where)
        content_type = response.headers.get("Content-Type", "")
        if "json" not in content_type:
            raise RegistryDataError(f"expected JSON, got {content_type or 'no content type'}", status=status, **where)
        try:
            raw = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            raise RegistryDataError("the answer is not valid JSON", status=status, **where) from exc
        try:
            if not isinstance(raw, dict):
                raise schemas.SchemaError("answer: expected an object")
            stamp = schemas.retrieved_at(raw)
            data = spec.parse(raw, idnp, params)
        except schemas.SchemaError as exc:
            log.warning("registry answer rejected %s/%s id=%s: %s", spec.registry, spec.name,
                        where["correlation_id"], exc)
            raise RegistryDataError(f"the answer does not match the schema: {exc}", status=status, **where) from exc
        return Record(spec.registry, spec.name, idnp, data, where["correlation_id"], stamp)

    def close(self) -> None:
        self.session.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds from an HTTP ``Retry-After`` header (delta-seconds only; an HTTP date is ignored)."""
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def tls_options(settings) -> dict:
    """``cert`` and ``verify`` for requests from the mutual-TLS settings (paths resolved from the project root)."""
    options: dict = {}
    if settings.registry_client_cert:
        options["cert"] = (str(settings.resolve(settings.registry_client_cert)),
                           str(settings.resolve(settings.registry_client_key)))
    if settings.registry_ca_file:
        options["verify"] = str(settings.resolve(settings.registry_ca_file))
    return options


def from_settings(settings) -> HttpRegistryClient:
    """The client configured by :class:`portal.config.Settings`: registry_base_url, _client_id, _timeout_seconds,
    and for mutual TLS to the MConnect security server registry_client_cert, _client_key and _ca_file."""
    return HttpRegistryClient(settings.registry_base_url, settings.registry_client_id,
                              settings.registry_timeout_seconds, **tls_options(settings))
