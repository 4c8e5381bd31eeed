"""A small registry: how an app plugs into another one without being imported by it.

The lower app declares `things: Registry[Thing] = Registry("things")` and iterates over
it; a higher app registers into it from its `AppConfig.ready()`. Iteration follows
registration order, so it is the same as the order of `INSTALLED_APPS`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named items of one kind, in the order they were registered.

    An item's name is its `name` attribute (a dataclass describing a hook), or else the
    dotted path of a function or class, so `register` works as a decorator too.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[str, T] = {}

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {', '.join(self._items) or 'empty'}>"

    @staticmethod
    def name_of(item: object) -> str:
        """Return the name `item` is registered under."""
        name = getattr(item, "name", None)
        if isinstance(name, str) and name:
            return name
        return f"{item.__module__}.{item.__qualname__}"  # type: ignore[attr-defined]

    def register(self, item: T) -> T:
        """Add `item` and return it.

        Registering the same item again changes nothing (a module imported twice); another
        item under a name taken already is a mistake and raises `ValueError`.
        """
        name = self.name_of(item)
        if name in self._items:
            if self._items[name] == item:
                return item
            raise ValueError(f"{self.name}: another item is registered as {name!r} already.")
        self._items[name] = item
        return item

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def names(self) -> list[str]:
        """Return the registered names in registration order."""
        return list(self._items)

    @contextmanager
    def override(self, *items: T) -> Iterator["Registry[T]"]:
        """Hold only `items` for the duration of a test, then restore what was registered."""
        saved = self._items
        self._items = {}
        try:
            for item in items:
                self.register(item)
            yield self
        finally:
            self._items = saved
