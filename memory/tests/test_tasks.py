"""Memory extraction as a task: a language model proposes, the offline rules stand in."""

import json

import pytest

from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory.models import ConversationMemory, MemoryEvent
from memory.tasks import extract_memories

pytestmark = pytest.mark.django_db


def test_the_model_proposes_operations_for_this_pair_only(
    user, other_user, luna, fake_llm, settings
):
    mine = MemoryFactory(user=user, persona=luna, content="Lives in Porto")
    theirs = MemoryFactory(user=other_user, persona=luna, content="Secret of someone else")
    message = ChatMessageFactory(
        conversation=ConversationFactory(user=user, persona=luna), content="I moved to Lisbon!"
    )
    fake_llm.reply_text = json.dumps(
        {
            "operations": [
                {"op": "update", "id": mine.id, "content": "Lives in Lisbon"},
                {"op": "delete", "id": theirs.id},
                {"op": "add", "content": "Enjoys moving house", "kind": "event", "importance": 4},
            ]
        }
    )
    assert extract_memories.call([message.id]) == 2
    mine.refresh_from_db()
    # The model's update supersedes the old memory: kept, with its content and a link.
    assert mine.content == "Lives in Porto"
    assert mine.superseded_by.content == "Lives in Lisbon"
    assert ConversationMemory.objects.filter(
        pk=theirs.pk, content="Secret of someone else"
    ).exists()
    added = ConversationMemory.objects.get(user=user, content="Enjoys moving house")
    assert list(added.source_messages.all()) == [message]
    assert set(MemoryEvent.objects.filter(user=user).values_list("actor", flat=True)) == {"model"}
    request = [body for path, body, _ in fake_llm.requests if path == "/v1/chat/completions"][-1]
    assert request["response_format"] == {"type": "json_object"}
    assert request["max_tokens"] == settings.LLM_EXTRACTION_MAX_TOKENS  # a model may never stop
    assert "Secret of someone else" not in json.dumps(request)


@pytest.mark.parametrize("content", ["...", "", "!!!", "Loves stars", "LUNA_LINE"])
def test_junk_from_the_model_is_never_stored(user, luna, fake_llm, content):
    """A "..." extraction, an empty or two-word one, or the persona's own line: no memory."""
    conversation = ConversationFactory(user=user, persona=luna)
    persona_line = "The night sky is full of stories, and I love telling them."
    ChatMessageFactory(conversation=conversation, role="assistant", content=persona_line)
    message = ChatMessageFactory(conversation=conversation, content="I stayed up to watch.")
    content = persona_line if content == "LUNA_LINE" else content
    fake_llm.extract(json.dumps({"operations": [{"op": "add", "content": content}]}))
    assert extract_memories.call([message.id]) == 0
    assert not ConversationMemory.objects.filter(user=user).exists()


def test_a_persona_greeting_copied_by_the_model_is_never_stored(user, luna, fake_llm):
    """The persona's greeting is its own line too, even when the user wrote first."""
    message = ChatMessageFactory(
        conversation=ConversationFactory(user=user, persona=luna), content="Hi there."
    )
    fake_llm.extract(json.dumps({"operations": [{"op": "add", "content": luna.greeting}]}))
    assert extract_memories.call([message.id]) == 0
    assert not ConversationMemory.objects.filter(user=user).exists()


def test_the_offline_rules_never_store_a_copy_of_the_persona_line(user, luna):
    """Without a model, "remember that <the persona's last line>" stores nothing either."""
    conversation = ConversationFactory(user=user, persona=luna)
    persona_line = "The night sky is full of stories."
    ChatMessageFactory(conversation=conversation, role="assistant", content=persona_line)
    message = ChatMessageFactory(
        conversation=conversation, content="Remember that the night sky is full of stories!"
    )
    assert extract_memories.call([message.id]) == 0
    assert not ConversationMemory.objects.filter(user=user).exists()


def test_a_failing_model_leaves_it_to_the_offline_rules(user, luna, fake_llm):
    fake_llm.fail_next(500, times=3)
    message = ChatMessageFactory(
        conversation=ConversationFactory(user=user, persona=luna), content="I live in Lisbon."
    )
    extract_memories.call([message.id])
    memory = ConversationMemory.objects.get(user=user, persona=luna)
    assert memory.content == "Lives in Lisbon"
    assert memory.events.get().actor == MemoryEvent.Actor.EXTRACTOR


def test_running_twice_changes_nothing_more(user, luna):
    message = ChatMessageFactory(
        conversation=ConversationFactory(user=user, persona=luna),
        content="My name is Robin and I live in Lisbon.",
    )
    extract_memories.call([message.id])
    before = list(ConversationMemory.objects.values_list("id", "content"))
    assert extract_memories.call([message.id]) == 0
    assert list(ConversationMemory.objects.values_list("id", "content")) == before
