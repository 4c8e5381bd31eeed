"""What memory reads for every prompt, in one query: the switch, preferences, timeline."""

from datetime import UTC, datetime, timedelta

import pytest

from chat.tests.factories import MemoryFactory
from memory import selectors
from memory.models import ConversationMemory, MemorySettings, UserPreference
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def _memory(user, persona, content, *, days, **fields):
    memory = MemoryFactory(user=user, persona=persona, content=content, **fields)
    ConversationMemory.objects.filter(pk=memory.pk).update(created_at=NOW - timedelta(days=days))
    return memory


def _summary(user, persona, content, *, days):
    covers_to = NOW - timedelta(days=days)
    return _memory(
        user,
        persona,
        content,
        days=days,
        kind=ConversationMemory.Kind.SUMMARY,
        covers_from=covers_to - timedelta(hours=1),
        covers_to=covers_to,
    )


def test_the_pairs_timeline_comes_newest_first_within_its_bounds(
    user, other_user, luna, django_assert_num_queries
):
    for days in (9, 7, 5, 3):
        _memory(user, luna, f"fact {days}", days=days)
    for days in (8, 6, 4, 2):
        _summary(user, luna, f"summary {days}", days=days)
    _summary(user, luna, "after the message", days=-1)
    _memory(other_user, luna, "another user's", days=1)
    _memory(user, PersonaProfile.objects.get(slug="isabella"), "another persona's", days=1)
    UserPreference.objects.create(user=user, persona=luna, key="tone", value="warm")
    UserPreference.objects.create(user=user, persona=luna, key="preferred_name", value="Robin")

    with django_assert_num_queries(1):
        known = selectors.memory_prompt_context(
            user=user, persona=luna, before=NOW, summaries=3, recent=5
        )

    assert known.remember is True
    assert known.preferences == {"preferred_name": "Robin", "tone": "warm"}
    assert [s.content for s in known.summaries] == ["summary 2", "summary 4", "summary 6"]
    assert known.summaries[0].covers_to == NOW - timedelta(days=2)
    assert [m.content for m in known.recent] == [
        "after the message",
        "summary 2",
        "fact 3",
        "summary 4",
        "fact 5",
    ]
    assert known.recent[2].created_at == NOW - timedelta(days=3)


def test_remembering_off_is_told_with_the_preferences(user, luna):
    MemorySettings.objects.create(user=user, persona=luna, remember=False)
    UserPreference.objects.create(user=user, persona=luna, key="tone", value="dry")

    known = selectors.memory_prompt_context(
        user=user, persona=luna, before=NOW, summaries=5, recent=20
    )

    assert (known.remember, known.preferences) == (False, {"tone": "dry"})
