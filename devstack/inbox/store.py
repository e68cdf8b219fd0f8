"""Thread-safe, bounded, in-memory storage of caught e-mails and SMS."""
from __future__ import annotations

import collections
import datetime as dt
import itertools
import threading

DEFAULT_LIMIT = 1000


class MessageStore:
    """The last ``limit`` messages of both kinds, each a dict with an increasing ``id``.

    Written from the SMTP server's event-loop thread and the HTTP server's
    request threads, so every access takes the lock; readers get copies.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT):
        self.limit = limit
        self._lock = threading.Lock()
        self._messages: collections.deque[dict] = collections.deque(maxlen=limit)
        self._ids = itertools.count(1)

    def add(self, kind: str, **fields) -> dict:
        with self._lock:
            message = {"id": next(self._ids), "kind": kind,
                       "received_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **fields}
            self._messages.append(message)
            return dict(message)

    def list(self, kind: str | None = None, to: str | None = None) -> list[dict]:
        """Newest first; ``to`` matches any recipient, ignoring case."""
        wanted = to.strip().lower() if to else None
        with self._lock:
            found = [dict(m) for m in reversed(self._messages)
                     if (kind is None or m["kind"] == kind)
                     and (wanted is None or wanted in (r.lower() for r in m["recipients"]))]
        return found

    def get(self, message_id: int) -> dict | None:
        with self._lock:
            for m in self._messages:
                if m["id"] == message_id:
                    return dict(m)
        return None

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)
