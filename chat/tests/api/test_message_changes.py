"""Regenerate, select, edit and delete messages, and what memory does when they change.

A regenerated reply keeps its earlier texts as alternatives; the selected one is its
content, the only text prompts, memory and search read. An edited message of the user's
is learned from again; a deleted one is forgotten.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import PENDING_STALE_AFTER, ChatMessage
from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory.models import ConversationMemory, MemoryEvent
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db

SEND = "/api/v1/chat/messages/"


def message_url(pk: int, action: str = "") -> str:
    return f"/api/v1/chat/messages/{pk}/{action + '/' if action else ''}"


def sse(chunk: bytes) -> tuple[str, dict]:
    event, data = chunk.decode().strip().split("\n")
    return event.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def chat_prompts(llm) -> list[list[dict]]:
    return [body["messages"] for path, body, _ in llm.requests if path == "/v1/chat/completions"]


def _send(client, text: str, **extra) -> dict:
    response = client.post(SEND, {"message": text, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# ---------------------------------------------------------------- regenerate and select


def test_regenerate_adds_an_alternative_and_keeps_the_earlier(auth_api_client, user):
    """Offline, each regeneration says something else; every text stays, the new one shown."""
    sent = _send(auth_api_client, "Tell me about the sea")
    reply = sent["assistant_message"]
    assert (reply["alternatives"], reply["selected"]) == ([reply["content"]], 0)

    first = auth_api_client.post(message_url(reply["id"], "regenerate"), format="json")
    assert first.status_code == 200, first.content
    again = auth_api_client.post(message_url(reply["id"], "regenerate"), format="json").json()

    shown = again["assistant_message"]
    assert shown["id"] == reply["id"]
    assert shown["selected"] == 2
    assert len(shown["alternatives"]) == 3
    assert shown["alternatives"][0] == reply["content"]
    assert len(set(shown["alternatives"])) == 3
    assert shown["content"] == shown["alternatives"][2]
    stored = ChatMessage.objects.get(pk=reply["id"])
    assert (stored.content, stored.status) == (shown["alternatives"][2], "ok")


def test_select_makes_an_alternative_the_content(auth_api_client, user):
    sent = _send(auth_api_client, "Tell me about the sea")
    reply_id = sent["assistant_message"]["id"]
    auth_api_client.post(message_url(reply_id, "regenerate"), format="json")

    picked = auth_api_client.post(message_url(reply_id, "select"), {"index": 0}, format="json")

    assert picked.status_code == 200, picked.content
    assert picked.json()["selected"] == 0
    assert picked.json()["content"] == sent["assistant_message"]["content"]
    assert ChatMessage.objects.get(pk=reply_id).content == sent["assistant_message"]["content"]


@pytest.mark.parametrize("index", [2, -1, "one", None])
def test_select_out_of_range_is_a_400_and_changes_nothing(auth_api_client, user, index):
    sent = _send(auth_api_client, "Tell me about the sea")
    reply_id = sent["assistant_message"]["id"]
    auth_api_client.post(message_url(reply_id, "regenerate"), format="json")
    before = ChatMessage.objects.get(pk=reply_id)

    response = auth_api_client.post(
        message_url(reply_id, "select"), {"index": index}, format="json"
    )

    assert response.status_code == 400
    after = ChatMessage.objects.get(pk=reply_id)
    assert (after.content, after.selected, after.alternatives) == (
        before.content,
        before.selected,
        before.alternatives,
    )


def test_only_the_latest_reply_can_be_regenerated(auth_api_client, user):
    """An earlier reply and a user's message are 400s; nothing is asked of the engine."""
    first = _send(auth_api_client, "First question")
    _send(auth_api_client, "Second question", conversation=first["conversation"])
    for pk in (first["assistant_message"]["id"], first["user_message"]["id"]):
        response = auth_api_client.post(message_url(pk, "regenerate"), format="json")
        assert response.status_code == 400
        assert "latest" in response.json()["detail"][0]
    assert ChatMessage.objects.get(pk=first["assistant_message"]["id"]).alternatives == []


def test_another_users_reply_is_not_found(auth_api_client, other_user):
    conversation = ConversationFactory(user=other_user)
    asked = ChatMessageFactory(conversation=conversation)
    theirs = ChatMessageFactory(conversation=conversation, role="assistant", reply_to=asked)
    for action, body in (("regenerate", {}), ("select", {"index": 0})):
        response = auth_api_client.post(message_url(theirs.pk, action), body, format="json")
        assert response.status_code == 404
    assert auth_api_client.patch(message_url(theirs.pk), {"content": "x"}).status_code == 404
    assert auth_api_client.delete(message_url(theirs.pk)).status_code == 404
    assert auth_api_client.get(message_url(theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.alternatives == [] and theirs.content.startswith("message number")


def test_a_failed_regeneration_puts_the_reply_back(auth_api_client, user, llm):
    sent = _send(auth_api_client, "Hello there")
    reply_id = sent["assistant_message"]["id"]
    llm.fail_next(500, times=3)

    response = auth_api_client.post(message_url(reply_id, "regenerate"), format="json")

    assert response.status_code == 502
    assert response.json()["assistant_message"]["content"] == sent["assistant_message"]["content"]
    reply = ChatMessage.objects.get(pk=reply_id)
    assert (reply.status, reply.content, reply.alternatives, reply.selected) == (
        "ok",
        sent["assistant_message"]["content"],
        [],
        0,
    )


def test_regenerate_streams_like_send(auth_api_client, user, llm):
    sent = _send(auth_api_client, "Hello there")
    reply_id = sent["assistant_message"]["id"]
    llm.reply_text = "A second thought entirely."

    response = auth_api_client.post(
        message_url(reply_id, "regenerate"), {"stream": True}, format="json"
    )

    events = [sse(chunk) for chunk in response.streaming_content]
    assert events[0][0] == "message"
    assert events[0][1]["id"] == reply_id
    assert events[0][1]["status"] == "pending"
    assert "".join(data["text"] for kind, data in events if kind == "delta") == llm.reply_text
    assert events[-1][0] == "done"
    reply = ChatMessage.objects.get(pk=reply_id)
    assert reply.alternatives == [sent["assistant_message"]["content"], llm.reply_text]
    assert (reply.content, reply.selected, reply.status) == (llm.reply_text, 1, "ok")


def test_a_stopped_regeneration_keeps_what_was_written(user, llm):
    """Closing the stream after some words keeps them as the new alternative, stopped;
    closing it before any word puts the reply back as it was."""
    exchange = services.message_send(user=user, text="Tell me a story")
    original = exchange.reply.content
    llm.reply_text = "Once upon a time there was a lighthouse keeper."

    _reply, events = services.message_regenerate_stream(user=user, reply_id=exchange.reply.pk)
    next(events)
    written = "".join(next(events)["text"] for _ in range(2))
    events.close()

    reply = ChatMessage.objects.get(pk=exchange.reply.pk)
    assert reply.status == ChatMessage.Status.STOPPED
    assert reply.alternatives == [original, written]
    assert (reply.content, reply.selected) == (written, 1)

    # A stopped reply may be regenerated again; closed before its first word, nothing changes.
    _reply, events = services.message_regenerate_stream(user=user, reply_id=reply.pk)
    next(events)
    events.close()
    reply.refresh_from_db()
    assert reply.status == ChatMessage.Status.STOPPED
    assert reply.alternatives == [original, written]


def test_only_the_selected_alternative_goes_into_later_prompts(auth_api_client, user, llm):
    llm.reply_text = "I adore lighthouses."
    sent = _send(auth_api_client, "What do you like?")
    reply_id = sent["assistant_message"]["id"]
    llm.reply_text = "I collect seashells."
    auth_api_client.post(message_url(reply_id, "regenerate"), format="json")
    auth_api_client.post(message_url(reply_id, "select"), {"index": 0}, format="json")
    llm.requests.clear()

    _send(auth_api_client, "Tell me more", conversation=sent["conversation"])

    prompt = json.dumps(chat_prompts(llm)[-1])
    assert "I adore lighthouses." in prompt
    assert "seashells" not in prompt


# ---------------------------------------------------------------- edit and delete


def test_edit_changes_a_users_message_and_a_reply(auth_api_client, user):
    sent = _send(auth_api_client, "Hello there")
    mine, reply = sent["user_message"]["id"], sent["assistant_message"]["id"]
    auth_api_client.post(message_url(reply, "regenerate"), format="json")

    edited = auth_api_client.patch(message_url(mine), {"content": " Hi there "}, format="json")
    assert edited.status_code == 200, edited.content
    assert edited.json()["content"] == "Hi there"
    edited = auth_api_client.patch(message_url(reply), {"content": "*waves* Hi!"}, format="json")
    assert edited.status_code == 200
    stored = ChatMessage.objects.get(pk=reply)
    assert stored.content == "*waves* Hi!"
    assert stored.alternatives[1] == "*waves* Hi!"
    assert stored.alternatives[0] == sent["assistant_message"]["content"]
    assert auth_api_client.get(message_url(reply)).json()["content"] == "*waves* Hi!"


@pytest.mark.parametrize("content", ["", "   ", "x" * 4001, "nul\x00byte", None])
def test_a_bad_edit_is_a_400_and_changes_nothing(auth_api_client, user, content):
    sent = _send(auth_api_client, "Hello there")
    mine = sent["user_message"]["id"]
    response = auth_api_client.patch(message_url(mine), {"content": content}, format="json")
    assert response.status_code == 400
    if isinstance(content, str) and not content.strip():
        assert response.json() == {"content": ["Write something first."]}
    assert ChatMessage.objects.get(pk=mine).content == "Hello there"


def test_a_reply_being_written_or_failed_cannot_be_edited(auth_api_client, user):
    conversation = ConversationFactory(user=user)
    asked = ChatMessageFactory(conversation=conversation)
    for status in ("pending", "failed"):
        reply = ChatMessageFactory(
            conversation=conversation, role="assistant", status=status, content="", reply_to=asked
        )
        response = auth_api_client.patch(message_url(reply.pk), {"content": "x"}, format="json")
        assert response.status_code == 400
        reply.refresh_from_db()
        assert (reply.status, reply.content) == (status, "")


def test_delete_removes_one_message(auth_api_client, user):
    sent = _send(auth_api_client, "Hello there")
    mine, reply = sent["user_message"]["id"], sent["assistant_message"]["id"]

    assert auth_api_client.delete(message_url(mine)).status_code == 204

    assert not ChatMessage.objects.filter(pk=mine).exists()
    assert ChatMessage.objects.get(pk=reply).reply_to_id is None
    assert auth_api_client.delete(message_url(mine)).status_code == 404


def test_a_reply_being_written_cannot_be_deleted_an_abandoned_one_can(auth_api_client, user):
    """Its writer would go on and announce it done; the edit is refused the same way."""
    conversation = ConversationFactory(user=user)
    asked = ChatMessageFactory(conversation=conversation)
    reply = ChatMessageFactory(
        conversation=conversation, role="assistant", status="pending", content="", reply_to=asked
    )

    response = auth_api_client.delete(message_url(reply.pk))

    assert response.status_code == 400
    assert "still being written" in response.json()["detail"][0]
    assert ChatMessage.objects.filter(pk=reply.pk).exists()
    ChatMessage.objects.filter(pk=reply.pk).update(
        updated_at=timezone.now() - PENDING_STALE_AFTER - timedelta(seconds=1)
    )
    assert auth_api_client.delete(message_url(reply.pk)).status_code == 204
    assert not ChatMessage.objects.filter(pk=reply.pk).exists()


# ---------------------------------------------------------------- memory follows


def _search(client, persona: PersonaProfile, q: str) -> set[tuple[str, int]]:
    """Return what a search finds, as (kind, id): memories and past messages."""
    response = client.get(f"/api/v1/personas/{persona.pk}/memories/search/", {"q": q})
    assert response.status_code == 200
    return {(item["kind"], item["id"]) for item in response.json()}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Return a runner of a request that then runs what waited for its commit (extraction)."""

    def run(request, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return request(*args, **kwargs)

    return run


def test_a_deleted_messages_memory_no_longer_comes_back(auth_api_client, user, committed):
    sent = committed(_send, auth_api_client, "I live in Lisbon")
    persona = PersonaProfile.objects.get(pk=sent["user_message"]["persona"])
    memory = ConversationMemory.objects.get(user=user, persona=persona)
    said = ("message", sent["user_message"]["id"])
    assert "Lisbon" in memory.content
    assert {("memory", memory.pk), said} <= _search(auth_api_client, persona, "Lisbon")

    auth_api_client.delete(message_url(sent["user_message"]["id"]))

    assert not ConversationMemory.objects.filter(pk=memory.pk).exists()
    found = _search(auth_api_client, persona, "Lisbon")
    assert ("memory", memory.pk) not in found
    assert said not in found
    event = MemoryEvent.objects.filter(user=user, persona=persona).first()
    assert (event.action, event.actor, event.content_before) == (
        "deleted",
        "user",
        memory.content,
    )


def test_a_memory_with_other_sources_keeps_them(auth_api_client, user):
    conversation = ConversationFactory(user=user)
    first, second = ChatMessageFactory.create_batch(2, conversation=conversation)
    memory = MemoryFactory(user=user, persona=conversation.persona, content="Likes tea")
    memory.source_messages.set([first, second])
    untouched = MemoryFactory(user=user, persona=conversation.persona, content="Has a cat")

    assert auth_api_client.delete(message_url(first.pk)).status_code == 204

    assert list(memory.source_messages.values_list("id", flat=True)) == [second.pk]
    event = memory.events.first()
    assert (event.action, event.content_before, event.content_after) == (
        "updated",
        "Likes tea",
        "Likes tea",
    )
    assert ConversationMemory.objects.filter(pk=untouched.pk).exists()


def test_an_edited_message_is_learned_from_again(auth_api_client, user, committed):
    sent = committed(_send, auth_api_client, "I live in Lisbon")
    persona = PersonaProfile.objects.get(pk=sent["user_message"]["persona"])
    old = ConversationMemory.objects.get(user=user, persona=persona)

    response = committed(
        auth_api_client.patch,
        message_url(sent["user_message"]["id"]),
        {"content": "I live in Porto"},
        format="json",
    )

    assert response.status_code == 200
    assert not ConversationMemory.objects.filter(pk=old.pk).exists()
    new = ConversationMemory.objects.get(user=user, persona=persona)
    assert "Porto" in new.content
    assert list(new.source_messages.values_list("id", flat=True)) == [sent["user_message"]["id"]]
    actions = list(
        MemoryEvent.objects.filter(user=user, persona=persona)
        .order_by("id")
        .values_list("action", "content_before", "content_after")
    )
    assert actions == [
        ("created", "", old.content),
        ("deleted", old.content, ""),
        ("created", "", new.content),
    ]
    assert ("memory", old.pk) not in _search(auth_api_client, persona, "Lisbon")


def test_editing_a_reply_leaves_memories_alone(auth_api_client, user, committed):
    sent = committed(_send, auth_api_client, "I live in Lisbon")
    assert ConversationMemory.objects.exists()
    before = list(ConversationMemory.objects.values_list("id", "content"))
    committed(
        auth_api_client.patch,
        message_url(sent["assistant_message"]["id"]),
        {"content": "Lovely city!"},
        format="json",
    )
    assert list(ConversationMemory.objects.values_list("id", "content")) == before


def test_a_new_conversation_offers_the_alternate_greetings_as_alternatives(auth_api_client, user):
    """A card's alternate greetings are the first message's alternatives, names filled in."""
    persona = PersonaFactory(
        owner=user,
        name="Seraphina",
        greeting="Welcome, {{user}}.",
        alternate_greetings=["{{char}} smiles at you.", "Rest now."],
    )

    started = auth_api_client.post(f"/api/v1/personas/{persona.pk}/conversations/", format="json")
    assert started.status_code == 201, started.content
    greeting = ChatMessage.objects.get(conversation_id=started.json()["id"])
    assert greeting.content.startswith("Welcome, ")
    assert greeting.alternatives[1:] == ["Seraphina smiles at you.", "Rest now."]

    picked = auth_api_client.post(message_url(greeting.pk, "select"), {"index": 2}, format="json")
    assert picked.status_code == 200, picked.content
    assert ChatMessage.objects.get(pk=greeting.pk).content == "Rest now."
