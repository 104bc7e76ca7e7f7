"""A bounded map of what was used lately: the least recently used entry goes first; safe between threads.

The key backend keeps the token objects of the keys it used lately (keys/pkcs11.py), the tenants' keyring the
data keys it made or unwrapped lately (signing/tenants/keyring.py): each a worker's memory bound, not a store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self.size:
                self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def drop(self, which: Callable[[K], bool]) -> None:
        """Forget every entry whose key ``which`` picks."""
        with self._lock:
            for key in [k for k in self._items if which(k)]:
                del self._items[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __iter__(self) -> Iterator[K]:
        """The keys, least recently used first (a copy: iterating never blocks a writer)."""
        with self._lock:
            return iter(list(self._items))


__all__ = ["Recent"]
