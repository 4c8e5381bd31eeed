import functools
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from memory import rules
from memory.models import PEOPLE_KINDS, ConversationMemory, MemoryEvent, UserPreference
from memory.recall import Recalled
from mybella.core import limits
from mybella.core.serializers import ModelSerializer, StrictCharField


class MemoryEventSerializer(ModelSerializer):
    class Meta:
        model = MemoryEvent
        fields = ["action", "actor", "content_before", "content_after", "created_at"]
        read_only_fields = fields


class MemorySerializer(ModelSerializer):
    source_message_ids = serializers.SerializerMethodField()

    class Meta:
        model = ConversationMemory
        fields = [
            "id",
            "persona",
            "content",
            "kind",
            "importance",
            "pinned",
            "happened_on",
            "superseded_by",
            "source_message_ids",
            "last_recalled_at",
            "covers_first_message",
            "covers_last_message",
            "covers_from",
            "covers_to",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "covers_first_message": {
                "help_text": "A summary's first message covered (null for other kinds)."
            },
            "covers_last_message": {"help_text": "A summary's last message covered."},
            "covers_from": {"help_text": "When a summary's first message was sent."},
            "covers_to": {"help_text": "When a summary's last message was sent."},
        }

    def get_source_message_ids(self, memory: ConversationMemory) -> list[int]:
        return sorted(message.id for message in memory.source_messages.all())


class MemoryDetailSerializer(MemorySerializer):
    # `history`: prefetched by `selectors.memory_list_visible(with_history=True)`.
    history = MemoryEventSerializer(many=True, read_only=True)

    class Meta(MemorySerializer.Meta):
        fields = [*MemorySerializer.Meta.fields, "history"]
        read_only_fields = fields


class MemoryInputSerializer(ModelSerializer):
    # What a client may set of a memory; the limits are the model's validators.
    kind = serializers.ChoiceField(
        choices=PEOPLE_KINDS,
        required=False,
        help_text="Summaries are written by MyBella alone: no memory is made one, or unmade.",
    )

    class Meta:
        model = ConversationMemory
        fields = ["content", "kind", "importance", "pinned"]


class MemoryListQuerySerializer(serializers.Serializer):
    superseded = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: list the memories newer ones replaced, instead of those that count.",
    )


class RecallTurnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = StrictCharField(help_text="user or assistant")
    content = StrictCharField(help_text="A snippet of the message.")
    created_at = serializers.DateTimeField()
    matches = serializers.BooleanField(help_text="Whether it holds a word of the query too.")


class RecallSerializer(serializers.Serializer):
    kind = StrictCharField(help_text="memory or message")
    id = serializers.IntegerField()
    content = StrictCharField(help_text="A snippet of the text around the match.")
    score = serializers.FloatField()
    source_message_ids = serializers.ListField(child=serializers.IntegerField())
    created_at = serializers.DateTimeField()
    said_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When it was said: a message's time, a memory's first source message's "
        "(null for a memory without sources).",
    )
    context = RecallTurnSerializer(
        many=True,
        help_text="For a message: the turns just before and after it in its conversation.",
    )

    def to_representation(self, item: Recalled) -> dict[str, Any]:
        """Return the declared fields' values of `item`, built directly.

        Every search serializes its results, and the generic walk over the fields (copied
        for each serializer, then one call per field and item) cost more than recall's
        queries. The fields stay declared for the schema; a test holds this to the generic
        `Serializer.to_representation`. The active time zone is read once per item, not
        once per date (a context-local lookup each).
        """
        render = _datetime(timezone.get_current_timezone() if settings.USE_TZ else None)
        created_at = render(item.created_at)
        if item.said_at is None:
            said_at = None
        else:
            said_at = created_at if item.said_at is item.created_at else render(item.said_at)
        return {
            "kind": item.kind,
            "id": item.id,
            "content": item.content,
            "score": float(item.score),
            "source_message_ids": list(item.source_message_ids),
            "created_at": created_at,
            "said_at": said_at,
            "context": [
                {
                    "id": turn.id,
                    "role": turn.role,
                    "content": turn.content,
                    "created_at": render(turn.created_at),
                    "matches": turn.matches,
                }
                for turn in item.context
            ],
        }


@functools.lru_cache(maxsize=64)
def _datetime(zone: tzinfo | None) -> Callable[[datetime], str | None]:
    # As every DateTimeField renders a value (ISO 8601, "Z" for UTC), in `zone`: a field
    # given a zone uses it instead of looking the active one up.
    return serializers.DateTimeField(default_timezone=zone).to_representation


class RecallQuerySerializer(serializers.Serializer):
    q = StrictCharField(
        max_length=limits.SEARCH_QUERY_MAX_CHARS,
        help_text=f"What to look for (at most {limits.SEARCH_QUERY_MAX_CHARS} characters).",
    )
    k = serializers.IntegerField(
        min_value=1, max_value=50, default=5, help_text="How many results (1–50, default 5)."
    )


class PreferenceSerializer(ModelSerializer):
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="null when an empty value removed it."
    )

    class Meta:
        model = UserPreference
        fields = ["key", "value", "updated_at"]
        read_only_fields = ["updated_at"]
        # The (user, persona, key) constraint is handled by the service's upsert.
        validators = []

    def validate(self, attrs: dict) -> dict:
        """Apply the key's rule (`memory.rules`), as the page's form does."""
        try:
            attrs["value"] = rules.clean_preference(attrs["key"], attrs.get("value", ""))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return attrs


class PreferenceMapSerializer(serializers.Serializer):
    """Several preferences at once: each member is a preference's key and its value."""

    def to_internal_value(self, data: object) -> dict[str, str]:
        if not isinstance(data, Mapping) or not data:
            raise serializers.ValidationError(
                {"non_field_errors": ["Give an object of preference keys and their values."]}
            )
        errors = {
            key: ["Give text (an empty string removes the preference)."]
            for key, value in data.items()
            if not isinstance(value, str)
        }
        if errors:
            raise serializers.ValidationError(errors)
        return {key: value for key, value in data.items()}  # a form's last value per key


class MemorySettingsSerializer(serializers.Serializer):
    remember = serializers.BooleanField()
