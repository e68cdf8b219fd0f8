"""Background work as periodic sweeps over database state.

The database says what needs doing (outbox rows, evidence still pending from a
registry, deadlines that passed); a job is an idempotent sweep that takes what
is due and does it, each item in its own transaction.  Running a sweep twice,
or in two processes at once, is safe: each item is claimed with a
compare-and-set before it is worked on.

A feature registers its sweeps in its own ``tasks`` module with
:func:`periodic` and lists that module in :data:`TASK_MODULES`.  The embedded
default runs them in a thread (:func:`run_scheduler`); production runs the same
sweeps from its worker processes.
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from flask import Flask

log = logging.getLogger("esocial.jobs")

# Modules whose import registers sweeps.
TASK_MODULES: list[str] = [
    "portal.backoffice.tasks",
    "portal.registries.tasks",
    "portal.assessment.tasks",
    "portal.notifications.tasks",
    "portal.assisted.tasks",
    "portal.api.tasks",
    "portal.privacy.tasks",
]


@dataclass(frozen=True)
class Periodic:
    name: str
    every: float  # seconds between two runs
    fn: Callable[[Flask], object]


REGISTRY: dict[str, Periodic] = {}


def periodic(name: str, every: float):
    """Register ``fn(app)`` to run every ``every`` seconds."""

    def decorator(fn):
        if name in REGISTRY and REGISTRY[name].fn is not fn:
            raise ValueError(f"a sweep named {name} is already registered")
        REGISTRY[name] = fn.__periodic__ = Periodic(name, every, fn)
        return fn

    return decorator


def load_tasks() -> dict[str, Periodic]:
    """Every sweep of ``TASK_MODULES``, registered. A module imported once registers at import; its sweeps
    are found again on the functions themselves, so a registry swapped and restored meanwhile loses none."""
    for module in TASK_MODULES:
        for obj in vars(importlib.import_module(module)).values():
            task = getattr(obj, "__periodic__", None)
            if isinstance(task, Periodic):
                REGISTRY.setdefault(task.name, task)
    return REGISTRY


def run_once(app: Flask, name: str):
    """Run one sweep now, inside an app context (tests and the command line use this)."""
    task = load_tasks()[name]
    with app.app_context():
        return task.fn(app)


def run_scheduler(app: Flask, stop_event: threading.Event, tick: float = 0.5) -> None:
    """Run every registered sweep when it is due, until ``stop_event`` is set. Errors are logged, never raised."""
    tasks = load_tasks()
    last: dict[str, float] = {}
    log.info("scheduler started with %s", ", ".join(sorted(tasks)) or "no sweeps")
    while not stop_event.is_set():
        now = time.monotonic()
        for task in tasks.values():
            if now - last.get(task.name, float("-inf")) >= task.every:
                last[task.name] = now
                try:
                    with app.app_context():
                        task.fn(app)
                except Exception:  # noqa: BLE001 - one failing sweep must not stop the others
                    log.exception("sweep %s failed", task.name)
        stop_event.wait(tick)
    log.info("scheduler stopped")
