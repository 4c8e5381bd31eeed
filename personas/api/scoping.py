"""The one place an API view resolves a persona id from its URL."""

from typing import Any

from mybella.core.api import ParentScopedMixin
from personas.models import PersonaProfile
from personas.selectors import persona_get_visible


class PersonaScopedMixin(ParentScopedMixin):
    """Serve objects nested under `/personas/<persona_id>/…`, for a persona the caller sees.

    The persona is resolved once per request (after authentication, permissions and
    throttles) and read as `self.persona`. One the caller may not see, or that does not
    exist, is a 404 whatever the method. `persona_select_related` names relations to load
    with it.
    """

    parent_url_kwarg = "persona_id"
    persona_select_related: tuple[str, ...] = ()

    def resolve_parent(self, user: Any, pk: Any) -> PersonaProfile:
        # NotFound for a persona the caller may not see; the API answers it with a 404.
        return persona_get_visible(user=user, pk=pk, select_related=self.persona_select_related)

    @property
    def persona(self) -> PersonaProfile:
        """Return the persona named in the URL, resolved for this request."""
        return self.parent
