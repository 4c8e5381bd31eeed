"""The one-pair benchmark seeds and measures: run at a tiny scale so it can't break unseen."""

import pytest
from django.db import connection

from bench import one_pair
from chat.models import ChatMessage
from memory.models import ConversationMemory
from memory.recall import recall

pytestmark = pytest.mark.django_db

TINY = one_pair.Scale("tiny", "tiny", 300)


def _triggers() -> list[tuple[str, str]]:
    if connection.vendor != "sqlite":
        return []
    return sorted(one_pair._sqlite_triggers(ChatMessage._meta.db_table))


def test_a_tiny_one_pair_history_is_seeded_searched_and_measured():
    triggers = _triggers()

    result = one_pair.seed(TINY)

    user, persona = one_pair._pair()
    messages = ChatMessage.objects.filter(user=user, persona=persona).order_by("id")
    assert result["messages"] == messages.count() == 300
    assert ConversationMemory.objects.filter(user=user, persona=persona).count() == 1
    # The bulk-loaded history is in the full-text index: the rare word of the first message
    # is found, the common word too.
    rare = recall(user=user, persona=persona, query=one_pair.RARE_WORD)
    assert [item.id for item in rare] == [messages.first().id]
    assert recall(user=user, persona=persona, query=one_pair.COMMON_WORD)
    # The triggers are back as the migration made them, and working.
    assert _triggers() == triggers
    later = ChatMessage.objects.create(
        conversation=messages.last().conversation,
        user=user,
        persona=persona,
        role="user",
        content="A zeppelin again",
    )
    assert {item.id for item in recall(user=user, persona=persona, query="zeppelin")} == {
        messages.first().id,
        later.id,
    }

    samples = one_pair.measure(2)

    assert set(samples) == {"memory search, common", "memory search, rare", "read history"}
    assert all(len(timed) == 2 for timed in samples.values())
