from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mybella.core.api import ScopedQuerysetMixin
from mybella.core.serializers import ModelSerializer, StrictCharField
from mybella.core.throttles import Limited, auth_attempt
from mybella.users.models import ApiToken
from mybella.users.selectors import api_token_list
from mybella.users.services import api_token_create, api_token_revoke, user_export


class TokenInputSerializer(serializers.Serializer):
    username = StrictCharField()
    password = StrictCharField(style={"input_type": "password"}, trim_whitespace=False)
    name = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="What will use this token, e.g. “my laptop”; shown in your token list.",
    )

    def validate(self, attrs: dict) -> dict:
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                _("Unable to log in with provided credentials."), code="authorization"
            )
        attrs["user"] = user
        return attrs


class NewTokenSerializer(serializers.Serializer):
    token = StrictCharField(
        help_text="The key: send it as `Authorization: Token <key>` (or `Bearer <key>`)."
    )
    expiry = serializers.DateTimeField(help_text="When the key stops working.")
    id = serializers.IntegerField(help_text="Revoke it with DELETE /api/v1/auth/tokens/{id}/.")


class ApiTokenSerializer(ModelSerializer):
    created = serializers.DateTimeField(source="created_at", read_only=True)
    expiry = serializers.DateTimeField(source="expires_at", read_only=True)
    last_used = serializers.DateTimeField(
        source="last_used_at",
        read_only=True,
        allow_null=True,
        help_text="To the minute; empty if never used.",
    )
    current = serializers.SerializerMethodField(help_text="Whether this request used it.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "expiry", "last_used", "current"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        request = self.context.get("request")
        return isinstance(getattr(request, "auth", None), ApiToken) and request.auth.pk == token.pk


class TokenView(APIView):
    """Trade a username and password for a new API token, or revoke the one you send."""

    # Sign-in attempts have their own limits, shared with the log-in pages.
    throttle_classes = []

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self.request.method == "DELETE" else [AllowAny()]

    @extend_schema(
        summary="Get a new API token",
        description=(
            "Each call makes a new token (one per device), valid for API_TOKEN_TTL_DAYS days. "
            "Send it back as `Authorization: Token <key>` (or `Bearer <key>`); it is shown only "
            "this once. "
            "Unauthenticated. Sign-in attempts are limited per client address and failed "
            "ones per account (429 with Retry-After); changing the password revokes all tokens."
        ),
        auth=[],
        request=TokenInputSerializer,
        responses={
            200: NewTokenSerializer,
            400: OpenApiResponse(description="Wrong credentials, or too many tokens"),
            429: OpenApiResponse(description="Too many sign-in attempts"),
        },
    )
    def post(self, request: Request) -> Response:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        try:
            attempt = auth_attempt(request, username=username)
        except Limited as limited:
            raise exceptions.Throttled(wait=limited.wait, detail=limited.title) from None
        serializer = TokenInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        attempt.succeeded()
        data = serializer.validated_data
        try:
            token, key = api_token_create(user=data["user"], name=data.get("name", ""))
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"detail": " ".join(error.messages)}) from None
        return Response({"token": key, "expiry": token.expires_at, "id": token.pk})

    @extend_schema(
        summary="Revoke the API token of this request",
        request=None,
        responses={
            204: None,
            400: OpenApiResponse(description="The request was not made with a token"),
        },
    )
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise exceptions.ValidationError(
                {"detail": _("This request did not use a token; revoke one by its id instead.")}
            )
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="List your API tokens",
        description="The tokens that still work, newest first; never their keys.",
    ),
    destroy=extend_schema(
        summary="Revoke one of your API tokens",
        description="The key stops working at once. Another user's token is a 404.",
    ),
)
class ApiTokenViewSet(
    ScopedQuerysetMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The caller's API tokens."""

    serializer_class = ApiTokenSerializer

    def scoped_queryset(self, user: object) -> QuerySet[ApiToken]:
        return api_token_list(user=user)

    def perform_destroy(self, instance: ApiToken) -> None:
        api_token_revoke(token=instance)


class ExportView(APIView):
    """Everything MyBella keeps about you, as one JSON document.

    Built whole for each request, so it shares the "uploads" rate (THROTTLE_UPLOADS) with
    the conversation export and the imports: a long history is not rebuilt without end.
    """

    throttle_scope = "uploads"

    @extend_schema(
        summary="Export all your data",
        description="Throttled with uploads (THROTTLE_UPLOADS).",
        responses={200: inline_serializer("Export", {"user": serializers.DictField()})},
    )
    def get(self, request: Request) -> Response:
        response = Response(user_export(user=request.user))
        response["Content-Disposition"] = 'attachment; filename="mybella-export.json"'
        return response
