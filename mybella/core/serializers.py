"""The API's text fields take text only.

DRF's `CharField` turns a number into its digits: `{"message": 123}` was sent as the message
"123", and a persona named 123 was made (found probing the API). Every text field of the
API's serializers is a `StrictCharField`, declared or made by `ModelSerializer` from a model's
`CharField` or `TextField`, so a number where text goes is a 400 like a list or an object.
"""

from typing import Any

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """DRF's `CharField`, refusing anything but a string ("Not a valid string.")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# DRF's `ModelSerializer`, making `StrictCharField`s of the model's text fields. (No docstring:
# the API schema would describe every serializer without one of its own with it.)
class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }
