from rest_framework import serializers

from mybella.core import limits
from personas.models import CommunicationStyle, PersonaProfile


class TraitsField(serializers.ListField):
    child = serializers.CharField(max_length=PersonaProfile.TRAIT_MAX_LENGTH, allow_blank=True)

    def to_internal_value(self, data: object) -> list[str]:
        traits: list[str] = []
        for trait in super().to_internal_value(data):
            trait = trait.strip()
            if trait and trait.lower() not in {t.lower() for t in traits}:
                traits.append(trait)
        if len(traits) > PersonaProfile.TRAITS_MAX:
            raise serializers.ValidationError(f"Give at most {PersonaProfile.TRAITS_MAX} traits.")
        return traits


class PersonaInputSerializer(serializers.Serializer):
    """What a client may set on a persona; everything else is the server's to decide."""

    name = serializers.CharField(max_length=PersonaProfile.NAME_MAX_LENGTH)
    tagline = serializers.CharField(
        max_length=limits.PERSONA_TAGLINE_MAX_CHARS, required=False, allow_blank=True
    )
    bio = serializers.CharField(
        max_length=limits.PERSONA_BIO_MAX_CHARS, required=False, allow_blank=True
    )
    traits = TraitsField(required=False)
    communication_style = serializers.ChoiceField(
        choices=CommunicationStyle.choices, required=False
    )
    communication_notes = serializers.CharField(
        max_length=limits.PERSONA_NOTES_MAX_CHARS, required=False, allow_blank=True
    )
    greeting = serializers.CharField(
        max_length=limits.PERSONA_GREETING_MAX_CHARS, required=False, allow_blank=True
    )
    example_dialogue = serializers.CharField(
        max_length=limits.PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS, required=False, allow_blank=True
    )
    system_prompt = serializers.CharField(
        max_length=limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS, required=False, allow_blank=True
    )


class PersonaOutputSerializer(serializers.ModelSerializer):
    avatar_url = serializers.SerializerMethodField()
    kind = serializers.CharField(read_only=True)
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
            "voice_preset",
            "custom_voice",
            "voice_stability",
            "voice_similarity",
            "voice_style",
            "voice_speed",
            "voice_model_id",
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


class AvatarInputSerializer(serializers.Serializer):
    avatar = serializers.FileField(allow_empty_file=True)


class CardImportSerializer(serializers.Serializer):
    card = serializers.FileField(
        allow_empty_file=True,
        help_text="A Character Card V1/V2/V3 as a .json file or a .png with the card inside.",
    )
