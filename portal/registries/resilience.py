"""What keeps registry queries useful when a registry is slow, flaky or down.

* :class:`RetryPolicy`: exponential backoff with jitter on transient failures
  only (timeouts, connection errors, HTTP 5xx/429).  A 4xx, a "not found" or a
  malformed answer is never retried: asking again gives the same answer.  A
  registry that says ``Retry-After`` longer than we would wait is not asked
  again now: the item stays pending and a sweep asks later.
* :class:`CircuitBreaker`: one per registry, shared by every thread of the
  process.  After ``failures`` transient failures in a row it *opens*: queries
  fail at once for ``cooldown`` seconds instead of piling up on timeouts.  Then
  it lets one trial query through (*half-open*); success closes it, failure
  opens it again for another cool-down.  Queries that come while the trial runs
  wait for its outcome (a few seconds at most) rather than fail: the burst of
  queries of one prefill is served as soon as the registry is back.
* :class:`AnswerCache`: validated answers kept for a few seconds, keyed by the
  whole purpose (what, why, on what legal basis, for whom).  A different
  purpose never sees another purpose's answer.

Time comes from an injectable ``monotonic`` so tests can move it.
"""
from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in all (1 = no retry); the n-th retry waits ``base_delay * multiplier**(n-1)``
    seconds (at most ``max_delay``), spread by ±``jitter`` so that many clients do not retry in step."""

    attempts: int = 3
    base_delay: float = 0.1
    multiplier: float = 2.0
    max_delay: float = 2.0
    jitter: float = 0.2
    # A timed-out query already cost the caller the whole timeout: it is not repeated inline (the item
    # stays pending and a sweep asks again), unless this says how many times it may be.
    timeout_retries: int = 0

    def __post_init__(self):
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.multiplier < 1 or not 0 <= self.jitter < 1:
            raise ValueError("delays are non-negative, multiplier ≥ 1 and 0 ≤ jitter < 1")

    def delay(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        raw = min(self.max_delay, self.base_delay * self.multiplier ** (retry - 1))
        return raw * (1 - self.jitter + 2 * self.jitter * rng())

    def wait_for(self, retry: int, retry_after: float | None, timed_out: bool = False) -> float | None:
        """How long to wait before retry number ``retry``, or ``None`` to give up now (no attempts left,
        a timeout, or the registry asked us to wait longer than we would)."""
        if retry >= self.attempts or (timed_out and retry > self.timeout_retries):
            return None
        delay = self.delay(retry)
        if retry_after is not None:
            if retry_after > self.max_delay:
                return None
            delay = max(delay, retry_after)
        return delay


class CircuitOpen(Exception):
    """The breaker of this registry is open: do not ask now."""

    def __init__(self, registry: str, retry_in: float):
        super().__init__(f"{registry}: circuit open, next trial in {retry_in:.1f} s")
        self.registry = registry
        self.retry_in = retry_in


class CircuitBreaker:
    """Closed → open after ``failures`` transient failures in a row → half-open after ``cooldown`` s → closed."""

    def __init__(self, registry: str, failures: int = 5, cooldown: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic):
        if failures < 1 or cooldown < 0:
            raise ValueError("failures ≥ 1 and cooldown ≥ 0")
        self.registry = registry
        self.threshold = failures
        self.cooldown = cooldown
        self._now = monotonic
        self._lock = threading.Condition()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False
        self.opened_count = 0  # how many times it opened (for the status page and tests)

    @property
    def state(self) -> str:
        with self._lock:
            return self._current()

    def _current(self) -> str:
        if self._state == OPEN and self._now() - self._opened_at >= self.cooldown:
            self._state = HALF_OPEN
            self._trial_running = False
        return self._state

    def before(self, wait: float = 0.0) -> None:
        """Call before a query; raises :class:`CircuitOpen` when the query must not be made.

        While a half-open trial runs, wait up to ``wait`` seconds for its outcome.
        """
        with self._lock:
            state = self._current()
            if state == HALF_OPEN and self._trial_running and wait > 0:
                self._lock.wait_for(lambda: not (self._state == HALF_OPEN and self._trial_running), timeout=wait)
                state = self._current()
            if state == CLOSED:
                return
            if state == HALF_OPEN and not self._trial_running:
                self._trial_running = True  # exactly one trial query at a time
                return
            retry_in = max(0.0, self.cooldown - (self._now() - self._opened_at)) if state == OPEN else 0.0
            raise CircuitOpen(self.registry, retry_in)

    def success(self) -> None:
        with self._lock:
            self._state = CLOSED
            self._failures = 0
            self._trial_running = False
            self._lock.notify_all()

    def failure(self) -> None:
        """A transient failure (the registry did not answer usefully in time)."""
        with self._lock:
            state = self._current()
            if state == OPEN:  # a query sent before it opened: the cool-down is not extended
                return
            self._failures += 1
            if state == HALF_OPEN or self._failures >= self.threshold:
                if state != OPEN:
                    self.opened_count += 1
                self._state = OPEN
                self._opened_at = self._now()
                self._trial_running = False
                self._lock.notify_all()

    def release(self) -> None:
        """The query never reached the registry (a bug, a bad argument): free the trial slot, change nothing."""
        with self._lock:
            self._trial_running = False
            self._lock.notify_all()

    def neutral(self) -> None:
        """An answer that says nothing about availability (not found, refused, malformed): the registry is up."""
        self.success()

    def snapshot(self) -> dict:
        with self._lock:
            return {"state": self._current(), "failures": self._failures, "opened": self.opened_count}


class Breakers:
    """One :class:`CircuitBreaker` per registry, made on first use; thread-safe."""

    def __init__(self, failures: int = 5, cooldown: float = 30.0, monotonic: Callable[[], float] = time.monotonic):
        self.failures = failures
        self.cooldown = cooldown
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def __getitem__(self, registry: str) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(registry)
            if breaker is None:
                breaker = self._breakers[registry] = CircuitBreaker(registry, self.failures, self.cooldown,
                                                                    self.monotonic)
            return breaker

    def snapshot(self) -> dict[str, dict]:
        with self._lock:
            items = list(self._breakers.items())
        return {code: b.snapshot() for code, b in sorted(items)}


class AnswerCache:
    """A small thread-safe TTL cache (least recently used out first when full)."""

    def __init__(self, max_entries: int = 5000, monotonic: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self._now = monotonic
        self._lock = threading.Lock()
        self._data: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable):
        with self._lock:
            entry = self._data.get(key)
            if entry is None or entry[0] <= self._now():
                if entry is not None:
                    del self._data[key]
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, value: object, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._data[key] = (self._now() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
