"""`PersonaScopedMixin`: a persona id in an API URL is resolved once, and only if visible."""

import pytest
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from personas.api.scoping import PersonaScopedMixin
from personas.tests.factories import PersonaFactory, SystemPersonaFactory


class PersonaName(PersonaScopedMixin, APIView):
    """Answer the name of the persona in the URL."""

    persona_select_related = ("owner",)

    @extend_schema(responses=inline_serializer("PersonaName", {"name": serializers.CharField()}))
    def get(self, request: Request, persona_id: int) -> Response:
        owner = self.persona.owner.username if self.persona.owner else None
        return Response({"name": self.persona.name, "owner": owner})


urlpatterns = [path("t/personas/<int:persona_id>/name/", PersonaName.as_view())]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def test_a_visible_persona_is_resolved_once_with_its_relations(
    user, auth_api_client, django_assert_num_queries
):
    """The caller's own persona and the active system ones, in one query (owner included)."""
    mine = PersonaFactory(owner=user, name="Ada")
    system = SystemPersonaFactory(name="Sys")
    with django_assert_num_queries(1):
        response = auth_api_client.get(f"/t/personas/{mine.pk}/name/")
    assert response.json() == {"name": "Ada", "owner": "alice"}
    response = auth_api_client.get(f"/t/personas/{system.pk}/name/")
    assert response.json() == {"name": "Sys", "owner": None}


@pytest.mark.parametrize(
    "make_persona",
    [
        pytest.param(lambda other_user: PersonaFactory(owner=other_user).pk, id="another-users"),
        pytest.param(lambda other_user: SystemPersonaFactory(is_active=False).pk, id="inactive"),
        pytest.param(lambda other_user: 999_999, id="missing"),
        pytest.param(lambda other_user: 2**63, id="beyond-a-bigint"),
    ],
)
def test_a_persona_the_caller_may_not_see_is_a_404(auth_api_client, other_user, make_persona):
    """Missing and not-yours read the same: 404 with the same body."""
    response = auth_api_client.get(f"/t/personas/{make_persona(other_user)}/name/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_anonymous_caller_costs_no_lookup(api_client, user, django_assert_num_queries):
    persona = PersonaFactory(owner=user)
    with django_assert_num_queries(0):
        response = api_client.get(f"/t/personas/{persona.pk}/name/")
    assert response.status_code == 401
