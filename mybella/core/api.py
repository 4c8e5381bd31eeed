"""The one way API views reach user data: a queryset scoped to the caller."""

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework.request import Request

from mybella.core.errors import NotFound


class ScopedQuerysetMixin:
    """Build every queryset from `scoped_queryset(user)`, a selector call scoped to the caller.

    Subclasses may not set `queryset` or override `get_queryset`: an object outside
    the caller's scope is then a 404 by construction, never a 403 that reveals it.
    (The mixins of this module may: they are the scoping itself.)
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:
            return
        if "get_queryset" in cls.__dict__ or cls.__dict__.get("queryset") is not None:
            raise TypeError(
                f"{cls.__name__}: implement scoped_queryset(), not queryset or get_queryset()."
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


class ParentScopedMixin(ScopedQuerysetMixin):
    """Serve objects nested under a parent named in the URL (`/personas/<persona_id>/…`).

    The parent is resolved once per request, after authentication, permissions and
    throttles, by `resolve_parent(user, pk)`: a selector that raises `NotFound` (or
    `Http404`) when the caller may not see it, so an invisible or someone else's parent is
    a 404. Handlers read it as `self.parent`; querysets come from
    `scoped_queryset(user, parent)`.
    """

    parent_url_kwarg = "persona_id"
    parent: Any = None

    def resolve_parent(self, user: Any, pk: Any) -> Model:
        """Return the parent `pk` if `user` may see it; raise `NotFound` otherwise."""
        raise NotImplementedError

    def scoped_queryset(self, user: Any, parent: Any = None) -> QuerySet:
        """Return the objects under `parent` that `user` may see; implemented with a selector.

        Schema generation calls it with `None` for both and only asks for `.none()`, so it
        must build its queryset without reading either.
        """
        raise NotImplementedError

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        pk = self.kwargs[self.parent_url_kwarg]  # type: ignore[attr-defined]
        self.parent = self.resolve_parent(request.user, pk)

    def get_object(self) -> Any:
        """Return the object the URL names, or the parent itself for a resource with no id.

        A resource that is one per parent (`/personas/<id>/preferences/`) has no lookup in its
        URL; DRF still calls `get_object()` for it, e.g. when answering OPTIONS.
        """
        lookup = self.lookup_url_kwarg or self.lookup_field  # type: ignore[attr-defined]
        if lookup not in self.kwargs:  # type: ignore[attr-defined]
            if self.parent is None:
                raise NotFound
            return self.parent
        return super().get_object()  # type: ignore[misc]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False) or self.parent is None:
            # Schema generation: no request went through initial(), so there is no parent.
            # (Any other way here without a parent sees nothing rather than too much.)
            return self.scoped_queryset(None, None).none()
        return self.scoped_queryset(self.request.user, self.parent)  # type: ignore[attr-defined]
