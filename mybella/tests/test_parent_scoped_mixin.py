"""`ParentScopedMixin`: the persona in the URL is resolved once, and only if it is visible."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.validation import validate_schema
from rest_framework import generics, mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from chat.tests.factories import MemoryFactory
from memory import selectors as memory_selectors
from memory.models import ConversationMemory
from mybella.core.api import ParentScopedMixin
from mybella.core.errors import NotFound
from personas.models import PersonaProfile
from personas.selectors import persona_list_visible
from personas.tests.factories import PersonaFactory, SystemPersonaFactory

resolved: list[object] = []


def _visible_persona(user: object, pk: object) -> PersonaProfile:
    """Resolve as the personas app will: a selector that raises the domain's NotFound."""
    resolved.append(pk)
    persona = persona_list_visible(user=user).filter(pk=pk).first()
    if persona is None:
        raise NotFound
    return persona


class PersonaScoped(ParentScopedMixin):
    """What the personas app's mixin will be: the persona in the URL, if visible."""

    def resolve_parent(self, user: object, pk: object) -> PersonaProfile:
        return _visible_persona(user, pk)


class MemoryRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConversationMemory
        fields = ["id", "content"]


class PersonaMemoryList(PersonaScoped, mixins.ListModelMixin, generics.GenericAPIView):
    """A persona's memories of the caller (list)."""

    serializer_class = MemoryRowSerializer
    pagination_class = None

    def scoped_queryset(self, user: object, parent: object = None):
        return ConversationMemory.objects.filter(user=user, persona=parent).order_by("id")

    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self.list(request, *args, **kwargs)


class OnePerMinute(UserRateThrottle):
    rate = "1/min"


class ThrottledPersonaMemoryList(PersonaMemoryList):
    throttle_classes = [OnePerMinute]


class PersonaMemoryDetail(PersonaScoped, mixins.RetrieveModelMixin, generics.GenericAPIView):
    """One of a persona's memories of the caller."""

    serializer_class = MemoryRowSerializer

    def scoped_queryset(self, user: object, parent: object = None):
        return memory_selectors.memory_list(user=user, persona=parent)

    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self.retrieve(request, *args, **kwargs)


class PersonaGreeting(PersonaScoped, APIView):
    """A plain APIView reads the resolved parent too."""

    @extend_schema(responses=inline_serializer("Greeting", {"name": serializers.CharField()}))
    def get(self, request: Request, persona_id: int) -> Response:
        return Response({"name": self.parent.name})


from django.urls import path  # noqa: E402 (the views above are what the URLs name)

from mybella import urls as project_urls  # noqa: E402

urlpatterns = [
    path("api/v1/t/personas/<int:persona_id>/memories/", PersonaMemoryList.as_view()),
    path("api/v1/t/personas/<int:persona_id>/memories/<int:pk>/", PersonaMemoryDetail.as_view()),
    path("api/v1/t/personas/<int:persona_id>/greeting/", PersonaGreeting.as_view()),
    path("api/v1/t/personas/<int:persona_id>/throttled/", ThrottledPersonaMemoryList.as_view()),
    *project_urls.urlpatterns,
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _reset_resolved():
    resolved.clear()


def test_parent_is_resolved_once_per_request(user, auth_api_client, django_assert_num_queries):
    persona = PersonaFactory(owner=user)
    mine = MemoryFactory(user=user, persona=persona, content="likes tea")
    MemoryFactory(persona=persona)  # another user's memory of the same persona: never shown
    with django_assert_num_queries(2):  # the persona, then the memories
        response = auth_api_client.get(f"/api/v1/t/personas/{persona.pk}/memories/")
    assert response.status_code == 200
    assert response.json() == [{"id": mine.pk, "content": "likes tea"}]
    assert resolved == [persona.pk]


def test_detail_is_looked_up_inside_the_parent(user, auth_api_client):
    persona, other_persona = PersonaFactory(owner=user), PersonaFactory(owner=user)
    memory = MemoryFactory(user=user, persona=persona)
    assert (
        auth_api_client.get(f"/api/v1/t/personas/{persona.pk}/memories/{memory.pk}/").status_code
        == 200
    )
    # The caller's own memory, reached through another persona of theirs, is not there.
    response = auth_api_client.get(f"/api/v1/t/personas/{other_persona.pk}/memories/{memory.pk}/")
    assert response.status_code == 404
    assert resolved == [persona.pk, other_persona.pk]


def test_plain_api_views_read_the_parent(user, auth_api_client):
    persona = PersonaFactory(owner=user, name="Ada")
    response = auth_api_client.get(f"/api/v1/t/personas/{persona.pk}/greeting/")
    assert response.json() == {"name": "Ada"}


@pytest.mark.parametrize(
    "make_persona",
    [
        pytest.param(lambda other_user: PersonaFactory(owner=other_user), id="another-users"),
        pytest.param(lambda other_user: SystemPersonaFactory(is_active=False), id="inactive"),
    ],
)
@pytest.mark.parametrize(
    "url", ["memories/", "memories/1/", "greeting/"], ids=["list", "detail", "apiview"]
)
def test_an_invisible_parent_is_a_404(auth_api_client, other_user, make_persona, url):
    persona = make_persona(other_user)
    MemoryFactory(user=other_user, persona=persona)
    response = auth_api_client.get(f"/api/v1/t/personas/{persona.pk}/{url}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_missing_parent_is_a_404(auth_api_client):
    assert auth_api_client.get("/api/v1/t/personas/999999/memories/").status_code == 404


def test_authentication_comes_before_the_parent(api_client, user, django_assert_num_queries):
    """An anonymous caller learns nothing, and costs no lookup."""
    persona = PersonaFactory(owner=user)
    with django_assert_num_queries(0):
        response = api_client.get(f"/api/v1/t/personas/{persona.pk}/memories/")
    assert response.status_code == 401
    assert resolved == []


def test_throttles_come_before_the_parent(user, auth_api_client):
    """A throttled request costs no lookup either."""
    persona = PersonaFactory(owner=user)
    url = f"/api/v1/t/personas/{persona.pk}/throttled/"
    assert auth_api_client.get(url).status_code == 200
    assert auth_api_client.get(url).status_code == 429
    assert resolved == [persona.pk]


def test_the_schema_generates_without_a_request():
    """Schema generation never resolves a parent: the queryset is an empty one of the model."""
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=urlpatterns[:4]).get_schema(request=None, public=True)
    validate_schema(schema)
    assert "/api/v1/t/personas/{persona_id}/memories/" in schema["paths"]
    assert not GENERATOR_STATS, "schema generation warned"
    assert resolved == []


def test_app_views_may_not_bypass_the_scoped_queryset():
    with pytest.raises(TypeError, match="scoped_queryset"):

        class Leaky(ParentScopedMixin, generics.GenericAPIView):
            def get_queryset(self):
                return ConversationMemory.objects.all()

    with pytest.raises(TypeError, match="scoped_queryset"):

        class AlsoLeaky(ParentScopedMixin, generics.GenericAPIView):
            queryset = ConversationMemory.objects.all()
