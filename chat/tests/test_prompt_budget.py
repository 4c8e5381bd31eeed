"""The prompt stays inside LLM_CONTEXT_TOKENS whatever is stored, and keeps the latest messages."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chat.models import ChatMessage, Conversation
from chat.prompts import estimate_tokens, prompt_build
from memory.models import ConversationMemory, UserPreference
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def total_tokens(prompt) -> int:
    return sum(estimate_tokens(message["content"]) for message in prompt.messages)


def say(conversation: Conversation, content: str, role: str = "user") -> ChatMessage:
    return ChatMessage.objects.create(
        conversation=conversation,
        user=conversation.user,
        persona=conversation.persona,
        role=role,
        content=content,
    )


@pytest.fixture
def huge_pair(user):
    """A pair whose stored data bypassed every limit: written straight through the ORM."""
    big = "word " * 40_000  # 200,000 characters
    persona = PersonaFactory(
        owner=user,
        name="N" * 80,
        tagline="T" * 140,  # CharFields are bounded by PostgreSQL itself
        bio=f"BIO {big}",
        traits=[f"trait{n} " * 10 for n in range(100)],
        communication_notes=f"NOTES {big}",
        greeting=f"GREETING {big}",
        example_dialogue=f"EXAMPLE {big}",
        system_prompt=f"SYSTEM {big}",
    )
    UserPreference.objects.bulk_create(
        [UserPreference(user=user, persona=persona, key="preferred_name", value="R" * 500)]
        + [
            UserPreference(user=user, persona=persona, key=f"key_{n}", value="v" * 500)
            for n in range(200)
        ]
    )
    ConversationMemory.objects.bulk_create(
        ConversationMemory(
            user=user, persona=persona, content=f"jasmine {n} " + "tea " * 10_000, pinned=True
        )
        for n in range(60)
    )
    conversation = Conversation.objects.create(user=user, persona=persona)
    for n in range(8):
        say(
            conversation, f"old jasmine {n} " + "x" * 400_000, role="user" if n % 2 else "assistant"
        )
    return persona, conversation


@pytest.mark.parametrize("budget", [800, 3000, 8000])
def test_huge_stored_data_stays_within_the_budget(settings, user, huge_pair, budget):
    settings.LLM_CONTEXT_TOKENS = budget
    persona, conversation = huge_pair
    recent = [
        say(conversation, "recent question one"),
        say(conversation, "recent answer one", role="assistant"),
        say(conversation, "recent question two"),
    ]
    message = say(conversation, "jasmine " * 250_000)
    prompt = prompt_build(user=user, persona=persona, conversation=conversation, message=message)

    assert total_tokens(prompt) <= budget
    assert prompt.messages[0]["role"] == "system"
    assert "Bio: BIO" in prompt.messages[0]["content"]
    assert "jasmine" in prompt.messages[0]["content"]  # a recalled memory, cut short
    assert prompt.messages[-1]["role"] == "user"
    assert prompt.messages[-1]["content"].startswith("jasmine jasmine")
    history = [m["content"] for m in prompt.messages[1:-1]]
    assert history[-3:] == [m.content for m in recent]
    assert prompt.user_message == prompt.messages[-1]["content"]
    assert len(prompt.user_name) <= 100


def test_a_huge_latest_message_is_cut_but_kept(settings, user, huge_pair):
    settings.LLM_CONTEXT_TOKENS = 3000
    persona, conversation = huge_pair
    say(conversation, "just before " + "y" * 1_000_000, role="assistant")
    message = say(conversation, "hello")
    prompt = prompt_build(user=user, persona=persona, conversation=conversation, message=message)
    assert total_tokens(prompt) <= 3000
    assert prompt.messages[-1]["content"] == "hello"
    assert prompt.messages[-2]["role"] == "assistant"
    assert prompt.messages[-2]["content"].startswith("just before yyy")


def test_small_data_is_not_cut(settings, user):
    settings.LLM_CONTEXT_TOKENS = 3000
    persona = PersonaFactory(owner=user, bio="A lighthouse keeper.", system_prompt="Be brief.")
    UserPreference.objects.create(user=user, persona=persona, key="tone", value="gentle")
    conversation = Conversation.objects.create(user=user, persona=persona)
    history = [say(conversation, f"message {n} " + "z" * 200) for n in range(5)]
    message = say(conversation, "What do you keep?")
    prompt = prompt_build(user=user, persona=persona, conversation=conversation, message=message)
    system = prompt.messages[0]["content"]
    assert "Bio: A lighthouse keeper." in system
    assert "Be brief." in system
    assert "tone: gentle" in system
    assert [m["content"] for m in prompt.messages[1:-1]] == [m.content for m in history]
    assert prompt.messages[-1]["content"] == "What do you keep?"


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    budget=st.integers(min_value=300, max_value=6000),
    field_sizes=st.lists(st.integers(min_value=0, max_value=30_000), min_size=5, max_size=5),
    preferences=st.lists(st.integers(min_value=1, max_value=500), max_size=40),
    memories=st.lists(st.integers(min_value=1, max_value=20_000), max_size=8),
    history=st.lists(st.integers(min_value=1, max_value=20_000), min_size=1, max_size=8),
    message_size=st.integers(min_value=1, max_value=40_000),
)
def test_any_stored_data_stays_within_any_budget(
    settings, user, budget, field_sizes, preferences, memories, history, message_size
):
    """Whatever the sizes, the prompt fits and ends with the message and the one before it."""
    settings.LLM_CONTEXT_TOKENS = budget
    with transaction.atomic():
        bio, notes, example, system_prompt, tagline = ("tea " * (n // 4) for n in field_sizes)
        persona = PersonaFactory(
            owner=user,
            bio=bio,
            communication_notes=notes,
            example_dialogue=example,
            system_prompt=system_prompt,
            tagline=tagline[:140],  # a varchar: PostgreSQL bounds it itself
        )
        UserPreference.objects.bulk_create(
            UserPreference(user=user, persona=persona, key=f"key_{n}", value="p" * size)
            for n, size in enumerate(preferences)
        )
        ConversationMemory.objects.bulk_create(
            ConversationMemory(user=user, persona=persona, content="tea " + "m" * size)
            for size in memories
        )
        conversation = Conversation.objects.create(user=user, persona=persona)
        for n, size in enumerate(history):
            say(conversation, f"past {n} " + "h" * size)
        message = say(conversation, "tea " + "q" * message_size)
        prompt = prompt_build(
            user=user, persona=persona, conversation=conversation, message=message
        )
        assert total_tokens(prompt) <= budget
        assert prompt.messages[0]["role"] == "system"
        assert prompt.messages[-1]["role"] == "user"
        assert prompt.messages[-1]["content"].startswith("tea q")
        assert prompt.messages[-2]["content"].startswith(f"past {len(history) - 1} h")
        transaction.set_rollback(True)
