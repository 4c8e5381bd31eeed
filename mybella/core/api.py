"""The one way API views reach user data: a queryset scoped to the caller."""

from typing import Any

from django.db.models import QuerySet


class ScopedQuerysetMixin:
    """Build every queryset from `scoped_queryset(user)`, a selector call scoped to the caller.

    Subclasses may not set `queryset` or override `get_queryset`: an object outside
    the caller's scope is then a 404 by construction, never a 403 that reveals it.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__ or cls.__dict__.get("queryset") is not None:
            raise TypeError(
                f"{cls.__name__}: implement scoped_queryset(user), not queryset or get_queryset()."
            )

    def scoped_queryset(self, user: Any) -> QuerySet:
        """Return the objects `user` may see; implemented with a selector."""
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        user = self.request.user  # type: ignore[attr-defined]
        if not user.is_authenticated:
            # Only schema generation gets here: the views require authentication.
            return self.scoped_queryset(None).none()
        return self.scoped_queryset(user)
