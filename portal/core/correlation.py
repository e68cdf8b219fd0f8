"""The correlation id: one id that follows a piece of work through every process it touches.

A request takes the id its load balancer sent (``X-Request-Id``) or gets a new
one; it is returned in the response header, written in every log line, carried
in the metadata of every job the request enqueues (the worker binds it again
before running the job) and sent to the registries as the stem of
``X-Road-Id``.  A sweep started by the scheduler gets an id of its own.

The id lives in a :mod:`contextvars` variable, so each request thread (or
greenlet) and each job sees its own.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import uuid
from typing import Iterator

HEADER = "X-Request-Id"
# What we accept from outside: the registry client and Purpose accept the same alphabet.
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,40}$")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("esocial_correlation_id", default=None)


def new() -> str:
    return uuid.uuid4().hex


def is_valid(value: str | None) -> bool:
    return bool(value) and bool(_VALID.match(value))


def current() -> str | None:
    """The id of the work in progress, or ``None`` outside any request or job."""
    return _current.get()


def set_current(value: str | None) -> contextvars.Token:
    return _current.set(value)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def child() -> str:
    """A new id for one operation inside the current work (a prefill's registry queries): the current id
    with a short suffix, so a search for the request's id finds it; a fresh id outside any request or job."""
    cid = _current.get()
    return f"{cid[:33]}.{uuid.uuid4().hex[:6]}" if cid else new()


def from_header(value: str | None) -> str:
    """The id a request keeps: the caller's if well formed, a new one otherwise."""
    return value if is_valid(value) else new()


@contextlib.contextmanager
def bound(value: str | None = None) -> Iterator[str]:
    """Run a block (a job, a sweep) under ``value`` or a new id."""
    cid = value if is_valid(value) else new()
    token = _current.set(cid)
    try:
        yield cid
    finally:
        _current.reset(token)


class Filter(logging.Filter):
    """Puts ``correlation_id`` on every log record (``-`` when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", None):
            record.correlation_id = _current.get() or "-"
        return True
