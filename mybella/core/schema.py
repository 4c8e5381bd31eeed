"""The OpenAPI schema documents the errors every endpoint can answer, not only its success."""

from http import HTTPStatus
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

# Query parameters that page through a list: a bad value is a 404 (no such page), not a 400.
PAGINATION_PARAMETERS = {"page", "page_size", "cursor"}


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer that is not about particular fields."""

    detail = serializers.CharField(help_text="What went wrong, for a person to read.")


VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Each rejected field mapped to its messages (a list of strings, or an object for "
        "nested input); `non_field_errors` or `detail` for the input as a whole."
    ),
    "additionalProperties": {},
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers each operation can give.

    Whatever an operation documents itself wins; the rest follows from its shape: 400 for
    input (a body, query parameters, or any change), 401 where it needs a signed-in
    caller and 403 where such a caller changes something, 404 where the path names an
    object or the list is paged, 413 for a body, 429 where a throttle scope applies.
    """

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        has_body = "requestBody" in operation
        security = operation.get("security", [])
        signed_in = bool(security) and {} not in security
        unsafe = self.method not in {"GET", "HEAD", "OPTIONS"}
        errors = {
            "400": (
                "The input is invalid, or the operation is not possible in this state.",
                self._validation_error(),
                has_body or unsafe or bool(query - PAGINATION_PARAMETERS),
            ),
            "401": (
                "No valid credentials: send `Authorization: Token <key>` (or `Bearer <key>`) "
                "or sign in.",
                self._error(),
                signed_in,
            ),
            "403": (
                "Not allowed: a system persona (staff only), or a session without a CSRF token.",
                self._error(),
                signed_in and unsafe,
            ),
            "404": (
                "Not found: no such object, someone else's, or no such page.",
                self._error(),
                any(p["in"] == "path" for p in parameters) or bool(query & PAGINATION_PARAMETERS),
            ),
            "413": ("The request body is too large.", self._error(), has_body),
            "429": (
                "Too many requests; `Retry-After` says when to try again.",
                self._error(),
                bool(getattr(self.view, "throttle_scope", None)),
            ),
        }
        responses = operation["responses"]
        for code, (description, schema, applies) in errors.items():
            if applies and code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": schema}},
                    "description": description,
                }
        for code, response in responses.items():
            if not response.get("description"):  # an error a view declared without one
                known = errors.get(code)
                response["description"] = known[0] if known else HTTPStatus(int(code)).phrase
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error(self) -> dict:
        component = self.resolve_serializer(ErrorSerializer, "response")
        return component.ref

    def _validation_error(self) -> dict:
        component = ResolvedComponent(
            name="ValidationError",
            type=ResolvedComponent.SCHEMA,
            object="ValidationError",
            schema=VALIDATION_ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        return component.ref
