"""Per-key run-once memoisation shared by threads: each page and metadata is fetched once.

The first caller for a key computes the value in its own thread; later callers (the
resolver, or prefetch workers) wait for that same result or exception.  Computing inline
instead of in a pool means a pool worker never waits on a task still queued behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

__all__ = ["OnceMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class OnceMap(Generic[K, V]):
    """``get(key, compute)`` runs *compute* at most once per key for the map's lifetime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[K, Future[V]] = {}

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._futures

    def done(self, key: K) -> bool:
        """Whether *key*'s value (or failure) is there, not only being computed."""
        with self._lock:
            future = self._futures.get(key)
        return future is not None and future.done()

    def put(self, key: K, value: V) -> None:
        """Record a value obtained another way (no-op when the key is already known)."""
        with self._lock:
            if key not in self._futures:
                future: Future[V] = Future()
                future.set_result(value)
                self._futures[key] = future

    def get(self, key: K, compute: Callable[[], V], *, forget_errors: bool = False) -> V:
        """The value for *key*, computing it here if nobody has; with *forget_errors* a
        failure is raised to the current waiters but the next call tries again."""
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                value = compute()
            except BaseException as exc:
                if forget_errors:
                    with self._lock:
                        self._futures.pop(key, None)
                future.set_exception(exc)
                raise
            future.set_result(value)
            return value
        return future.result()
