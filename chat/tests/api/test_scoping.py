"""The chat API reaches conversations and messages only through personas the caller sees.

A conversation with a persona that was deactivated since is a 404 like someone else's:
for reading, deleting, sending into it and retrying in it. Persona-scoped routes resolve
their persona once, through `PersonaScopedMixin`. Every write goes through a service.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator

from chat.models import ChatMessage, Conversation
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from mybella.core.services import service_calls
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory, SystemPersonaFactory

pytestmark = pytest.mark.django_db

SEND = "/api/v1/chat/messages/"


def retry_url(reply_id: int) -> str:
    return f"/api/v1/chat/messages/{reply_id}/retry/"


@pytest.fixture
def retired(user):
    """A conversation of the user's with a system persona deactivated since, and a failed reply."""
    persona = SystemPersonaFactory(name="Retired")
    conversation = ConversationFactory(user=user, persona=persona)
    asked = ChatMessageFactory(conversation=conversation, content="are you there?")
    ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content="",
        status=ChatMessage.Status.FAILED,
        reply_to=asked,
    )
    PersonaProfile.objects.filter(pk=persona.pk).update(is_active=False)
    return conversation


def _reply(conversation: Conversation) -> ChatMessage:
    return conversation.messages.get(role=ChatMessage.Role.ASSISTANT)


# ---------------------------------------------------------------- hidden personas


@pytest.mark.parametrize("stream", [False, True])
def test_sending_into_a_conversation_whose_persona_is_hidden_is_404(
    auth_api_client, retired, stream
):
    response = auth_api_client.post(
        SEND,
        {"message": "still there?", "conversation": retired.pk, "stream": stream},
        format="json",
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert retired.messages.count() == 2


def test_retrying_in_a_conversation_whose_persona_is_hidden_is_404(auth_api_client, retired):
    reply = _reply(retired)
    response = auth_api_client.post(retry_url(reply.pk))
    assert response.status_code == 404
    reply.refresh_from_db()
    assert reply.status == ChatMessage.Status.FAILED


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("delete", ""), ("get", "messages/")])
def test_a_conversation_whose_persona_is_hidden_is_404(auth_api_client, retired, method, suffix):
    response = getattr(auth_api_client, method)(f"/api/v1/conversations/{retired.pk}/{suffix}")
    assert response.status_code == 404
    assert Conversation.objects.filter(pk=retired.pk).exists()


@pytest.mark.parametrize(
    "make_persona",
    [
        pytest.param(lambda other_user: PersonaFactory(owner=other_user), id="another-users"),
        pytest.param(lambda other_user: SystemPersonaFactory(is_active=False), id="inactive"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "conversations/", None),
        ("post", "conversations/", {"title": "Hi"}),
        ("post", "history/import/", [{"role": "user", "content": "hello"}]),
    ],
)
def test_persona_routes_of_a_hidden_persona_are_404(
    auth_api_client, other_user, make_persona, method, path, body
):
    persona = make_persona(other_user)
    ConversationFactory(user=other_user, persona=persona)
    response = getattr(auth_api_client, method)(
        f"/api/v1/personas/{persona.pk}/{path}", body, format="json"
    )
    assert response.status_code == 404
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize("count", [2, 40])
def test_listing_a_personas_conversations_costs_the_same(
    auth_api_client, user, luna, count, django_assert_max_num_queries
):
    """The persona (once), the count, and the page: whatever the number of conversations."""
    for _ in range(count):
        ChatMessageFactory(conversation=ConversationFactory(user=user, persona=luna))
    with django_assert_max_num_queries(3):
        response = auth_api_client.get(f"/api/v1/personas/{luna.pk}/conversations/")
    assert response.status_code == 200
    assert response.json()["count"] == count
    assert {c["message_count"] for c in response.json()["results"]} == {1}


# ---------------------------------------------------------------- input rules


def test_a_title_over_the_limit_is_400_and_starts_nothing(auth_api_client, luna):
    url = f"/api/v1/personas/{luna.pk}/conversations/"
    response = auth_api_client.post(url, {"title": "t" * 201}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()
    assert not Conversation.objects.exists()
    kept = auth_api_client.post(url, {"title": "t" * 200}, format="json")
    assert kept.status_code == 201
    assert kept.json()["title"] == "t" * 200


def test_a_multipart_import_without_a_file_is_400(auth_api_client, luna):
    response = auth_api_client.post(
        f"/api/v1/personas/{luna.pk}/history/import/", {"note": "no file"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"file": ["Attach the chat file."]}
    assert not Conversation.objects.exists()


# ---------------------------------------------------------------- reply_to in the output


def test_messages_say_which_message_a_reply_answers(auth_api_client, luna):
    """`reply_to` is the user message a reply answers; null on the user's own messages."""
    sent = auth_api_client.post(SEND, {"message": "hi", "persona": luna.pk}, format="json").json()
    assert sent["user_message"]["reply_to"] is None
    assert sent["assistant_message"]["reply_to"] == sent["user_message"]["id"]
    page = auth_api_client.get(f"/api/v1/conversations/{sent['conversation']}/messages/").json()
    by_id = {m["id"]: m["reply_to"] for m in page["results"]}
    assert by_id[sent["assistant_message"]["id"]] == sent["user_message"]["id"]
    greeting = page["results"][0]
    assert greeting["content"] == luna.greeting and greeting["reply_to"] is None


def test_reply_to_is_documented_as_a_nullable_message_id():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    reply_to = schema["components"]["schemas"]["ChatMessage"]["properties"]["reply_to"]
    assert reply_to["type"] == "integer"
    assert reply_to["nullable"] is True
    assert reply_to["readOnly"] is True
    assert reply_to["description"] == "The user's message this reply answers."


# ---------------------------------------------------------------- writes go through services


def _writes(user, luna):
    """Every writing chat API request, each one a valid request for a fresh conversation."""
    conversation = ConversationFactory(user=user, persona=luna)
    asked = ChatMessageFactory(conversation=conversation, content="are you there?")
    failed = ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content="",
        status=ChatMessage.Status.FAILED,
        reply_to=asked,
    )
    history = SimpleUploadedFile("chat.json", b'[{"role": "user", "content": "hello"}]')
    other = ConversationFactory(user=user, persona=luna)
    said = ChatMessageFactory(conversation=other, content="hello")
    answered = ChatMessageFactory(conversation=other, role="assistant", reply_to=said)
    return [
        ("post", f"{SEND}{answered.pk}/regenerate/", {}, "json"),
        ("post", f"{SEND}{answered.pk}/regenerate/", {"stream": True}, "json"),
        ("post", f"{SEND}{answered.pk}/select/", {"index": 0}, "json"),
        ("patch", f"{SEND}{said.pk}/", {"content": "hi"}, "json"),
        ("delete", f"{SEND}{said.pk}/", None, "json"),
        ("post", SEND, {"message": "hi", "conversation": conversation.pk}, "json"),
        ("post", SEND, {"message": "hi", "stream": True}, "json"),
        ("post", retry_url(failed.pk), None, "json"),
        ("post", f"/api/v1/personas/{luna.pk}/conversations/", {"title": "New"}, "json"),
        ("delete", f"/api/v1/conversations/{conversation.pk}/", None, "json"),
        (
            "post",
            f"/api/v1/personas/{luna.pk}/history/import/",
            [{"role": "user", "content": "hello"}],
            "json",
        ),
        ("post", f"/api/v1/personas/{luna.pk}/history/import/", {"file": history}, "multipart"),
    ]


def test_every_writing_view_calls_a_service(auth_api_client, user, luna):
    for method, url, body, fmt in _writes(user, luna):
        before = service_calls()
        response = getattr(auth_api_client, method)(url, body, format=fmt)
        assert response.status_code < 300, (method, url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
        assert service_calls() > before, (method, url)
