"""chat's port: contributors' contexts reach the prompt; saved messages are announced in the
transaction that saves them.

These tests register their own contributors and receivers, so they hold whatever the apps
above chat register (memory's, in the running project).
"""

import pytest
from django.db import transaction

from chat.context import PromptContext, prompt_contributors, user_messages_saved
from chat.models import ChatMessage
from chat.prompts import prompt_build
from chat.services import history_import, message_send
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from memory import tasks
from mybella.providers.llm import RecalledItem, get_provider
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(user, luna):
    conversation = ConversationFactory(user=user, persona=luna)
    ChatMessageFactory(conversation=conversation, role="assistant", content="Hello, stargazer.")
    return ChatMessageFactory(conversation=conversation, content="Tell me about the moon.")


def _build(message, **kwargs):
    return prompt_build(
        user=message.user,
        persona=message.persona,
        conversation=message.conversation,
        message=message,
        **kwargs,
    )


def test_a_contributors_context_reaches_the_prompt(message):
    """Its name for the user, its preferences and its recalled items are in the prompt."""
    calls = []

    def knows_robin(*, user, persona, message, text, provider):
        calls.append((user, persona, message, text, provider))
        return PromptContext(
            user_name="Robin",
            preferences={"tone": "dry", "reply_length": "short"},
            recalled=(RecalledItem(kind="memory", content="Robin loves the night sky"),),
        )

    provider = get_provider()
    with prompt_contributors.override(knows_robin):
        prompt = _build(message, provider=provider)

    assert calls == [(message.user, message.persona, message, message.content, provider)]
    system = prompt.messages[0]["content"]
    assert "The user likes to be called Robin." in system
    assert "The user's preferences for you: reply length: short; tone: dry." in system
    assert "- Robin loves the night sky" in system
    assert prompt.user_name == "Robin"
    assert prompt.preferences == {"preferred_name": "Robin", "reply_length": "short", "tone": "dry"}
    assert prompt.recalled == (RecalledItem(kind="memory", content="Robin loves the night sky"),)


def test_with_no_contributor_the_prompt_still_builds(message):
    """Without contributors: the account's name, no preferences, nothing recalled.

    The username ("alice") is no name the user gave: the model is not told they like to be
    called so, and the offline engine's `user_name` is empty.
    """
    with prompt_contributors.override():
        prompt = _build(message)
    assert [m["role"] for m in prompt.messages] == ["system", "assistant", "user"]
    assert prompt.messages[-1]["content"] == "Tell me about the moon."
    assert "likes to be called" not in prompt.messages[0]["content"]
    assert "remember" not in prompt.messages[0]["content"]
    assert (prompt.user_name, prompt.preferences, prompt.recalled) == ("", {}, ())
    message.user.first_name = "Al"
    with prompt_contributors.override():
        prompt = _build(message)
    assert "The user likes to be called Al." in prompt.messages[0]["content"]
    assert prompt.user_name == "Al"


def test_contexts_merge_in_registration_order(message):
    """The first name given wins, and the first value of a preference key."""

    def first(**kwargs):
        return PromptContext(
            preferences={"tone": "warm"},
            recalled=(RecalledItem(kind="memory", content="First one's memory"),),
        )

    def second(**kwargs):
        return PromptContext(user_name="Robin", preferences={"tone": "dry", "language": "Greek"})

    def third(**kwargs):
        return PromptContext(
            user_name="Bobby", recalled=(RecalledItem(kind="message", content="Third's line"),)
        )

    with prompt_contributors.override(first, second, third):
        prompt = _build(message)
    assert prompt.user_name == "Robin"
    assert prompt.preferences == {"preferred_name": "Robin", "language": "Greek", "tone": "warm"}
    assert [item.content for item in prompt.recalled] == ["First one's memory", "Third's line"]


def test_a_recalled_text_is_cut_the_contributors_way_when_room_is_short(message, settings):
    """A contributor's `cut_recalled` shortens its long items; without one, the end is cut."""
    settings.LLM_CONTEXT_TOKENS = 400
    long_text = "moon " * 400
    cuts = []

    def keep_the_end(text, max_chars):
        cuts.append(max_chars)
        return text[-max_chars:]

    def mine(**kwargs):
        return PromptContext(
            recalled=(RecalledItem(kind="memory", content=long_text + "END"),),
            cut_recalled=keep_the_end,
        )

    def plain(**kwargs):
        return PromptContext(recalled=(RecalledItem(kind="memory", content="BEGIN " + long_text),))

    with prompt_contributors.override(mine, plain):
        prompt = _build(message)
    first, second = (item.content for item in prompt.recalled)
    assert cuts and first.endswith("END") and len(first) == cuts[0]
    assert second.startswith("BEGIN") and second.endswith("…") and len(second) <= cuts[0]


# user_messages_saved -----------------------------------------------------------------


@pytest.fixture
def announced():
    """Record every user_messages_saved sent while the test runs."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append({"sender": sender, **kwargs})

    user_messages_saved.connect(receiver, dispatch_uid="test-announced")
    yield calls
    user_messages_saved.disconnect(dispatch_uid="test-announced")


def test_a_sent_message_is_announced_in_its_transaction(user, luna, announced):
    """Sent once the message is saved, inside the transaction saving it (a receiver's writes
    commit with it), with the conversation and the user message's id."""
    seen = []

    def receiver(sender, *, message_ids, **kwargs):
        saved = ChatMessage.objects.filter(pk__in=message_ids).count()
        seen.append((transaction.get_connection().in_atomic_block, saved))

    user_messages_saved.connect(receiver, dispatch_uid="test-in-transaction")
    try:
        exchange = message_send(user=user, text="I live in Lisbon.", persona=luna)
    finally:
        user_messages_saved.disconnect(dispatch_uid="test-in-transaction")
    assert announced == [
        {
            "sender": ChatMessage,
            "signal": user_messages_saved,
            "conversation_id": exchange.user_message.conversation_id,
            "message_ids": [exchange.user_message.id],
            "imported": False,
        }
    ]
    assert seen == [(True, 1)]


@pytest.mark.django_db(transaction=True)  # the send's own transaction is the outermost
@pytest.mark.usefixtures("system_personas")
def test_a_sent_messages_tasks_run_after_its_commit(user, monkeypatch):
    """memory's receivers queue their tasks for the commit: run at once (the immediate backend
    of the tests), extraction finds the message committed."""
    committed = []
    extract = tasks._extract

    def recording(message_ids, *, imported):
        committed.append(not transaction.get_connection().in_atomic_block)
        return extract(message_ids, imported=imported)

    monkeypatch.setattr(tasks, "_extract", recording)
    message_send(
        user=user, text="I live in Lisbon.", persona=PersonaProfile.objects.get(slug="luna")
    )
    assert committed == [True]


def test_an_imported_history_is_announced_with_its_user_messages(
    user, luna, announced, django_capture_on_commit_callbacks
):
    items = [
        {"role": "user", "content": "My name is Robin.", "created_at": None},
        {"role": "assistant", "content": "Hello Robin.", "created_at": None},
        {"role": "user", "content": "I live in Lisbon.", "created_at": None},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        conversation = history_import(user=user, persona=luna, items=items)
    user_ids = list(
        conversation.messages.filter(role="user").order_by("id").values_list("id", flat=True)
    )
    assert announced == [
        {
            "sender": ChatMessage,
            "signal": user_messages_saved,
            "conversation_id": conversation.id,
            "message_ids": user_ids,
            "imported": True,
        }
    ]


def test_an_import_without_user_messages_is_not_announced(
    user, luna, announced, django_capture_on_commit_callbacks
):
    items = [{"role": "assistant", "content": "Hello.", "created_at": None}]
    with django_capture_on_commit_callbacks(execute=True):
        history_import(user=user, persona=luna, items=items)
    assert announced == []


class Boom(Exception):
    pass


@transaction.atomic
def _import_send_and_fail(user, persona):
    items = [{"role": "user", "content": "I live in Lisbon.", "created_at": None}]
    history_import(user=user, persona=persona, items=items)
    message_send(user=user, text="And I have a cat.", persona=persona)
    raise Boom


def test_nothing_announced_outlives_a_rollback(
    user, luna, announced, django_capture_on_commit_callbacks
):
    """Messages that were never committed leave no work behind: the receivers' tasks wait
    for a commit that never comes."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        _import_send_and_fail(user, luna)
    assert callbacks == []
    assert len(announced) == 2  # the import's and the send's, inside the transaction
    assert not ChatMessage.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("reply_length", "ceiling", "expected"),
    [
        ("short", 512, 128),
        ("medium", 512, 256),
        ("long", 512, 512),
        ("long", 300, 300),
        ("", 512, None),
        ("endless", 512, None),
    ],
)
def test_the_reply_length_preference_sets_the_prompts_max_tokens(
    message, settings, reply_length, ceiling, expected
):
    """short/medium/long ask for 128/256/512 tokens, never above LLM_MAX_TOKENS; else none."""
    settings.LLM_MAX_TOKENS = ceiling

    def prefers(*, user, persona, message, text, provider):
        return PromptContext(preferences={"reply_length": reply_length} if reply_length else {})

    with prompt_contributors.override(prefers):
        assert _build(message).max_tokens == expected
