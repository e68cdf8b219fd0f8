"""The registry client eSocial's code uses: the HTTP client plus what a real exchange needs.

:class:`RegistryGateway` has the same small interface as every client
(:meth:`fetch`) and wraps a transport (:class:`~portal.registries.client.HttpRegistryClient`):

1. **cache** — a validated answer may be reused for ``cache_ttl(purpose)`` seconds by the
   *same* purpose: same purpose name, legal basis and actor.  Only the purposes in
   :data:`CACHEABLE` are cached (a citizen's own prefill, their data-subject access);
   officials, sweeps and event handling always ask the registry;
2. **circuit breaker** per registry (:class:`~portal.registries.resilience.CircuitBreaker`):
   while it is open the query fails at once as unavailable (``circuit_open``);
3. **retries** with exponential backoff on transient failures only;
4. **the data-access log**: one entry per query, whatever its outcome, with who asked, for
   whom, why, on what legal basis, the correlation id, the result and the attempts.

Malformed answers are rejected by the transport (:class:`RegistryDataError`) and logged here
with result ``malformed``; they are never cached and never returned.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping

from portal.registries import accesslog
from portal.registries.client import (
    Purpose,
    Record,
    RegistryClient,
    RegistryError,
    RegistryUnavailable,
)
from portal.registries.resilience import AnswerCache, Breakers, CircuitOpen, RetryPolicy

log = logging.getLogger("esocial.registries")

# Purposes whose answers may be reused for a short while by the same purpose (name, legal basis, actor).
CACHEABLE = ("application", "data_subject_access")


class RegistryGateway(RegistryClient):
    """Cache → breaker → retries → transport, and a data-access log entry for every query."""

    def __init__(self, transport: RegistryClient, *, retry: RetryPolicy | None = None,
                 breakers: Breakers | None = None, cache: AnswerCache | None = None, cache_seconds: float = 180,
                 sleep: Callable[[float], None] = time.sleep,
                 recorder: Callable[[accesslog.AccessEntry], None] | None = accesslog.record):
        self.transport = transport
        self.retry = retry or RetryPolicy()
        self.breakers = breakers or Breakers()
        self.cache = cache if cache is not None else AnswerCache()
        self.cache_seconds = cache_seconds
        self.sleep = sleep
        self.recorder = recorder
        # How long a query waits for a half-open breaker's trial query (about one query's timeout).
        timeout = getattr(transport, "timeout", (None, 5.0))
        self.trial_wait = float(timeout[1] if isinstance(timeout, tuple) else timeout or 5.0)

    @classmethod
    def from_settings(cls, transport: RegistryClient, settings) -> "RegistryGateway":
        return cls(transport, retry=RetryPolicy(attempts=max(1, settings.registry_retry_attempts)),
                   breakers=Breakers(settings.registry_breaker_failures, settings.registry_breaker_cooldown_seconds),
                   cache_seconds=settings.registry_cache_seconds)

    def supports(self, registry: str, service: str) -> bool:
        return self.transport.supports(registry, service)

    def close(self) -> None:
        self.transport.close()

    def cache_ttl(self, purpose: Purpose) -> float:
        return self.cache_seconds if purpose.purpose in CACHEABLE and purpose.actor_role == "citizen" else 0

    @staticmethod
    def cache_key(registry: str, service: str, idnp: str, purpose: Purpose, params: Mapping | None) -> tuple:
        frozen = tuple(sorted((k, str(v)) for k, v in (params or {}).items()))
        return (registry, service, idnp, frozen, purpose.purpose, purpose.legal_basis, purpose.actor_idnp,
                purpose.actor_role, purpose.on_behalf_of)

    def fetch(self, registry: str, service: str, idnp: str, purpose: Purpose, *,
              correlation_id: str | None = None, params: Mapping[str, Any] | None = None) -> Record:
        started = time.perf_counter()
        cid = correlation_id or purpose.correlation_id
        ttl = self.cache_ttl(purpose)
        key = self.cache_key(registry, service, idnp, purpose, params) if ttl > 0 else None
        if key is not None:
            cached = self.cache.get(key)
            if cached is not None:
                self._log(registry, service, idnp, purpose, cid, "cached", 0, started)
                return cached
        attempts = 0
        try:
            record, attempts = self._with_retries(registry, service, idnp, purpose, cid, params)
        except RegistryError as exc:
            self._log(registry, service, idnp, purpose, exc.correlation_id or cid, exc.code,
                      getattr(exc, "attempts", attempts), started)
            raise
        except Exception:
            self._log(registry, service, idnp, purpose, cid, "internal", attempts, started)
            raise
        if key is not None:
            self.cache.put(key, record, ttl)
        self._log(registry, service, idnp, purpose, record.correlation_id, "ok", attempts, started)
        return record

    def _with_retries(self, registry, service, idnp, purpose, cid, params) -> tuple[Record, int]:
        breaker = self.breakers[registry]
        attempt = 0
        while True:
            try:
                breaker.before(wait=self.trial_wait)
            except CircuitOpen as exc:
                error = RegistryUnavailable(str(exc), registry=registry, service=service, correlation_id=cid,
                                            code="circuit_open")
                error.attempts = attempt
                raise error from exc
            attempt += 1
            try:
                record = self.transport.fetch(registry, service, idnp, purpose, correlation_id=cid, params=params)
            except RegistryUnavailable as exc:
                breaker.failure()
                wait = self.retry.wait_for(attempt, exc.retry_after, timed_out=exc.code == "timeout")
                if wait is None:
                    exc.attempts = attempt
                    raise
                log.info("registry %s/%s unavailable (%s), retry %d in %.2f s", registry, service, exc.code,
                         attempt, wait)
                self.sleep(wait)
                continue
            except RegistryError as exc:
                breaker.neutral()  # it answered: not found, refused or malformed is no reason to stop asking
                exc.attempts = attempt
                raise
            except BaseException:
                breaker.release()
                raise
            breaker.success()
            return record, attempt

    def _log(self, registry, service, idnp, purpose: Purpose, cid, result, attempts, started) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder(accesslog.AccessEntry(
                kind="query", actor_idnp=purpose.actor_idnp, actor_role=purpose.actor_role,
                on_behalf_of_idnp=purpose.on_behalf_of, institution=purpose.institution or accesslog.ESOCIAL,
                registry_code=registry, service=service, items=service, subject_idnp=idnp, purpose=purpose.purpose,
                legal_basis=purpose.legal_basis[:500], application_ref=purpose.application_ref,
                correlation_id=cid, result=result, attempts=attempts,
                duration_ms=round((time.perf_counter() - started) * 1000)))
        except Exception:  # noqa: BLE001 - logging must never break the query; accesslog logs what it lost
            log.exception("could not record the access to %s/%s", registry, service)
