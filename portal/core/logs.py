"""Logging for every process: one JSON object per line in production, plain text in development.

Every line carries the correlation id (:mod:`portal.core.correlation`), so the
lines of one request, of the jobs it enqueued and of its registry queries can
be found together with one search.  ``configure`` is called by each entry point
(``wsgi.py``, the worker, the scheduler); gunicorn's own loggers go through
the same handler (see ``config/gunicorn.conf.py``).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys

from portal.core import correlation

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"
# Attributes every LogRecord has; anything else passed with ``extra=`` goes into the JSON object.
_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime",
                                                                                        "correlation_id"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "correlation_id", "process", ...extra, "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or correlation.current(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def handler(fmt: str = "text", stream=None) -> logging.Handler:
    h = logging.StreamHandler(stream or sys.stderr)
    h.addFilter(correlation.Filter())
    h.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return h


def configure(fmt: str | None = None, level: str | int | None = None) -> None:
    """Send every logger's records to stderr in ``fmt`` (``json`` or ``text``; default ``$ESOCIAL_LOG_FORMAT``)."""
    fmt = fmt or os.environ.get("ESOCIAL_LOG_FORMAT", "text")
    level = level or os.environ.get("ESOCIAL_LOG_LEVEL", "INFO").upper()
    root = logging.getLogger()
    if any(not getattr(h, "_esocial", False) for h in root.handlers):
        return  # already set up by the host (gunicorn's logconfig_dict, pytest): do not log twice
    for old in list(root.handlers):
        if getattr(old, "_esocial", False):
            root.removeHandler(old)
    h = handler(fmt)
    h._esocial = True  # type: ignore[attr-defined]
    root.addHandler(h)
    root.setLevel(level)
