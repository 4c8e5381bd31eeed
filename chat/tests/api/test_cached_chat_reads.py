"""The cached hot reads of chat: a conversation's messages and a persona's conversations.

Both are cached per caller until one of the caller's conversations or messages changes
(`chat.cache`): after every write the next read shows it, whichever way the write was made
(a save, an update in one statement, a delete), and a hit reads nothing but the caller.
"""

import pytest

from chat import services
from chat.models import ChatMessage, Conversation
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

# Really committed: the cached reads go stale when the write's transaction commits.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("system_personas")]

SEND = "/api/v1/chat/messages/"


def history_url(conversation: Conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/messages/"


def list_url(persona: PersonaProfile) -> str:
    return f"/api/v1/personas/{persona.pk}/conversations/"


def contents(client, conversation: Conversation) -> list[str]:
    response = client.get(history_url(conversation))
    assert response.status_code == 200, response.content
    return [message["content"] for message in response.json()["results"]]


def titles(client, persona: PersonaProfile) -> list[str]:
    response = client.get(list_url(persona))
    assert response.status_code == 200, response.content
    return [conversation["title"] for conversation in response.json()["results"]]


@pytest.fixture
def conversation(user):
    conversation = ConversationFactory(user=user, title="First")
    ChatMessageFactory(conversation=conversation, content="Hello")
    return conversation


def test_a_cached_history_reads_nothing(auth_api_client, conversation, django_assert_num_queries):
    contents(auth_api_client, conversation)
    with django_assert_num_queries(0):  # the client is signed in without a token
        assert contents(auth_api_client, conversation) == ["Hello"]


def test_a_cached_conversation_list_reads_only_the_persona(
    auth_api_client, conversation, django_assert_num_queries
):
    titles(auth_api_client, conversation.persona)
    with django_assert_num_queries(1):
        assert titles(auth_api_client, conversation.persona) == ["First"]


def test_history_shows_a_sent_message_and_its_reply(auth_api_client, conversation):
    assert contents(auth_api_client, conversation) == ["Hello"]
    sent = auth_api_client.post(
        SEND, {"message": "How are you?", "conversation": conversation.pk}, format="json"
    )
    assert sent.status_code == 201, sent.content
    reply = sent.json()["assistant_message"]["content"]
    assert contents(auth_api_client, conversation) == ["Hello", "How are you?", reply]


def test_history_shows_an_edit_a_selection_and_a_delete(auth_api_client, user, conversation):
    mine = conversation.messages.get()
    reply = ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        reply_to=mine,
        content="One",
        alternatives=["One", "Two"],
        selected=0,
    )
    assert contents(auth_api_client, conversation) == ["Hello", "One"]
    services.message_edit(user=user, message_id=mine.pk, text="Hi")
    assert contents(auth_api_client, conversation) == ["Hi", "One"]
    services.message_select(user=user, message_id=reply.pk, index=1)  # one UPDATE statement
    assert contents(auth_api_client, conversation) == ["Hi", "Two"]
    services.message_delete(user=user, message_id=mine.pk)
    assert contents(auth_api_client, conversation) == ["Two"]


def test_history_shows_a_regenerated_reply(auth_api_client, conversation):
    sent = auth_api_client.post(
        SEND, {"message": "Tell me about the sea", "conversation": conversation.pk}, format="json"
    ).json()
    reply = sent["assistant_message"]
    assert contents(auth_api_client, conversation)[-1] == reply["content"]
    regenerated = auth_api_client.post(f"/api/v1/chat/messages/{reply['id']}/regenerate/")
    assert regenerated.status_code == 200, regenerated.content
    new = regenerated.json()["assistant_message"]["content"]
    assert new != reply["content"]
    assert contents(auth_api_client, conversation)[-1] == new


def test_list_shows_a_rename_a_new_conversation_and_a_delete(auth_api_client, conversation):
    persona = conversation.persona
    assert titles(auth_api_client, persona) == ["First"]
    renamed = auth_api_client.patch(
        f"/api/v1/conversations/{conversation.pk}/", {"title": "Renamed"}, format="json"
    )
    assert renamed.status_code == 200, renamed.content
    assert titles(auth_api_client, persona) == ["Renamed"]
    started = auth_api_client.post(list_url(persona), {"title": "Second"}, format="json")
    assert started.status_code == 201, started.content
    assert sorted(titles(auth_api_client, persona)) == ["Renamed", "Second"]
    assert auth_api_client.delete(f"/api/v1/conversations/{conversation.pk}/").status_code == 204
    assert titles(auth_api_client, persona) == ["Second"]
    assert auth_api_client.get(history_url(conversation)).status_code == 404


def test_history_is_gone_with_its_custom_persona(auth_api_client, user):
    persona = PersonaFactory(owner=user, is_custom=True)
    conversation = ConversationFactory(user=user, persona=persona)
    ChatMessageFactory(conversation=conversation)
    assert auth_api_client.get(history_url(conversation)).status_code == 200
    persona.delete()
    assert auth_api_client.get(history_url(conversation)).status_code == 404


def test_another_users_cached_history_is_a_404(auth_api_client, api_client, conversation):
    assert auth_api_client.get(history_url(conversation)).status_code == 200
    stranger = ConversationFactory().user
    api_client.force_authenticate(stranger)
    assert api_client.get(history_url(conversation)).status_code == 404
    theirs = api_client.get(list_url(conversation.persona)).json()["results"]
    assert conversation.pk not in [shown["id"] for shown in theirs]
