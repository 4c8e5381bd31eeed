"""How the OpenAPI schema documents what a serializer's fields can't say."""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension

from mybella.core import limits


class PreferenceMapExtension(OpenApiSerializerExtension):
    """`PreferenceMapSerializer` is an object of any keys, each a preference and its value."""

    target_class = "memory.api.serializers.PreferenceMapSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "description": (
                "Preference keys (letters, digits, _ and -, at most "
                f"{limits.PREFERENCE_KEY_MAX_CHARS} characters) and their values, set all at "
                "once or not at all; an empty value removes that preference."
            ),
            "minProperties": 1,
            # A body with a "key" member is one preference (`PreferenceRequest`) instead.
            "not": {"required": ["key"]},
            "additionalProperties": {
                "type": "string",
                "maxLength": limits.PREFERENCE_VALUE_MAX_CHARS,
            },
        }
