from rest_framework import serializers

from chat.models import ChatMessage, Conversation
from mybella.core.serializers import ModelSerializer, StrictCharField

_DATETIME = serializers.DateTimeField()


class ChatMessageSerializer(ModelSerializer):
    alternatives = serializers.ListField(
        child=StrictCharField(),
        source="texts",
        read_only=True,
        help_text=(
            "A reply's texts, oldest first: one, or more once it was regenerated. The "
            "selected one is `content`."
        ),
    )

    class Meta:
        model = ChatMessage
        fields = [
            "id",
            "conversation",
            "persona",
            "role",
            "reply_to",
            "content",
            "alternatives",
            "selected",
            "status",
            "error",
            "provider",
            "model",
            "token_estimate",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, message: ChatMessage) -> dict:
        # The history page's hot path: the same output as the fields above (a test compares
        # them) without building and walking those fields for every row.
        return {
            "id": message.pk,
            "conversation": message.conversation_id,
            "persona": message.persona_id,
            "role": message.role,
            "reply_to": message.reply_to_id,
            "content": message.content,
            "alternatives": message.texts,
            "selected": message.selected,
            "status": message.status,
            "error": message.error,
            "provider": message.provider,
            "model": message.model,
            "token_estimate": message.token_estimate,
            "created_at": _DATETIME.to_representation(message.created_at),
        }


class ConversationSerializer(ModelSerializer):
    message_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Conversation
        fields = ["id", "persona", "title", "message_count", "created_at", "updated_at"]
        read_only_fields = ["id", "persona", "message_count", "created_at", "updated_at"]

    def to_representation(self, conversation: Conversation) -> dict:
        # The conversation list's hot path: the fields above, without building them per row.
        return {
            "id": conversation.pk,
            "persona": conversation.persona_id,
            "title": conversation.title,
            "message_count": getattr(conversation, "message_count", 0),
            "created_at": _DATETIME.to_representation(conversation.created_at),
            "updated_at": _DATETIME.to_representation(conversation.updated_at),
        }


class ConversationInputSerializer(ModelSerializer):
    """A new conversation; its title is optional."""

    class Meta:
        model = Conversation
        fields = ["title"]


class ConversationRenameSerializer(ModelSerializer):
    """A conversation's new title: one line, not empty."""

    class Meta:
        model = Conversation
        fields = ["title"]
        extra_kwargs = {
            "title": {
                "required": True,
                "allow_blank": False,
                "error_messages": {
                    "required": "Give the conversation a title.",
                    "blank": "Give the conversation a title.",
                },
            }
        }


class MessageSendInputSerializer(serializers.Serializer):
    message = StrictCharField(
        trim_whitespace=True, help_text="What you say. The persona answers it."
    )
    persona = serializers.IntegerField(
        required=False, help_text="Persona id; defaults to your current persona."
    )
    conversation = serializers.IntegerField(
        required=False, help_text="Conversation id; defaults to the pair's latest."
    )
    stream = serializers.BooleanField(
        required=False, default=False, help_text="Stream the reply as Server-Sent Events."
    )


class ExchangeSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    user_message = ChatMessageSerializer()
    assistant_message = ChatMessageSerializer()
    offline = serializers.BooleanField(help_text="True when the offline engine answered.")


class ExchangeErrorSerializer(ExchangeSerializer):
    detail = StrictCharField()


class HistoryItemSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["user", "assistant", "system"])
    content = StrictCharField()
    created_at = serializers.DateTimeField(required=False)


class HistoryImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A JSON list of {role, content, created_at} or a SillyTavern .jsonl chat.",
        error_messages={"required": "Attach the chat file."},
    )


class HistoryImportResultSerializer(serializers.Serializer):
    conversation = ConversationSerializer()
    imported = serializers.IntegerField()


class MessageEditInputSerializer(serializers.Serializer):
    content = StrictCharField(
        trim_whitespace=True,
        allow_blank=True,  # the service says what is wrong with an empty text
        help_text="The message's new text (a reply's selected alternative).",
    )


class MessageSelectInputSerializer(serializers.Serializer):
    index = serializers.IntegerField(
        min_value=0, max_value=32767, help_text="Which alternative to show, from 0."
    )


class MessageRegenerateInputSerializer(serializers.Serializer):
    stream = serializers.BooleanField(
        required=False, default=False, help_text="Stream the new text as Server-Sent Events."
    )
