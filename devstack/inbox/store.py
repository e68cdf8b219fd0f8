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

    ``dedupe_key``: a message whose key was seen before is not stored again
    (the first one is returned, marked ``duplicate``), as a phone shows one SMS
    per gateway idempotency key and a mailbox one message per Message-ID.
    ``duplicates`` counts what was suppressed so.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT):
        self.limit = limit
        self._lock = threading.Lock()
        self._messages: collections.deque[dict] = collections.deque(maxlen=limit)
        self._ids = itertools.count(1)
        self._keys: collections.OrderedDict[str, dict] = collections.OrderedDict()
        self.duplicates = 0

    def add(self, kind: str, *, dedupe_key: str | None = None, **fields) -> dict:
        with self._lock:
            if dedupe_key is not None and dedupe_key in self._keys:
                self.duplicates += 1
                return {**self._keys[dedupe_key], "duplicate": True}
            message = {"id": next(self._ids), "kind": kind,
                       "received_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **fields}
            self._messages.append(message)
            if dedupe_key is not None:
                self._keys[dedupe_key] = message
                while len(self._keys) > 2 * self.limit:
                    self._keys.popitem(last=False)
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
            self._keys.clear()
            self.duplicates = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)
