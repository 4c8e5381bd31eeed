"""The lean read paths of conversations and messages say exactly what the plain ones did."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from chat.api.serializers import ChatMessageSerializer, ConversationSerializer
from chat.models import ChatMessage, Conversation
from chat.tests.factories import ChatMessageFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def declared(message: ChatMessage) -> dict:
    """Return the representation DRF builds from the serializer's declared fields."""
    return serializers.ModelSerializer.to_representation(ChatMessageSerializer(), message)


def test_each_kind_of_message_reads_as_its_fields_say(user):
    conversation = ConversationFactory(user=user)
    asked = ChatMessageFactory(conversation=conversation, content="Hi <b>there</b> ✨")
    messages = [
        asked,
        ChatMessageFactory(
            conversation=conversation,
            role=ChatMessage.Role.ASSISTANT,
            reply_to=asked,
            content="second",
            alternatives=["first", "second"],
            selected=1,
            provider="offline",
            model="mybella-offline-1",
            token_estimate=2,
        ),
        ChatMessageFactory(
            conversation=conversation,
            role=ChatMessage.Role.ASSISTANT,
            reply_to=asked,
            content="",
            status=ChatMessage.Status.FAILED,
            error="The reply engine took too long to answer. Try again.",
        ),
    ]
    for message in ChatMessage.objects.filter(pk__in=[m.pk for m in messages]):
        assert ChatMessageSerializer(message).data == declared(message)


def test_a_conversation_reads_as_its_fields_say(user):
    titled = ConversationFactory(user=user, title="Trip <b>plans</b> ✨")
    untitled = ConversationFactory(user=user, title="")
    ChatMessageFactory.create_batch(2, conversation=titled)
    for conversation in Conversation.objects.filter(pk__in=[titled.pk, untitled.pk]):
        conversation.message_count = conversation.messages.count()
        lean = ConversationSerializer(conversation).data
        assert lean == serializers.ModelSerializer.to_representation(
            ConversationSerializer(), conversation
        )
    # Without the count annotated, both say 0 (the field's default).
    bare = Conversation.objects.get(pk=titled.pk)
    assert ConversationSerializer(bare).data["message_count"] == 0
    assert ConversationSerializer(bare).data == serializers.ModelSerializer.to_representation(
        ConversationSerializer(), bare
    )


def test_the_history_page_does_not_count_the_conversations_messages(auth_api_client, user):
    conversation = ConversationFactory(user=user)
    ChatMessageFactory.create_batch(3, conversation=conversation)
    with CaptureQueriesContext(connection) as queries:
        response = auth_api_client.get(f"/api/v1/conversations/{conversation.pk}/messages/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_conversation_lists_count_each_conversations_messages(auth_api_client, user):
    empty = ConversationFactory(user=user)
    busy = ConversationFactory(user=user)
    ChatMessageFactory.create_batch(3, conversation=busy)
    ChatMessageFactory.create_batch(2)  # someone else's
    listed = auth_api_client.get(f"/api/v1/personas/{busy.persona_id}/conversations/").json()
    assert {c["id"]: c["message_count"] for c in listed["results"]} == {empty.pk: 0, busy.pk: 3}
    one = auth_api_client.get(f"/api/v1/conversations/{busy.pk}/").json()
    assert one["message_count"] == 3


def test_a_conversation_lists_count_reads_no_messages(auth_api_client, user):
    conversation = ConversationFactory(user=user)
    ChatMessageFactory.create_batch(3, conversation=conversation)
    with CaptureQueriesContext(connection) as queries:
        response = auth_api_client.get(f"/api/v1/personas/{conversation.persona_id}/conversations/")
    assert response.status_code == 200
    counts = [q["sql"] for q in queries if q["sql"].upper().startswith("SELECT COUNT(")]
    assert counts
    assert not [sql for sql in counts if "chat_chatmessage" in sql]
