"""Going back to conversations: list, rename, delete (memories follow), export and import back."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.throttling import ScopedRateThrottle

from chat.models import ChatMessage, Conversation
from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory.models import ConversationMemory, MemoryEvent
from mybella.core.services import service_calls
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory, SystemPersonaFactory

pytestmark = pytest.mark.django_db

SEND = "/api/v1/chat/messages/"


def detail(conversation: Conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/"


def export_url(conversation: Conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/export/"


def _lines(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    assert body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]


# ---------------------------------------------------------------- list and titles


def test_a_conversation_is_titled_once_from_its_first_message(auth_api_client, user, isabella):
    first = auth_api_client.post(
        SEND, {"message": "Tell me   about\nthe sea", "persona": isabella.pk}, format="json"
    )
    assert first.status_code == 201
    conversation = Conversation.objects.get(pk=first.json()["conversation"])
    assert conversation.title == "Tell me about the sea"
    auth_api_client.post(
        SEND,
        {"message": "And mountains?", "conversation": conversation.pk},
        format="json",
    )
    conversation.refresh_from_db()
    assert conversation.title == "Tell me about the sea"


def test_a_long_first_message_makes_a_title_cut_at_a_word(auth_api_client, isabella):
    text = "I have been thinking about moving to a small town near the coast because " * 3
    response = auth_api_client.post(SEND, {"message": text, "persona": isabella.pk}, format="json")
    title = Conversation.objects.get(pk=response.json()["conversation"]).title
    assert title.endswith("…")
    assert len(title) <= 60
    assert text.startswith(title[:-1])
    assert title[:-1] == title[:-1].rstrip()


def test_list_is_newest_activity_first_with_titles(auth_api_client, user, isabella):
    old = ConversationFactory(user=user, persona=isabella, title="Old one")
    new = ConversationFactory(user=user, persona=isabella, title="New one")
    Conversation.objects.filter(pk=old.pk).update(updated_at=datetime(2024, 1, 1, tzinfo=UTC))
    # Talking in the older one again brings it to the top.
    auth_api_client.post(SEND, {"message": "hello again", "conversation": old.pk}, format="json")
    response = auth_api_client.get(f"/api/v1/personas/{isabella.pk}/conversations/")
    assert response.status_code == 200
    titles = [item["title"] for item in response.json()["results"]]
    assert titles == ["Old one", "New one"]
    assert new.pk in [item["id"] for item in response.json()["results"]]


# ---------------------------------------------------------------- rename


def test_rename_changes_the_title_alone(auth_api_client, user, isabella):
    conversation = ConversationFactory(user=user, persona=isabella, title="Before")
    other = SystemPersonaFactory(name="Other")
    before = service_calls()
    response = auth_api_client.patch(
        detail(conversation),
        {"title": "  Our  trip\nplans ", "persona": other.pk, "user": 999, "id": 5},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert service_calls() > before
    body = response.json()
    assert body["title"] == "Our trip plans"
    assert body["id"] == conversation.pk
    conversation.refresh_from_db()
    assert (conversation.title, conversation.persona_id, conversation.user_id) == (
        "Our trip plans",
        isabella.pk,
        user.pk,
    )


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"title": ""},
        {"title": " "},
        {"title": "x" * 201},
        {"title": "\x00"},
        {"title": ["a"]},
        # Shows nothing (found probing the API).
        {"title": "\u200b"},
        {"title": "\u3164\u200d"},
    ],
)
def test_a_bad_title_is_a_400_and_changes_nothing(auth_api_client, user, isabella, payload):
    conversation = ConversationFactory(user=user, persona=isabella, title="Kept")
    response = auth_api_client.patch(detail(conversation), payload, format="json")
    assert response.status_code == 400
    assert "title" in response.json() or "detail" in response.json()
    conversation.refresh_from_db()
    assert conversation.title == "Kept"


def test_a_title_loses_its_reordering_marks(auth_api_client, user, isabella):
    """A title is one line: a right-to-left override would flip the list around it."""
    conversation = ConversationFactory(user=user, persona=isabella, title="Kept")
    response = auth_api_client.patch(
        detail(conversation), {"title": "Trip\u202e to Porto"}, format="json"
    )
    assert response.status_code == 200, response.json()
    conversation.refresh_from_db()
    assert conversation.title == "Trip to Porto"


def test_put_is_not_a_way_to_rename(auth_api_client, user, isabella):
    conversation = ConversationFactory(user=user, persona=isabella, title="Kept")
    response = auth_api_client.put(detail(conversation), {"title": "New"}, format="json")
    assert response.status_code == 405
    conversation.refresh_from_db()
    assert conversation.title == "Kept"


# ---------------------------------------------------------------- scoping


@pytest.mark.parametrize("method", ["get", "patch", "delete", "export"])
def test_another_users_conversation_is_a_404(auth_api_client, other_user, isabella, method):
    theirs = ConversationFactory(user=other_user, persona=isabella, title="Theirs")
    ChatMessageFactory(conversation=theirs, content="their secret")
    if method == "export":
        response = auth_api_client.get(export_url(theirs))
    else:
        response = getattr(auth_api_client, method)(detail(theirs), {"title": "x"}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"
    assert theirs.messages.count() == 1


def test_a_conversation_with_a_retired_persona_cannot_be_renamed_or_exported(auth_api_client, user):
    persona = SystemPersonaFactory(name="Retired")
    conversation = ConversationFactory(user=user, persona=persona, title="Kept")
    PersonaProfile.objects.filter(pk=persona.pk).update(is_active=False)
    assert auth_api_client.patch(detail(conversation), {"title": "x"}).status_code == 404
    assert auth_api_client.get(export_url(conversation)).status_code == 404


def test_signed_out_is_a_401(api_client, user, isabella):
    conversation = ConversationFactory(user=user, persona=isabella)
    assert api_client.get(export_url(conversation)).status_code == 401
    assert api_client.patch(detail(conversation), {"title": "x"}).status_code == 401


# ---------------------------------------------------------------- delete and memories


def test_delete_forgets_memories_only_from_its_messages(auth_api_client, user, isabella):
    """A memory from its messages alone goes; one with another source stays, as do the user's."""
    doomed = ConversationFactory(user=user, persona=isabella)
    kept = ConversationFactory(user=user, persona=isabella)
    said = ChatMessageFactory(conversation=doomed, content="I have a cat called Miso")
    elsewhere = ChatMessageFactory(conversation=kept, content="Miso is a cat")
    only_here = MemoryFactory(user=user, persona=isabella, content="Has a cat called Miso")
    only_here.source_messages.set([said])
    shared = MemoryFactory(user=user, persona=isabella, content="Likes cats")
    shared.source_messages.set([said, elsewhere])
    written = MemoryFactory(user=user, persona=isabella, content="Lives in Lisbon")

    response = auth_api_client.delete(detail(doomed))

    assert response.status_code == 204
    assert not Conversation.objects.filter(pk=doomed.pk).exists()
    assert not ChatMessage.objects.filter(pk=said.pk).exists()
    remaining = set(ConversationMemory.objects.values_list("content", flat=True))
    assert remaining == {"Likes cats", "Lives in Lisbon"}
    shared.refresh_from_db()
    assert list(shared.source_messages.values_list("id", flat=True)) == [elsewhere.pk]
    event = MemoryEvent.objects.get(action=MemoryEvent.Action.DELETED)
    assert event.content_before == "Has a cat called Miso"
    assert written.pk in set(ConversationMemory.objects.values_list("id", flat=True))


def test_a_deleted_conversations_memory_no_longer_comes_back_in_a_search(
    auth_api_client, user, isabella
):
    conversation = ConversationFactory(user=user, persona=isabella)
    said = ChatMessageFactory(conversation=conversation, content="My sister is called Ines")
    memory = MemoryFactory(user=user, persona=isabella, content="Has a sister called Ines")
    memory.source_messages.set([said])
    search = f"/api/v1/personas/{isabella.pk}/memories/search/"
    found = auth_api_client.get(search, {"q": "sister Ines"}).json()
    assert "Has a sister called Ines" in [hit["content"] for hit in found]

    assert auth_api_client.delete(detail(conversation)).status_code == 204

    assert auth_api_client.get(search, {"q": "sister Ines"}).json() == []


def test_delete_leaves_other_users_memories_alone(auth_api_client, user, other_user, isabella):
    mine = ConversationFactory(user=user, persona=isabella)
    ChatMessageFactory(conversation=mine)
    theirs = ConversationFactory(user=other_user, persona=isabella)
    their_message = ChatMessageFactory(conversation=theirs)
    their_memory = MemoryFactory(user=other_user, persona=isabella)
    their_memory.source_messages.set([their_message])
    assert auth_api_client.delete(detail(mine)).status_code == 204
    assert ConversationMemory.objects.filter(pk=their_memory.pk).exists()


# ---------------------------------------------------------------- export and import


def _exchange(conversation: Conversation, start: datetime) -> list[ChatMessage]:
    texts = [
        (ChatMessage.Role.ASSISTANT, "*waves* Hello there, traveller."),
        (ChatMessage.Role.USER, 'Hi! I\'m Ana. Ünïcödé and "quotes" and\nnew lines.'),
        (ChatMessage.Role.ASSISTANT, "Nice to meet you, Ana."),
        (ChatMessage.Role.USER, "What's for dinner?"),
    ]
    messages = []
    for offset, (role, text) in enumerate(texts):
        message = ChatMessageFactory(conversation=conversation, role=role, content=text)
        ChatMessage.objects.filter(pk=message.pk).update(
            created_at=start + timedelta(minutes=offset, milliseconds=offset * 7)
        )
        messages.append(message)
    return messages


def test_an_export_is_named_after_its_persona_and_title_in_any_script(auth_api_client, user):
    """The probe's report: a persona named in another script exported as `hi-8.jsonl`."""
    persona = SystemPersonaFactory(name="ユキ", slug="yuki")
    conversation = ConversationFactory(user=user, persona=persona, title="Привет, друг")
    response = auth_api_client.get(export_url(conversation))
    assert response.status_code == 200
    name = quote(f"ユキ-привет-друг-{conversation.pk}.jsonl")
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{name}"


def test_a_long_name_in_a_wide_script_makes_a_short_header(auth_api_client, user):
    """One character can normalise to 18 (U+FDFA): 80 of them made a 7.5 KB header, over
    many proxies' limits and a file system's 255 bytes a name (found probing the API)."""
    persona = PersonaFactory(owner=user, name="\ufdfa" * 80)
    conversation = ConversationFactory(user=user, persona=persona, title="\ufdfa" * 80)
    exported = auth_api_client.get(export_url(conversation))
    card = auth_api_client.get(f"/api/v1/personas/{persona.pk}/card/")
    for response in (exported, card):
        assert response.status_code == 200
        header = response["Content-Disposition"]
        name = unquote(header.split("''", 1)[1])
        assert header.startswith("attachment; filename*=utf-8''")
        assert len(name.encode()) <= 255 and len(header) < 1200, len(header)


def test_export_is_a_sillytavern_chat(auth_api_client, user, isabella):
    user.first_name = "Ana"
    user.save()
    conversation = ConversationFactory(user=user, persona=isabella, title="Dinner talk")
    _exchange(conversation, datetime(2025, 3, 4, 5, 6, 7, 123000, tzinfo=UTC))
    ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content="",
        status=ChatMessage.Status.FAILED,
    )

    response = auth_api_client.get(export_url(conversation))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="isabella-dinner-talk-{conversation.pk}.jsonl"'
    )
    header, *lines = _lines(response)
    assert header["user_name"] == "Ana"
    assert header["character_name"] == "Isabella"
    assert "chat_metadata" in header
    assert "mes" not in header
    assert len(lines) == 4  # the failed, empty reply is left out
    assert lines[0] == {
        "name": "Isabella",
        "is_user": False,
        "is_system": False,
        "send_date": "2025-03-04T05:06:07.123Z",
        "mes": "*waves* Hello there, traveller.",
        "extra": {},
    }
    assert lines[1]["name"] == "Ana"
    assert lines[1]["is_user"] is True
    assert lines[1]["send_date"] == "2025-03-04T05:07:07.130Z"


def test_export_asked_for_as_jsonl_is_answered(auth_api_client, user, isabella):
    conversation = ConversationFactory(user=user, persona=isabella)
    response = auth_api_client.get(export_url(conversation), HTTP_ACCEPT="application/jsonl")
    assert response.status_code == 200
    missing = auth_api_client.get(
        "/api/v1/conversations/999999/export/", HTTP_ACCEPT="application/jsonl"
    )
    assert missing.status_code == 404
    assert json.loads(missing.content) == {"detail": "Not found."}


def test_export_then_import_gives_back_the_same_conversation(auth_api_client, user, isabella):
    """Same texts, order, speakers and times (to the millisecond, as SillyTavern keeps them)."""
    conversation = ConversationFactory(user=user, persona=isabella, title="Round trip")
    _exchange(conversation, datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC))
    original = list(conversation.messages.order_by("created_at", "id"))
    exported = b"".join(auth_api_client.get(export_url(conversation)).streaming_content)

    response = auth_api_client.post(
        f"/api/v1/personas/{isabella.pk}/history/import/",
        {"file": SimpleUploadedFile("chat.jsonl", exported)},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["imported"] == len(original)
    back = Conversation.objects.get(pk=response.json()["conversation"]["id"])
    assert back.title == 'Hi! I\'m Ana. Ünïcödé and "quotes" and new lines.'
    copied = list(back.messages.order_by("created_at", "id"))

    def shape(messages: list[ChatMessage]) -> list[tuple]:
        return [
            (m.role, m.content, m.created_at.replace(microsecond=m.created_at.microsecond // 1000))
            for m in messages
        ]

    assert shape(copied) == shape(original)


def test_export_is_throttled_like_file_uploads(auth_api_client, user, isabella, monkeypatch):
    """Export shares the "uploads" rate (THROTTLE_UPLOADS) with imports."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "uploads", "2/min")
    conversation = ConversationFactory(user=user, persona=isabella)
    codes = [auth_api_client.get(export_url(conversation)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_reading_conversations_is_bounded_in_queries(
    auth_api_client, user, isabella, django_assert_max_num_queries
):
    for _ in range(5):
        conversation = ConversationFactory(user=user, persona=isabella)
        ChatMessageFactory.create_batch(3, conversation=conversation)
    with django_assert_max_num_queries(8):
        response = auth_api_client.get(export_url(conversation))
        assert len(_lines(response)) == 4
