from django.urls import reverse
from django.utils.functional import lazy
from rest_framework import serializers

from mybella.core.schema import ErrorSerializer as ErrorSerializer  # the API's one error shape
from mybella.core.sentences import MAX_SENTENCE_CHARS
from mybella.core.serializers import ModelSerializer, StrictCharField
from personas.models import PersonaProfile
from voices import rules
from voices.audio import sample_help_text
from voices.models import CustomVoice, VoicePreset
from voices.selectors import persona_voice_of, voice_for_persona


class BlankAsNullURLField(serializers.URLField):
    """A URL the model keeps as "" when there is none: answered as null, never as "" (no URI)."""

    def to_representation(self, value: str) -> str | None:
        return value or None


class VoicePresetSerializer(ModelSerializer):
    labels = serializers.DictField(child=StrictCharField(), read_only=True)
    preview_url = BlankAsNullURLField(
        read_only=True, allow_null=True, help_text="ElevenLabs' own sample of the voice."
    )

    voice_id = StrictCharField(
        source="provider_voice_id",
        read_only=True,
        help_text="The provider's id of the voice: ElevenLabs' `voice_id`.",
    )

    class Meta:
        model = VoicePreset
        fields = [
            "id",
            "name",
            "provider",
            "voice_id",
            "description",
            "labels",
            "preview_url",
            "is_legacy",
        ]
        read_only_fields = fields


class CustomVoiceSerializer(ModelSerializer):
    sample_url = serializers.SerializerMethodField()

    class Meta:
        model = CustomVoice
        fields = [
            "id",
            "name",
            "status",
            "error",
            "format",
            "content_type",
            "duration",
            "size",
            "sample_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_sample_url(self, voice: CustomVoice) -> str:
        url = reverse("api:custom-voice-sample", kwargs={"pk": voice.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class CustomVoiceInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=CustomVoice._meta.get_field("name").max_length)
    sample = serializers.FileField(
        allow_empty_file=True,
        help_text=lazy(sample_help_text, str)(),  # read from settings when the schema is made
    )


class VoiceChoiceSerializer(serializers.Serializer):
    kind = StrictCharField(help_text="custom, preset or default.")
    name = StrictCharField()


class PersonaVoiceSerializer(serializers.Serializer):
    """A persona's voice: what was chosen, how it is shaped, and what it speaks with now.

    Serializes a persona (its voice row is `persona.voice`; without one, the defaults).
    """

    voice_preset = serializers.IntegerField(source="preset_id", allow_null=True, read_only=True)
    custom_voice = serializers.IntegerField(
        source="custom_voice_id", allow_null=True, read_only=True
    )
    stability = serializers.FloatField(read_only=True)
    similarity = serializers.FloatField(read_only=True)
    style = serializers.FloatField(read_only=True)
    speed = serializers.FloatField(read_only=True)
    model_id = StrictCharField(read_only=True)
    speaking_with = VoiceChoiceSerializer(read_only=True)

    def to_representation(self, persona: PersonaProfile) -> dict:
        voice, choice = persona_voice_of(persona), voice_for_persona(persona)
        return {
            "voice_preset": voice.preset_id,
            "custom_voice": voice.custom_voice_id,
            "stability": voice.stability,
            "similarity": voice.similarity,
            "style": voice.style,
            "speed": voice.speed,
            "model_id": voice.model_id,
            "speaking_with": {"kind": choice.kind, "name": choice.name},
        }


class PersonaVoiceInputSerializer(serializers.Serializer):
    """Fields left out keep their values; null clears a preset or a cloned voice."""

    voice_preset = serializers.PrimaryKeyRelatedField(
        queryset=VoicePreset.objects.all(), allow_null=True, required=False
    )
    custom_voice = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="One of your own cloned voices, not one whose cloning failed.",
    )
    stability = serializers.FloatField(required=False, **rules.setting_bounds("stability"))
    similarity = serializers.FloatField(required=False, **rules.setting_bounds("similarity"))
    style = serializers.FloatField(required=False, **rules.setting_bounds("style"))
    speed = serializers.FloatField(required=False, **rules.setting_bounds("speed"))
    model_id = serializers.RegexField(
        rules.MODEL_ID_PATTERN, max_length=rules.MODEL_ID_MAX_CHARS, required=False
    )


class SpeakSentenceInputSerializer(serializers.Serializer):
    text = StrictCharField(
        max_length=MAX_SENTENCE_CHARS,
        trim_whitespace=True,
        help_text=f"One sentence to say (at most {MAX_SENTENCE_CHARS} characters): a "
        "`sentence` event's `text` of a streamed reply.",
    )


class MessageSentencesSerializer(serializers.Serializer):
    sentences = serializers.ListField(
        child=StrictCharField(),
        help_text=f"What the reply says aloud, sentence by sentence (each at most "
        f"{MAX_SENTENCE_CHARS} characters): speak each with `speak/sentence/`.",
    )


class SpeakInputSerializer(serializers.Serializer):
    # Its length is the service's rule (SPEECH_MAX_CHARS): a longer text is a 400 from there.
    text = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        help_text="What to say (at most SPEECH_MAX_CHARS characters, 1000 by default); the "
        "persona's greeting when left out.",
    )
    stream = serializers.BooleanField(
        default=False, help_text="Send the audio while it is being made (ElevenLabs)."
    )
