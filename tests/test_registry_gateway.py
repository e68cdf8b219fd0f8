"""The registry gateway against the simulator over real HTTP: retries, circuit breaker, cache per purpose,
and one access-log entry per query, whatever fault the simulator injects."""
from __future__ import annotations

import threading

import pytest

from portal.registries import schemas
from portal.registries.client import (
    HttpRegistryClient,
    Purpose,
    RegistryDataError,
    RegistryNotFound,
    RegistryUnavailable,
)
from portal.registries.gateway import RegistryGateway
from portal.registries.prefill import prefill
from portal.registries.resilience import CLOSED, HALF_OPEN, OPEN, AnswerCache, Breakers, CircuitBreaker, RetryPolicy

pytest_plugins = ["registry_fixtures"]

ION, NATALIA = "2005001000017", "2005001000028"
OWN = Purpose("application", "Legea nr. 133/2008", ION, application_ref="A-1")
ALL_ITEMS = {"identity": "rsp", "address": "rsp", "household": "rsp", "income": "sfs", "insurance": "cnas",
             "disability": "cnddcm", "unemployment": "anofm", "property": "cadastre", "births": "civil"}


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def entries():
    return []


@pytest.fixture
def transport(registry):
    client = HttpRegistryClient(registry.base_url, "MD/GOV/MMPS/ESOCIAL", timeout=0.5)
    yield client
    client.close()


@pytest.fixture
def time_(registry):
    return FakeTime()


@pytest.fixture
def gateway(transport, entries, time_):
    """A gateway that records its log entries in a list and sleeps not at all (the delays are recorded)."""
    slept = []
    gw = RegistryGateway(transport, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
                         breakers=Breakers(failures=3, cooldown=30, monotonic=time_),
                         cache=AnswerCache(monotonic=time_), cache_seconds=120,
                         sleep=slept.append, recorder=entries.append)
    gw.slept = slept
    return gw


def attempts(registry, service: str, settle: float = 0.0) -> int:
    """Queries the simulator logged for ``service`` (it logs a slow query when it answers: ``settle`` waits)."""
    import time

    deadline = time.monotonic() + settle
    while True:
        count = len([e for e in registry.queries() if e["service"] == service])
        if count or time.monotonic() >= deadline:
            return count
        time.sleep(0.05)


# --- retries -------------------------------------------------------------------------------------------------

def test_an_error_is_retried_with_growing_delays_then_given_up(registry, gateway, entries):
    registry.fault("cnas", "error")
    with pytest.raises(RegistryUnavailable):
        gateway.fetch("cnas", "insurance", ION, OWN, correlation_id="retry-1")
    assert attempts(registry, "insurance") == 3
    assert len(gateway.slept) == 2 and gateway.slept[1] > gateway.slept[0] * 1.2
    (entry,) = entries
    assert (entry.result, entry.attempts, entry.registry_code, entry.subject_idnp) == ("unavailable", 3, "cnas", ION)


def test_a_registry_that_asks_to_wait_longer_is_not_asked_again_now(registry, gateway, entries):
    registry.fault("cnas", "down")  # 503 with Retry-After: 30
    with pytest.raises(RegistryUnavailable) as info:
        gateway.fetch("cnas", "insurance", ION, OWN)
    assert info.value.retry_after == 30
    assert attempts(registry, "insurance") == 1 and gateway.slept == []
    assert (entries[0].result, entries[0].attempts) == ("unavailable", 1)


def test_a_timeout_is_not_repeated_inline(registry, gateway, entries):
    registry.fault("sfs", "slow", latency_ms=900)
    with pytest.raises(RegistryUnavailable) as info:
        gateway.fetch("sfs", "income", ION, OWN)
    assert info.value.code == "timeout"
    assert attempts(registry, "income", settle=2) == 1
    assert (entries[0].result, entries[0].attempts) == ("timeout", 1)


def test_a_slow_registry_within_the_timeout_answers(registry, gateway, entries):
    registry.fault("sfs", "slow", latency_ms=150)
    assert gateway.fetch("sfs", "income", ION, OWN).data["idnp"] == ION
    assert entries[0].result == "ok" and entries[0].duration_ms >= 150


@pytest.mark.parametrize("variant", ["schema", "truncated", "wrong_person"])
def test_a_malformed_answer_is_neither_retried_nor_returned_nor_cached(registry, gateway, entries, variant):
    registry.fault("cnddcm", "malformed", variant=variant)
    for _ in range(2):
        with pytest.raises(RegistryDataError):
            gateway.fetch("cnddcm", "disability", ION, OWN)
    assert attempts(registry, "disability") == 2  # once per fetch: no retry, nothing cached
    assert [e.result for e in entries] == ["malformed", "malformed"]
    assert gateway.breakers["cnddcm"].state == CLOSED  # it answered: not an availability problem


def test_not_found_is_not_retried(registry, gateway, entries):
    from portal.core.idnp import make_idnp

    with pytest.raises(RegistryNotFound):
        gateway.fetch("rsp", "identity", make_idnp("209999999999"), OWN)
    assert attempts(registry, "identity") == 1 and entries[0].result == "not_found"


def test_retry_policy_delays():
    policy = RetryPolicy(attempts=5, base_delay=0.1, multiplier=2, max_delay=0.5, jitter=0)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]
    assert policy.wait_for(5, None) is None  # no attempts left
    assert policy.wait_for(1, 0.3) == 0.3 and policy.wait_for(1, 10) is None  # Retry-After honoured or too long
    assert policy.wait_for(1, None, timed_out=True) is None
    assert RetryPolicy(timeout_retries=1, jitter=0).wait_for(1, None, timed_out=True) == 0.1
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


# --- circuit breaker ------------------------------------------------------------------------------------------

def test_the_breaker_opens_fails_fast_then_lets_one_trial_through(registry, gateway, entries, time_):
    registry.fault("anofm", "error")
    with pytest.raises(RegistryUnavailable):
        gateway.fetch("anofm", "unemployment", ION, OWN)  # 3 attempts: the breaker opens on the third
    assert gateway.breakers["anofm"].state == OPEN
    asked = attempts(registry, "unemployment")
    with pytest.raises(RegistryUnavailable) as info:
        gateway.fetch("anofm", "unemployment", NATALIA, OWN)
    assert info.value.code == "circuit_open"
    assert attempts(registry, "unemployment") == asked  # nothing sent while open
    assert entries[-1].result == "circuit_open" and entries[-1].attempts == 0
    assert gateway.breakers["rsp"].state == CLOSED  # per registry
    gateway.fetch("rsp", "identity", ION, OWN)

    registry.fault("anofm", "ok")
    time_.now += 29
    with pytest.raises(RegistryUnavailable):
        gateway.fetch("anofm", "unemployment", ION, OWN)
    time_.now += 1  # the cool-down is over: half-open, one trial
    assert gateway.breakers["anofm"].state == HALF_OPEN
    assert gateway.fetch("anofm", "unemployment", ION, OWN).data["registered"] is False
    assert gateway.breakers["anofm"].state == CLOSED
    assert attempts(registry, "unemployment") == asked + 1


def test_a_failed_trial_opens_the_breaker_again(registry, gateway, time_):
    registry.fault("cadastre", "error")
    with pytest.raises(RegistryUnavailable):
        gateway.fetch("cadastre", "property", ION, OWN)
    time_.now += 30
    before = attempts(registry, "property")
    with pytest.raises(RegistryUnavailable):
        gateway.fetch("cadastre", "property", ION, OWN)
    assert attempts(registry, "property") == before + 1  # only the trial, no retry through an open breaker
    assert gateway.breakers["cadastre"].state == OPEN and gateway.breakers["cadastre"].opened_count == 2


def test_half_open_lets_exactly_one_trial_through_at_a_time():
    time_ = FakeTime()
    breaker = CircuitBreaker("rsp", failures=1, cooldown=5, monotonic=time_)
    breaker.failure()
    time_.now += 5
    breaker.before()  # the trial
    from portal.registries.resilience import CircuitOpen

    with pytest.raises(CircuitOpen):
        breaker.before()  # a second caller while the trial runs
    breaker.success()
    breaker.before()
    assert breaker.state == CLOSED


def test_queries_during_the_trial_wait_for_its_outcome():
    time_ = FakeTime()
    breaker = CircuitBreaker("sfs", failures=1, cooldown=5, monotonic=time_)
    breaker.failure()
    time_.now += 5
    breaker.before()  # the trial starts
    outcome = []
    waiting = threading.Thread(target=lambda: outcome.append(breaker.before(wait=5) or "let through"))
    waiting.start()
    waiting.join(0.2)
    assert waiting.is_alive()  # waits, rather than failing while the registry may be back
    breaker.success()
    waiting.join(5)
    assert outcome == ["let through"]


def test_the_breaker_is_shared_by_every_thread(registry, transport, time_):
    registry.fault("civil", "error")
    gateway = RegistryGateway(transport, retry=RetryPolicy(attempts=1), breakers=Breakers(3, 60, time_),
                              recorder=None)
    errors = []

    def ask():
        try:
            gateway.fetch("civil", "births", ION, OWN)
        except RegistryUnavailable as e:
            errors.append(e.code)

    for _ in range(12):  # one thread after another: what one thread saw fail, the next one knows
        t = threading.Thread(target=ask)
        t.start()
        t.join()
    assert errors == ["unavailable"] * 3 + ["circuit_open"] * 9
    assert attempts(registry, "births") == 3


def test_prefill_with_a_registry_down_opens_its_breaker_and_keeps_the_others(registry, gateway):
    registry.fault("cnas", "error")
    results = prefill(gateway, ALL_ITEMS, ION, OWN)
    assert results["insurance"].status == "pending"
    assert all(r.ok for item, r in results.items() if item != "insurance")
    assert gateway.breakers["cnas"].state == OPEN
    assert attempts(registry, "insurance") < 4 * 3  # the breaker cut the household's remaining queries short


# --- cache per purpose -------------------------------------------------------------------------------------------

def test_the_same_purpose_reuses_an_answer_for_a_while(registry, gateway, entries, time_):
    first = gateway.fetch("rsp", "address", ION, OWN)
    again = gateway.fetch("rsp", "address", ION, Purpose("application", "Legea nr. 133/2008", ION,
                                                          application_ref="A-2"))
    assert again.data == first.data and attempts(registry, "address") == 1
    assert [e.result for e in entries] == ["ok", "cached"]
    time_.now += 121  # expired
    gateway.fetch("rsp", "address", ION, OWN)
    assert attempts(registry, "address") == 2


@pytest.mark.parametrize("other", [
    Purpose("data_subject_access", "Legea nr. 133/2011", ION),  # another purpose
    Purpose("application", "Legea nr. 289/2004", ION),  # another legal basis
    Purpose("application", "Legea nr. 133/2008", NATALIA),  # another person asking
    Purpose("application", "Legea nr. 133/2008", ION, actor_role="official"),  # an official: never cached
    Purpose("registry_event", "Legea nr. 142/2018", ION, actor_role="system", on_behalf_of=ION),
])
def test_a_different_purpose_never_sees_the_answer(registry, gateway, other):
    gateway.fetch("rsp", "household", ION, OWN)
    gateway.fetch("rsp", "household", ION, other)
    assert attempts(registry, "household") == 2


def test_errors_are_not_cached(registry, gateway):
    registry.fault("sfs", "down")
    with pytest.raises(RegistryUnavailable):
        gateway.fetch("sfs", "income", ION, OWN)
    registry.fault("sfs", "ok")
    assert gateway.fetch("sfs", "income", ION, OWN).data["idnp"] == ION


# --- the log entry of every query ---------------------------------------------------------------------------

@pytest.mark.parametrize("registry_code,service", sorted(schemas.SERVICES))
def test_every_registry_query_is_logged_with_who_why_and_the_outcome(registry, gateway, entries, registry_code,
                                                                       service):
    official = Purpose("case_review", "Legea nr. 289/2004", "2005001000073", application_ref="APP-9",
                       actor_role="official", on_behalf_of=None, institution="CNAS")
    gateway.fetch(registry_code, service, ION, official, correlation_id=f"log-{service}")
    (e,) = entries
    assert (e.kind, e.actor_idnp, e.actor_role, e.institution) == ("query", "2005001000073", "official", "CNAS")
    assert (e.registry_code, e.service, e.subject_idnp) == (registry_code, service, ION)
    assert (e.purpose, e.legal_basis, e.application_ref) == ("case_review", "Legea nr. 289/2004", "APP-9")
    assert (e.correlation_id, e.result, e.attempts) == (f"log-{service}", "ok", 1)
    assert registry.queries(id=f"log-{service}")[0]["user_id"] == "2005001000073"


# --- settings: mutual TLS to MConnect ----------------------------------------------------------------------

def test_client_certificate_settings_reach_the_client(tmp_path):
    from portal.config import SettingsError, load_settings
    from portal.registries.client import from_settings

    settings = load_settings("test", overrides={
        "registry_base_url": "https://ss.esocial.test:8443", "registry_client_cert": str(tmp_path / "c.crt"),
        "registry_client_key": str(tmp_path / "c.key"), "registry_ca_file": str(tmp_path / "ca.pem"),
        "registry_breaker_failures": 2, "registry_cache_seconds": 0})
    client = from_settings(settings)
    assert client.session.cert == (str(tmp_path / "c.crt"), str(tmp_path / "c.key"))
    assert client.session.verify == str(tmp_path / "ca.pem")
    gateway = RegistryGateway.from_settings(client, settings)
    assert gateway.breakers["rsp"].threshold == 2 and gateway.cache_ttl(OWN) == 0
    client.close()
    with pytest.raises(SettingsError):
        load_settings("test", overrides={"registry_client_cert": "c.crt"})  # a certificate without its key
