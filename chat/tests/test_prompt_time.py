"""The prompt's sense of time: today's date, when the pair last talked, dated recalls."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from chat.models import ChatMessage
from chat.prompts import prompt_build, time_line
from chat.services import message_send
from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory.models import ConversationMemory
from mybella.providers.llm import get_provider
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)  # a Friday


def at(message: ChatMessage, when: datetime) -> ChatMessage:
    """Give `message` a fixed sending time (created_at is set by the database otherwise)."""
    ChatMessage.objects.filter(pk=message.pk).update(created_at=when)
    message.refresh_from_db()
    return message


@pytest.mark.parametrize(
    ("last", "line"),
    [
        (None, "Today is Friday, 2026-11-27. This is the first time the user writes to you."),
        (NOW - timedelta(hours=3), "Today is Friday, 2026-11-27. Last talked: earlier today."),
        (
            NOW - timedelta(hours=12),
            "Today is Friday, 2026-11-27. Last talked: yesterday, on 2026-11-26.",
        ),
        (
            NOW - timedelta(days=5),
            "Today is Friday, 2026-11-27. Last talked: 5 days ago, on 2026-11-22.",
        ),
        (
            NOW - timedelta(days=25),
            "Today is Friday, 2026-11-27. Last talked: 3 weeks ago, on 2026-11-02.",
        ),
        (
            NOW - timedelta(days=75),
            "Today is Friday, 2026-11-27. Last talked: 2 months ago, on 2026-09-13.",
        ),
        (
            NOW - timedelta(days=800),
            "Today is Friday, 2026-11-27. Last talked: 2 years ago, on 2024-09-18.",
        ),
    ],
)
def test_the_time_line_says_the_date_and_the_gap_in_words(last, line):
    assert time_line(NOW, last) == line


def test_dates_are_in_the_servers_time_zone(settings):
    """TIME_ZONE decides the calendar day: 23:30 UTC is already Saturday in Berlin."""
    settings.TIME_ZONE = "Europe/Berlin"
    with timezone.override("Europe/Berlin"):
        line = time_line(datetime(2026, 11, 27, 23, 30, tzinfo=UTC), None)
    assert line.startswith("Today is Saturday, 2026-11-28.")


def test_the_fake_model_receives_the_date_and_when_the_pair_last_talked(user, luna, fake_llm):
    """The exact prompt: the time line closes the system text; the last user message of the
    pair in any conversation (not the persona's greeting of a new one) is 'last talked'."""
    old = ConversationFactory(user=user, persona=luna)
    at(ChatMessageFactory(conversation=old, content="Off to Porto!"), NOW - timedelta(days=25))
    at(
        ChatMessageFactory(conversation=old, role="assistant", content="Have fun."),
        NOW - timedelta(days=25) + timedelta(seconds=5),
    )
    new = ConversationFactory(user=user, persona=luna)
    at(
        ChatMessageFactory(
            conversation=new, role="assistant", content=luna.greeting, provider="greeting"
        ),
        NOW - timedelta(minutes=1),
    )
    message = at(ChatMessageFactory(conversation=new, content="I'm back!"), NOW)

    prompt = prompt_build(user=user, persona=luna, conversation=new, message=message)
    get_provider().reply(prompt)

    _path, body, _headers = fake_llm.requests[-1]
    system = body["messages"][0]["content"]
    assert system.endswith(
        "</persona_profile>\n\n"
        "Today is Friday, 2026-11-27. Last talked: 3 weeks ago, on 2026-11-02."
    )
    assert body["messages"][1:] == [
        {"role": "assistant", "content": luna.greeting},
        {"role": "user", "content": "I'm back!"},
    ]
    assert (prompt.now, prompt.last_talked_at) == (NOW, NOW - timedelta(days=25))


def test_a_message_sent_now_is_dated_by_its_own_sending_time(user, luna, fake_llm):
    """Through the send service: the date line is the stored message's own date."""
    conversation = ConversationFactory(user=user, persona=luna)
    before = timezone.now() - timedelta(days=21)
    at(ChatMessageFactory(conversation=conversation, content="See you soon."), before)

    exchange = message_send(user=user, text="Hello again", conversation_id=conversation.pk)

    sent = exchange.user_message.created_at
    today, last = timezone.localdate(sent), timezone.localdate(before)
    expected = f"Today is {today:%A}, {today.isoformat()}. Last talked: 3 weeks ago, on {last}."
    _path, body, _headers = fake_llm.requests[-1]
    assert body["messages"][0]["content"].endswith(expected)


def test_a_conversation_without_a_past_still_knows_when_the_pair_last_talked(user, luna):
    """A new conversation with nothing before the message (no greeting): the pair's last
    user message in another conversation is still when they last talked."""
    old = ConversationFactory(user=user, persona=luna)
    at(ChatMessageFactory(conversation=old, content="Off to Porto!"), NOW - timedelta(days=5))
    new = ConversationFactory(user=user, persona=luna)
    message = at(ChatMessageFactory(conversation=new, content="I'm back!"), NOW)

    prompt = prompt_build(user=user, persona=luna, conversation=new, message=message)

    assert prompt.last_talked_at == NOW - timedelta(days=5)
    assert [m["role"] for m in prompt.messages] == ["system", "user"]


def test_another_pairs_messages_are_not_when_this_pair_last_talked(user, other_user, luna):
    """Neither another user's messages nor this user's with another persona count."""
    isabella = PersonaProfile.objects.get(slug="isabella")
    yesterday = NOW - timedelta(days=1)
    at(
        ChatMessageFactory(conversation=ConversationFactory(user=other_user, persona=luna)),
        yesterday,
    )
    at(ChatMessageFactory(conversation=ConversationFactory(user=user, persona=isabella)), yesterday)
    conversation = ConversationFactory(user=user, persona=luna)
    message = at(ChatMessageFactory(conversation=conversation, content="Hi"), NOW)

    prompt = prompt_build(user=user, persona=luna, conversation=conversation, message=message)

    assert prompt.last_talked_at is None
    assert prompt.messages[0]["content"].endswith(
        "Today is Friday, 2026-11-27. This is the first time the user writes to you."
    )


def test_recalled_memories_carry_the_date_they_were_said(user, luna):
    memory = MemoryFactory(user=user, persona=luna, content="Plans a trip to Porto")
    ConversationMemory.objects.filter(pk=memory.pk).update(created_at=NOW - timedelta(days=60))
    conversation = ConversationFactory(user=user, persona=luna)
    message = at(ChatMessageFactory(conversation=conversation, content="About Porto…"), NOW)

    prompt = prompt_build(user=user, persona=luna, conversation=conversation, message=message)

    assert "- Plans a trip to Porto (said 2026-09-28)" in prompt.messages[0]["content"]
    assert prompt.recalled[0].content == "Plans a trip to Porto"  # the offline engine's view


def test_the_offline_engine_asks_about_porto_after_a_long_gap(user, luna, settings):
    """Through the send service with the offline engine: the pair's newest memory, told at
    the last talk ten days ago, is what it asks about."""
    settings.LLM_PROVIDER = "offline"
    conversation = ConversationFactory(user=user, persona=luna)
    ten_days_ago = timezone.now() - timedelta(days=10)
    at(ChatMessageFactory(conversation=conversation, content="Off to Porto soon!"), ten_days_ago)
    memory = MemoryFactory(user=user, persona=luna, content="Is going to Porto next week")
    ConversationMemory.objects.filter(pk=memory.pk).update(created_at=ten_days_ago)

    exchange = message_send(user=user, text="I cooked dinner", conversation_id=conversation.pk)

    assert "It's been a while! Last time you told me about Porto; how did that go?" in (
        exchange.reply.content
    )
    # The next message, moments later, follows no gap.
    again = message_send(user=user, text="I cooked lunch", conversation_id=conversation.pk)
    assert "a while" not in again.reply.content
