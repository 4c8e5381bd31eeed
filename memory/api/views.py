from dataclasses import replace

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from memory import selectors, services
from memory.api.serializers import (
    MemoryDetailSerializer,
    MemoryInputSerializer,
    MemorySerializer,
    MemorySettingsSerializer,
    PreferenceSerializer,
    RecallQuerySerializer,
    RecallSerializer,
)
from memory.models import ConversationMemory
from memory.recall import recall, snippet
from mybella.core import limits
from mybella.core.api import ScopedQuerysetMixin
from personas.models import PersonaProfile
from personas.selectors import persona_get_visible


def _persona_or_404(request: Request, persona_id: int) -> PersonaProfile:
    return persona_get_visible(user=request.user, pk=persona_id)


class MemoryPagination(PageNumberPagination):
    """Pages of 50 memories, `?page=`."""

    page_size = 50


class PersonaMemoriesView(APIView):
    """What one persona remembers about you."""

    pagination_class = MemoryPagination  # also how the schema documents the list

    @extend_schema(
        summary="List what a persona remembers about you", responses=MemorySerializer(many=True)
    )
    def get(self, request: Request, persona_id: int) -> Response:
        persona = _persona_or_404(request, persona_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.memory_list(user=request.user, persona=persona), request, view=self
        )
        return paginator.get_paginated_response(MemorySerializer(page, many=True).data)

    @extend_schema(
        summary="Tell a persona to remember something",
        request=MemoryInputSerializer,
        responses={201: MemorySerializer},
    )
    def post(self, request: Request, persona_id: int) -> Response:
        persona = _persona_or_404(request, persona_id)
        serializer = MemoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        memory = services.memory_create(
            user=request.user, persona=persona, **serializer.validated_data
        )
        return Response(MemorySerializer(memory).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Make a persona forget everything about you",
        description=(
            "Deletes this persona's memories of you, their history and your preferences "
            "for it. Conversations stay."
        ),
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, persona_id: int) -> Response:
        persona = _persona_or_404(request, persona_id)
        services.memory_forget_all(user=request.user, persona=persona)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonaMemorySearchView(APIView):
    """Recall: what a persona would remember for a given text."""

    @extend_schema(
        summary="Search what a persona remembers",
        description=(
            "Ranks this pair's memories and past messages by relevance, recency and importance. "
            f"Each result's `content` is a snippet of at most {limits.SNIPPET_MAX_CHARS} "
            "characters around the match."
        ),
        parameters=[RecallQuerySerializer],
        responses=RecallSerializer(many=True),
    )
    def get(self, request: Request, persona_id: int) -> Response:
        persona = _persona_or_404(request, persona_id)
        query = RecallQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        text = query.validated_data["q"]
        results = recall(
            user=request.user, persona=persona, query=text, k=query.validated_data["k"]
        )
        snippets = [replace(item, content=snippet(item.content, text)) for item in results]
        return Response(RecallSerializer(snippets, many=True).data)


class MemoryViewSet(
    ScopedQuerysetMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """One memory: read it with its history, change it, or forget it."""

    serializer_class = MemoryDetailSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def scoped_queryset(self, user: object) -> QuerySet[ConversationMemory]:
        return selectors.memory_list_for_user(user=user).prefetch_related(
            "source_messages", "events"
        )

    @extend_schema(summary="Get a memory with its history")
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return super().retrieve(request, pk=pk)

    @extend_schema(
        summary="Change a memory",
        request=MemoryInputSerializer(partial=True),
        responses=MemoryDetailSerializer,
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        memory = self.get_object()
        serializer = MemoryInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        memory = services.memory_update(memory=memory, **serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(summary="Forget a memory")
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.memory_delete(memory=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonaPreferencesView(APIView):
    """How you like a persona to talk to you."""

    @extend_schema(
        summary="List your preferences for a persona", responses=PreferenceSerializer(many=True)
    )
    def get(self, request: Request, persona_id: int) -> Response:
        persona = _persona_or_404(request, persona_id)
        preferences = selectors.preference_list(user=request.user, persona=persona)
        return Response(PreferenceSerializer(preferences, many=True).data)

    @extend_schema(
        summary="Set one preference",
        description=(
            "Known keys: preferred_name, reply_length (short, medium, long), tone, language; "
            "others are kept too. An empty value removes the preference."
        ),
        request=PreferenceSerializer,
        responses=PreferenceSerializer,
    )
    def put(self, request: Request, persona_id: int) -> Response:
        persona = _persona_or_404(request, persona_id)
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = services.preference_set(
            user=request.user,
            persona=persona,
            key=serializer.validated_data["key"],
            value=serializer.validated_data.get("value", ""),
        )
        return Response(PreferenceSerializer(preference).data)


class PersonaMemorySettingsView(APIView):
    """Whether a persona remembers things about you."""

    @extend_schema(
        summary="Is remembering on for this persona?", responses=MemorySettingsSerializer
    )
    def get(self, request: Request, persona_id: int) -> Response:
        persona = _persona_or_404(request, persona_id)
        return Response({"remember": selectors.memory_enabled(user=request.user, persona=persona)})

    @extend_schema(
        summary="Switch remembering on or off",
        description="Off: nothing new is remembered and nothing is recalled.",
        request=MemorySettingsSerializer,
        responses=MemorySettingsSerializer,
    )
    def put(self, request: Request, persona_id: int) -> Response:
        persona = _persona_or_404(request, persona_id)
        serializer = MemorySettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.memory_settings_set(
            user=request.user, persona=persona, **serializer.validated_data
        )
        return Response(serializer.validated_data)
