from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from mybella.core.serializers import ModelSerializer, StrictCharField
from personas import rules
from personas.models import PersonaProfile
from personas.sections import persona_sections, shown_sections


class TraitsField(serializers.ListField):
    """A list of traits, cleaned strictly (`personas.rules`): too many or too long is a 400."""

    child = StrictCharField(allow_blank=True, trim_whitespace=False)

    def to_internal_value(self, data: object) -> list[str]:
        try:
            return rules.clean_traits(super().to_internal_value(data), mode="strict")
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class PersonaInputSerializer(ModelSerializer):
    """What a client may set on a persona; everything else is the server's to decide.

    The fields, their limits and choices come from the model. It only validates: the
    persona services write. Each registered persona section adds its input, nested under
    its name.
    """

    traits = TraitsField(required=False)
    avatar = serializers.FileField(
        required=False,
        allow_empty_file=True,
        help_text="PNG, JPEG, WebP or GIF, checked by content, cropped square, at most 512 px "
        "(multipart requests only).",
    )

    class Meta:
        model = PersonaProfile
        fields = [*PersonaProfile.EDITABLE_FIELDS, "avatar"]
        # The name is unique per owner: the services know the owner, and say so.
        validators: list = []

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for section in persona_sections:
            fields[section.name] = section.serializer_class(required=False)
        return fields

    def service_input(self) -> dict:
        """Split the validated data into the services' `fields`, `avatar` and `sections`."""
        data = dict(self.validated_data)
        avatar = data.pop("avatar", None)
        sections = {s.name: data.pop(s.name) for s in persona_sections if s.name in data}
        return {"fields": data, "avatar": avatar, "sections": sections}


class PersonaOutputSerializer(ModelSerializer):
    avatar_url = serializers.SerializerMethodField()
    kind = StrictCharField(read_only=True)
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = PersonaProfile
        fields = [
            "id",
            "slug",
            "kind",
            "is_custom",
            "is_current",
            *PersonaProfile.EDITABLE_FIELDS,
            "avatar_url",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_avatar_url(self, persona: PersonaProfile) -> str | None:
        if not persona.avatar:
            return None
        url = persona.avatar.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_is_current(self, persona: PersonaProfile) -> bool:
        return persona.pk == self.context.get("current_persona_id")

    def to_representation(self, persona: PersonaProfile) -> dict:
        data = super().to_representation(persona)
        for section in shown_sections(listing=self.context.get("listing", False)):
            data |= section.represent(persona)
        return data


class AvatarInputSerializer(serializers.Serializer):
    avatar = serializers.FileField(allow_empty_file=True)


class CardImportSerializer(serializers.Serializer):
    card = serializers.FileField(
        allow_empty_file=True,
        help_text="A Character Card V1/V2/V3 as a .json file or a .png with the card inside.",
    )
