"""The history a prompt reads: the same messages as `message_recent`, in one query."""

from datetime import UTC, datetime, timedelta

import pytest

from chat import selectors
from chat.models import ChatMessage
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def at(message: ChatMessage, when: datetime) -> ChatMessage:
    ChatMessage.objects.filter(pk=message.pk).update(created_at=when)
    message.refresh_from_db()
    return message


@pytest.fixture
def history(user, other_user, luna):
    """A conversation with good and not-good messages around the one being answered, and
    messages of the pair elsewhere and of other pairs."""
    conversation = ConversationFactory(user=user, persona=luna)
    other_conversation = ConversationFactory(user=user, persona=luna)
    isabella = PersonaProfile.objects.get(slug="isabella")
    made = [
        (conversation, {"content": "oldest"}, 50),
        (conversation, {"role": "assistant", "content": "a reply"}, 40),
        (conversation, {"role": "assistant", "content": "", "status": "ok"}, 35),
        (conversation, {"role": "assistant", "content": "failed", "status": "failed"}, 30),
        (conversation, {"role": "assistant", "content": "half", "status": "stopped"}, 29),
        (conversation, {"content": "same time, lower id"}, 20),
        (conversation, {"content": "same time, higher id"}, 20),
        (conversation, {"role": "assistant", "content": "", "status": "pending"}, 10),
        (other_conversation, {"content": "in another conversation"}, 5),
        (ConversationFactory(user=user, persona=isabella), {"content": "other persona"}, 2),
        (ConversationFactory(user=other_user, persona=luna), {"content": "other user"}, 1),
    ]
    for where, fields, minutes in made:
        at(ChatMessageFactory(conversation=where, **fields), NOW - timedelta(minutes=minutes))
    message = at(ChatMessageFactory(conversation=conversation, content="now"), NOW)
    at(ChatMessageFactory(conversation=conversation, content="later"), NOW + timedelta(minutes=1))
    return conversation, message


@pytest.mark.parametrize("limit", [1, 3, 40])
def test_the_prompts_history_is_message_recents_messages(user, history, limit):
    """Same rule as `message_recent` (good messages of the conversation before the one
    answered, newest first, ties by id), and the pair's last user message anywhere."""
    conversation, message = history
    lines, last = selectors.message_prompt_history(
        user=user, conversation=conversation, before=message, limit=limit
    )
    expected = selectors.message_recent(
        user=user, conversation=conversation, before=message, limit=limit
    )
    assert [(line.role, line.content, line.created_at) for line in lines] == [
        (m.role, m.content, m.created_at) for m in expected
    ]
    assert [line.content for line in lines] == [
        "same time, higher id",
        "same time, lower id",
        "a reply",
        "oldest",
    ][:limit]
    assert last == NOW - timedelta(minutes=5)


def test_the_prompts_history_reads_in_one_query(user, history, django_assert_num_queries):
    conversation, message = history
    with django_assert_num_queries(1):
        selectors.message_prompt_history(user=user, conversation=conversation, before=message)


def test_no_past_and_no_earlier_word_from_the_user(user, luna):
    conversation = ConversationFactory(user=user, persona=luna)
    message = ChatMessageFactory(conversation=conversation, content="first")
    assert selectors.message_prompt_history(
        user=user, conversation=conversation, before=message
    ) == ([], None)
