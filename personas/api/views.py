import django_filters
from django.db.models import Q
from django.http import HttpResponse
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from mybella.core import limits
from mybella.core.api import ScopedQuerysetMixin
from mybella.core.cache import cached_read
from mybella.core.schema import ErrorSerializer
from personas import selectors, services
from personas.api.serializers import (
    AvatarInputSerializer,
    CardImportSerializer,
    PersonaInputSerializer,
    PersonaOutputSerializer,
)
from personas.cache import persona_versions
from personas.models import PersonaProfile, PersonaQuerySet


class PersonaFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=[("system", "system"), ("custom", "custom")],
        method="filter_kind",
        help_text="Only system personas, or only your own.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=limits.SEARCH_QUERY_MAX_CHARS,
        help_text=f"Words in the name, tagline or bio (at most {limits.SEARCH_QUERY_MAX_CHARS} "
        "characters).",
    )

    class Meta:
        model = PersonaProfile
        fields = ["kind", "search"]

    def filter_kind(self, queryset: PersonaQuerySet, name: str, value: str) -> PersonaQuerySet:
        return queryset.filter(is_custom=(value == "custom"))

    def filter_search(self, queryset: PersonaQuerySet, name: str, value: str) -> PersonaQuerySet:
        for word in value.split()[:8]:
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(tagline__icontains=word) | Q(bio__icontains=word)
            )
        return queryset


@extend_schema_view(
    list=extend_schema(
        summary="List the system personas and your own",
        description=(
            "Without `search` the answer carries an `ETag`: send it back in `If-None-Match` "
            "and an unchanged list is a 304 without a body. The list leaves out each "
            "persona's `lorebook` (it can be large): get one persona for it."
        ),
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The `ETag` of the list you have.",
            )
        ],
        responses={
            200: PersonaOutputSerializer(many=True),
            304: OpenApiResponse(description="The list is unchanged since that `ETag`."),
        },
    ),
    retrieve=extend_schema(summary="Get a persona"),
    destroy=extend_schema(
        summary="Delete your persona",
        description="Its conversations and memories go with it. System personas: staff only.",
    ),
)
class PersonaViewSet(
    ScopedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """System personas and the caller's own custom personas."""

    serializer_class = PersonaOutputSerializer
    filterset_class = PersonaFilter
    throttle_scope: str | None = None  # set per action on the costly ones
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self, user: object) -> PersonaQuerySet:
        return selectors.persona_list_visible(
            user=user, with_sections=True, listing=self.action == "list"
        )

    @cached_property
    def current_persona(self) -> PersonaProfile | None:
        return selectors.persona_get_current(user=self.request.user)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        # A list leaves out what can grow large (a lorebook): one persona's read shows it.
        context["listing"] = self.action == "list"
        if self.request.user.is_authenticated:
            context["current_persona_id"] = getattr(self.current_persona, "pk", None)
        return context

    def list(self, request: Request) -> Response:
        if "search" in request.query_params:
            return super().list(request)
        # The plain list is the hot read: cached per caller until a persona they see or their
        # choice changes (personas.cache), answered 304 when unchanged.
        return cached_read(
            request,
            key=["personas:list", request.user.pk],
            depends_on=persona_versions(request.user),
            build=lambda: super(PersonaViewSet, self).list(request).data,
        )

    def check_throttles(self, request: Request) -> None:
        # An avatar sent with the fields is an upload, as through the avatar action and the
        # persona pages (`throttle_page(..., when=_uploads_a_file)`): it spends that budget.
        # Looked at here, after authentication, so only a signed-in caller's body is parsed.
        if self.action in ("create", "partial_update") and request.FILES:
            self.throttle_scope = "uploads"
        super().check_throttles(request)

    def _output(self, persona: PersonaProfile, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(persona).data, status=code)

    @extend_schema(
        summary="Create a custom persona",
        description=(
            "`owner` and `is_custom` are set by the server; such input is ignored. Send "
            "multipart/form-data to include an `avatar`."
        ),
        request={
            "application/json": PersonaInputSerializer,
            "multipart/form-data": PersonaInputSerializer,
        },
        responses={201: PersonaOutputSerializer},
    )
    def create(self, request: Request) -> Response:
        serializer = PersonaInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        persona = services.persona_create(owner=request.user, **serializer.service_input())
        return self._output(persona, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a persona",
        description=(
            "Your own personas; system personas only for staff (else 403). Only what "
            "differs is saved."
        ),
        request={
            "application/json": PersonaInputSerializer,
            "multipart/form-data": PersonaInputSerializer,
        },
        responses={200: PersonaOutputSerializer},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        persona = self.get_object()
        serializer = PersonaInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        persona = services.persona_update(
            persona=persona, user=request.user, **serializer.service_input()
        )
        return self._output(persona)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.persona_delete(persona=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Talk to this persona from now on",
        request=None,
        responses={200: PersonaOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def select(self, request: Request, pk: str | None = None) -> Response:
        persona = services.persona_select(user=request.user, persona=self.get_object())
        self.current_persona = persona
        return self._output(persona)

    @extend_schema(
        summary="The persona you are talking to",
        description="Falls back to the default persona when yours was deleted or deactivated.",
        responses={
            200: PersonaOutputSerializer,
            404: OpenApiResponse(ErrorSerializer, description="There is no persona to talk to."),
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def current(self, request: Request) -> Response:
        return cached_read(
            request,
            key=["personas:current", request.user.pk],
            depends_on=persona_versions(request.user),
            build=self._current_data,
        )

    def _current_data(self) -> dict:
        if self.current_persona is None:
            raise NotFound("There is no persona to talk to.")
        return self.get_serializer(self.current_persona).data

    @extend_schema(
        methods=["POST"],
        summary="Upload a new avatar",
        description="PNG, JPEG, WebP or GIF, checked by content, cropped square, at most 512 px.",
        request={"multipart/form-data": AvatarInputSerializer},
        responses={200: PersonaOutputSerializer},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove the avatar",
        description="The persona is shown with its placeholder again; the file is deleted.",
        request=None,
        responses={200: PersonaOutputSerializer},
    )
    @action(
        detail=True,
        methods=["post", "delete"],
        parser_classes=[MultiPartParser, FormParser],
        throttle_scope="uploads",
    )
    def avatar(self, request: Request, pk: str | None = None) -> Response:
        persona = self.get_object()
        upload = None
        if request.method == "POST":
            serializer = AvatarInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            upload = serializer.validated_data["avatar"]
        persona = services.persona_set_avatar(persona=persona, user=request.user, upload=upload)
        return self._output(persona)

    @extend_schema(
        summary="Export as a Character Card",
        description=(
            "A Character Card V2 as JSON, or with `?format=png` a PNG holding the card "
            "in `chara` (V2) and `ccv3` (V3) text chunks."
        ),
        parameters=[
            OpenApiParameter(
                "format", str, enum=["json", "png"], description="json (default) or png"
            )
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "image/png"): OpenApiTypes.BINARY,
        },
    )
    @action(detail=True, methods=["get"], filterset_class=None, throttle_scope="uploads")
    def card(self, request: Request, pk: str | None = None) -> HttpResponse:
        content, content_type, filename = services.persona_export_card(
            persona=self.get_object(), fmt=request.query_params.get("format", "json")
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response

    @extend_schema(
        summary="Import a Character Card",
        description=(
            "Creates a custom persona from a Character Card V1/V2/V3: a `.json` or `.png` "
            "file in the multipart field `card`, or the card JSON itself as the request body."
        ),
        request={
            "multipart/form-data": CardImportSerializer,
            "application/json": OpenApiTypes.OBJECT,
        },
        responses={201: PersonaOutputSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        throttle_scope="uploads",
        filterset_class=None,
    )
    def import_card(self, request: Request) -> Response:
        if request.content_type.startswith("application/json"):
            data = request.body
        else:
            serializer = CardImportSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data["card"].read()
        persona = services.persona_import_card(owner=request.user, data=data)
        return self._output(persona, status.HTTP_201_CREATED)
