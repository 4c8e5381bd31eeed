"""memory's side of chat's port: what it adds to a prompt, and what it learns on commit."""

import importlib

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from chat import selectors as chat_selectors
from chat.context import prompt_contributors, user_messages_saved
from chat.models import ChatMessage, Conversation
from chat.prompts import prompt_build
from chat.services import history_import, message_send
from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from chat.tests.test_isolation import QUERY, build, foreign, world
from memory.chat_context import (
    memory_context,
    on_messages_saved_summarise,
    on_user_messages_saved,
    prompt_context,
)
from memory.models import ConversationMemory, MemorySettings, MessageExtraction, UserPreference
from mybella.providers.llm import RecalledItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(user, luna):
    conversation = ConversationFactory(user=user, persona=luna)
    ChatMessageFactory(conversation=conversation, content="We talked about jasmine tea before.")
    return ChatMessageFactory(conversation=conversation, content="Any jasmine tea tonight?")


def _context(message, provider=None):
    return prompt_context(
        user=message.user,
        persona=message.persona,
        message=message,
        text=message.content,
        provider=provider,
    )


def test_memory_is_wired_into_chat_once():
    """`MemoryConfig.ready()` registered the contributor and connected the receiver, once,
    however often the wiring module is imported."""
    importlib.reload(importlib.import_module("memory.receivers"))
    assert list(prompt_contributors) == [memory_context]
    responses = user_messages_saved.send(
        sender=ChatMessage, conversation_id=0, message_ids=[], imported=False
    )
    assert [receiver for receiver, _response in responses] == [
        on_user_messages_saved,
        on_messages_saved_summarise,
    ]


def test_preferences_name_the_user_and_shape_the_reply(user, luna, message):
    """`preferred_name` is the context's user name; the other preferences are its preferences."""
    UserPreference.objects.create(user=user, persona=luna, key="preferred_name", value="Robin")
    UserPreference.objects.create(user=user, persona=luna, key="tone", value="dry")
    context = _context(message)
    assert context.user_name == "Robin"
    assert dict(context.preferences) == {"tone": "dry"}

    prompt = prompt_build(
        user=user, persona=luna, conversation=message.conversation, message=message
    )
    assert prompt.user_name == "Robin"
    assert prompt.preferences == {"preferred_name": "Robin", "tone": "dry"}
    assert "The user likes to be called Robin." in prompt.messages[0]["content"]


def test_without_a_preferred_name_the_context_names_nobody(user, luna, message):
    context = _context(message)
    assert (context.user_name, dict(context.preferences)) == (None, {})
    prompt = prompt_build(
        user=user, persona=luna, conversation=message.conversation, message=message
    )
    assert (prompt.user_name, prompt.preferences) == ("", {})  # "alice" is a username


def test_recall_brings_the_pairs_memories_and_messages_and_stamps_the_memories(
    user, other_user, luna, message
):
    mine = MemoryFactory(user=user, persona=luna, content="Loves jasmine tea")
    theirs = MemoryFactory(user=other_user, persona=luna, content="Also loves jasmine tea")
    context = _context(message)
    assert context.recalled == (
        RecalledItem(kind="memory", content="Loves jasmine tea", said_at=mine.created_at),
        RecalledItem(
            kind="message",
            content="We talked about jasmine tea before.",
            said_at=message.conversation.messages.first().created_at,
        ),
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.last_recalled_at is not None
    assert theirs.last_recalled_at is None


def test_a_superseded_memory_is_not_recalled(user, luna, message):
    """Only the memory that replaced it counts; the old one stays on the memory page."""
    newer = MemoryFactory(user=user, persona=luna, content="Loves jasmine tea")
    MemoryFactory(user=user, persona=luna, content="Hates jasmine tea", superseded_by=newer)
    assert [item.content for item in _context(message).recalled if item.kind == "memory"] == [
        "Loves jasmine tea"
    ]


def test_a_memory_learnt_from_the_message_being_answered_is_not_recalled(user, luna, message):
    """Told "I love jasmine tea" a second ago is no remembering; told before, it is."""
    just_now = MemoryFactory(user=user, persona=luna, content="Loves jasmine tea")
    just_now.source_messages.set([message])
    assert [item.kind for item in _context(message).recalled] == ["message"]
    earlier = ChatMessageFactory(conversation=message.conversation, content="jasmine!")
    just_now.source_messages.add(earlier)
    assert "Loves jasmine tea" in [item.content for item in _context(message).recalled]


def test_with_remembering_off_nothing_is_recalled(user, luna, message):
    """The switch stops recall (and its stamps); preferences still count."""
    memory = MemoryFactory(user=user, persona=luna, content="Loves jasmine tea")
    UserPreference.objects.create(user=user, persona=luna, key="tone", value="dry")
    MemorySettings.objects.create(user=user, persona=luna, remember=False)
    context = _context(message)
    assert context.recalled == ()
    assert dict(context.preferences) == {"tone": "dry"}
    memory.refresh_from_db()
    assert memory.last_recalled_at is None


def test_a_long_recalled_text_is_cut_around_the_words_of_the_message(message):
    """Cut to fit, a recalled text keeps the part where the message's words are."""
    cut = _context(message).cut_recalled
    text = "Something else entirely. " * 20 + "Jasmine tea every evening." + " And more." * 20
    shortened = cut(text, 60)
    assert len(shortened) <= 60
    assert "Jasmine tea" in shortened


def test_the_context_costs_the_queries_it_did_inside_the_prompt(
    user, luna, message, django_assert_num_queries
):
    """The switch, preferences, summaries and newest memories in one query, then recall
    and the stamp: six, however long the history. Remembering off: that one query.

    Recall: a bounded count of each word's matches in both indexes with the pinned
    memories, the ranked memories and messages, and the sources of the memories recalled.
    """
    MemoryFactory(user=user, persona=luna, content="Loves jasmine tea")
    with django_assert_num_queries(6):
        _context(message)
    MemorySettings.objects.create(user=user, persona=luna, remember=False)
    with django_assert_num_queries(1):
        _context(message)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=world)
def test_the_context_of_a_pair_holds_only_that_pair(db, data):
    """Whatever the data, memory tells a prompt nothing of another user or persona."""
    with transaction.atomic():
        pairs = build(data)
        for user, persona, mark in pairs.values():
            conversation = chat_selectors.conversation_latest(user=user, persona=persona) or (
                Conversation.objects.create(user=user, persona=persona)
            )
            message = ChatMessage.objects.create(
                conversation=conversation, user=user, persona=persona, role="user", content=QUERY
            )
            context = _context(message)
            text = " ".join(
                [
                    str(context.user_name),
                    *context.preferences.values(),
                    *(item.content for item in context.recalled),
                ]
            )
            assert foreign(text, mark, pairs) == []
            message.delete()
        transaction.set_rollback(True)


# Learning from saved messages -------------------------------------------------------


def test_a_sent_message_is_learnt_from_once_committed(
    user, luna, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        exchange = message_send(user=user, text="I live in Lisbon.", persona=luna)
    assert MessageExtraction.objects.filter(message=exchange.user_message).exists()
    assert ConversationMemory.objects.filter(
        user=user, persona=luna, content="Lives in Lisbon"
    ).exists()


def test_an_imported_history_is_learnt_from_once_committed(
    user, luna, django_capture_on_commit_callbacks
):
    items = [
        {"role": "user", "content": "I live in Lisbon.", "created_at": None},
        {"role": "assistant", "content": "Lovely city.", "created_at": None},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        history_import(user=user, persona=luna, items=items)
    memory = ConversationMemory.objects.get(user=user, persona=luna)
    assert memory.content == "Lives in Lisbon"
    assert memory.events.get().actor == "import"


class Boom(Exception):
    pass


@transaction.atomic
def _send_and_fail(user, persona):
    message_send(user=user, text="I live in Lisbon.", persona=persona)
    raise Boom


def test_a_rolled_back_message_is_never_learnt_from(user, luna, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        _send_and_fail(user, luna)
    assert not MessageExtraction.objects.exists()
    assert not ConversationMemory.objects.filter(user=user).exists()
