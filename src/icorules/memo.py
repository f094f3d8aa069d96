"""Values an object works out once, on first read: `once`, a cached_property without a lock.

Python 3.11's cached_property takes a lock on every first read. The models and the partner
graph are each read by one thread, a check reads a few such values per organisation, and
working one out twice would give the same value: the lock is pure cost there.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any


class once(cached_property[Any]):
    """A cached_property that stores its value without taking a lock."""

    def __set_name__(self, owner: type, name: str) -> None:
        super().__set_name__(owner, name)
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value
