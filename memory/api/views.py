"""The memory API: thin views over the memory services and selectors.

Views nested under `/personas/<persona_id>/` resolve the persona once, through
`PersonaScopedMixin` (another user's or an invisible persona is a 404). A memory reached
by its own id is the caller's and held by a persona they can see, else a 404, as on the
page. Services raise domain errors; the core exception handler answers them.
"""

from dataclasses import replace

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from chat.cache import chat_version
from memory import rules, selectors, services
from memory.api import schema  # noqa: F401 (registers the schema extension)
from memory.api.serializers import (
    MemoryDetailSerializer,
    MemoryInputSerializer,
    MemoryListQuerySerializer,
    MemorySerializer,
    MemorySettingsSerializer,
    PreferenceMapSerializer,
    PreferenceSerializer,
    RecallQuerySerializer,
    RecallSerializer,
)
from memory.cache import memory_version
from memory.models import ConversationMemory, MemorySettings, UserPreference
from memory.recall import Recalled, Turn, pair_names, recall, snippet
from mybella.core import limits
from mybella.core.api import ScopedQuerysetMixin
from mybella.core.cache import cached_read
from mybella.core.schema import ErrorSerializer
from personas.api.scoping import PersonaScopedMixin


class MemoryPagination(PageNumberPagination):
    """Pages of 50 memories, `?page=`."""

    page_size = 50


class PersonaMemoryViewSet(PersonaScopedMixin, viewsets.GenericViewSet):
    """What one persona remembers about you."""

    serializer_class = MemorySerializer
    pagination_class = MemoryPagination
    superseded = False  # list those newer memories replaced (`?superseded=true`)
    throttle_scope: str | None = None  # "memory" on create

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        if self.action == "create":
            self.throttle_scope = "memory"
        super().initial(request, *args, **kwargs)

    def scoped_queryset(self, user: object, parent: object = None) -> QuerySet:
        return selectors.memory_list(user=user, persona=parent, superseded=self.superseded)

    @extend_schema(
        summary="List what a persona remembers about you",
        description=(
            "The memories that count. With `?superseded=true`, those a newer memory replaced "
            "instead (a new home, another name for the dog): kept with their history, each "
            "with `superseded_by`, the id of its replacement."
        ),
        parameters=[MemoryListQuerySerializer],
    )
    def list(self, request: Request, persona_id: int) -> Response:
        query = MemoryListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        self.superseded = query.validated_data["superseded"]
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Tell a persona to remember something",
        description="Throttled with memory (`THROTTLE_MEMORY`).",
        request=MemoryInputSerializer,
        responses={201: MemorySerializer, 429: ErrorSerializer},
    )
    def create(self, request: Request, persona_id: int) -> Response:
        serializer = MemoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        memory = services.memory_create(
            user=request.user, persona=self.persona, **serializer.validated_data
        )
        return Response(MemorySerializer(memory).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Make a persona forget everything about you",
        description=(
            "Deletes this persona's memories of you, their history and your preferences "
            "for it. Conversations stay, and so does whether it remembers."
        ),
        request=None,
        responses={204: None},
    )
    def forget_all(self, request: Request, persona_id: int) -> Response:
        services.memory_forget_all(user=request.user, persona=self.persona)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _snipped(item: Recalled, query: str) -> Recalled:
    """Return `item` with its text and its neighbours' cut to snippets around `query`.

    Most texts are short enough to be their own snippet: those are kept as they are,
    not copied.
    """
    content = snippet(item.content, query)
    before = _snipped_turn(item.before, query)
    after = _snipped_turn(item.after, query)
    if content is item.content and before is item.before and after is item.after:
        return item
    return replace(item, content=content, before=before, after=after)


def _snipped_turn(turn: Turn | None, query: str) -> Turn | None:
    if turn is None:
        return None
    content = snippet(turn.content, query)
    return turn if content is turn.content else replace(turn, content=content)


class PersonaMemorySearchViewSet(PersonaScopedMixin, viewsets.GenericViewSet):
    """Recall: what a persona would remember for a given text (ranked, not paged)."""

    serializer_class = RecallSerializer
    pagination_class = None
    throttle_scope = "search"

    def scoped_queryset(self, user: object, parent: object = None) -> QuerySet:
        # What recall searches (it reads through its own selectors).
        return selectors.memory_list(user=user, persona=parent)

    @extend_schema(
        summary="Search what a persona remembers",
        description=(
            "Ranks this pair's memories and past messages, over the pair's whole history, by "
            "relevance and importance (recency breaks ties). Each result's `content` is a "
            f"snippet of at most {limits.SNIPPET_MAX_CHARS} characters around the match; a "
            "message comes with the turns around it (`context`), and each result with when "
            "it was said (`said_at`)."
        ),
        parameters=[RecallQuerySerializer],
        responses=RecallSerializer(many=True),
    )
    def search(self, request: Request, persona_id: int) -> Response:
        query = RecallQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        text, k = query.validated_data["q"], query.validated_data["k"]
        user, persona = request.user, self.persona

        def build() -> list:
            results = recall(user=user, persona=persona, query=text, k=k)
            return RecallSerializer([_snipped(item, text) for item in results], many=True).data

        # Cached per caller, persona and query (`cached_read` keys on the query string) until
        # one of the caller's messages or memories changes (chat.cache, memory.cache;
        # extraction in a task worker writes memories too). The pair's names are in the key:
        # recall leaves them out of the query's words.
        return cached_read(
            request,
            key=[
                "memory:search",
                user.pk,
                persona.pk,
                *sorted(pair_names(user=user, persona=persona)),
            ],
            depends_on=[chat_version(user.pk), memory_version(user.pk)],
            build=build,
            written_by_tasks=True,
        )


class MemoryViewSet(
    ScopedQuerysetMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """One memory: read it with its history, change it, or forget it."""

    serializer_class = MemoryDetailSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    throttle_scope: str | None = None  # "memory" on a change (new content is embedded again)

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        if self.action == "partial_update":
            self.throttle_scope = "memory"
        super().initial(request, *args, **kwargs)

    def scoped_queryset(self, user: object) -> QuerySet[ConversationMemory]:
        # Held by a persona the caller can see, like the page (`memory_get_visible`).
        return selectors.memory_list_visible(user=user, with_history=True)

    @extend_schema(summary="Get a memory with its history")
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return super().retrieve(request, pk=pk)

    @extend_schema(
        summary="Change a memory",
        description=(
            "Fields equal to what is stored are no change: no history entry is added. "
            "Throttled with memory (`THROTTLE_MEMORY`)."
        ),
        request=MemoryInputSerializer(partial=True),
        responses={200: MemoryDetailSerializer, 429: ErrorSerializer},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        memory = self.get_object()
        serializer = MemoryInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        _memory, changed = services.memory_update(memory=memory, **serializer.validated_data)
        if changed:
            memory = self.get_object()  # its history, read again
        return Response(self.get_serializer(memory).data)

    @extend_schema(summary="Forget a memory")
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.memory_delete(memory=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonaPreferencesViewSet(PersonaScopedMixin, viewsets.GenericViewSet):
    """How you like a persona to talk to you."""

    serializer_class = PreferenceSerializer
    pagination_class = None

    def scoped_queryset(self, user: object, parent: object = None) -> QuerySet[UserPreference]:
        return selectors.preference_list(user=user, persona=parent)

    @extend_schema(
        summary="List your preferences for a persona", responses=PreferenceSerializer(many=True)
    )
    def retrieve(self, request: Request, persona_id: int) -> Response:
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    @extend_schema(
        summary="Set one preference, or several at once",
        description=(
            "Either `{key, value}` for one preference (answered with it), or an object of "
            'keys and values, such as `{"tone": "dry", "language": "Portuguese"}`, for '
            "several at once, all or nothing (answered with all your preferences for the "
            f"persona). Known keys: {rules.describe_preference_rules()}; others are kept "
            f"too (at most {limits.PREFERENCE_VALUE_MAX_CHARS} characters, "
            f"{limits.PREFERENCES_MAX_PER_PERSONA} preferences per persona). An empty value "
            "removes the preference."
        ),
        request=PolymorphicProxySerializer(
            component_name="PreferenceInput",
            serializers=[PreferenceSerializer, PreferenceMapSerializer],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            200: OpenApiResponse(
                response=PolymorphicProxySerializer(
                    component_name="PreferenceOrList",
                    serializers=[PreferenceSerializer, PreferenceSerializer(many=True)],
                    resource_type_field_name=None,
                    many=False,
                ),
                description="The preference set, or all of them after setting several.",
            )
        },
    )
    def update(self, request: Request, persona_id: int) -> Response:
        if isinstance(request.data, dict) and "key" in request.data:
            serializer = PreferenceSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            preference = services.preference_set(
                user=request.user,
                persona=self.persona,
                key=serializer.validated_data["key"],
                value=serializer.validated_data.get("value", ""),
            )
            return Response(PreferenceSerializer(preference).data)
        mapping = PreferenceMapSerializer(data=request.data)
        mapping.is_valid(raise_exception=True)
        services.preferences_set(
            user=request.user, persona=self.persona, values=mapping.validated_data
        )
        return Response(PreferenceSerializer(self.get_queryset(), many=True).data)


class PersonaMemorySettingsViewSet(PersonaScopedMixin, viewsets.GenericViewSet):
    """Whether a persona remembers things about you."""

    serializer_class = MemorySettingsSerializer
    pagination_class = None

    def scoped_queryset(self, user: object, parent: object = None) -> QuerySet[MemorySettings]:
        return selectors.memory_settings_list(user=user, persona=parent)

    @extend_schema(summary="Is remembering on for this persona?")
    def retrieve(self, request: Request, persona_id: int) -> Response:
        remember = selectors.memory_enabled(user=request.user, persona=self.persona)
        return Response({"remember": remember})

    @extend_schema(
        summary="Switch remembering on or off",
        description="Off: nothing new is remembered and nothing is recalled.",
        request=MemorySettingsSerializer,
        responses=MemorySettingsSerializer,
    )
    def update(self, request: Request, persona_id: int) -> Response:
        serializer = MemorySettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.memory_settings_set(
            user=request.user, persona=self.persona, **serializer.validated_data
        )
        return Response(serializer.validated_data)
