"""The many-pairs benchmark seeds and measures: run at a tiny scale so it can't break unseen."""

import pytest
from rest_framework.throttling import ScopedRateThrottle

from bench import seed
from bench.measure import COUNTED, measure
from chat.models import ChatMessage
from chat.selectors import MESSAGE_INDEX
from memory.models import ConversationMemory
from memory.selectors import MEMORY_INDEX
from mybella.core.fulltext import merge_index

pytestmark = pytest.mark.django_db


def test_one_user_of_pairs_is_seeded_and_measured(monkeypatch):
    # As the benchmark's processes run (bench.run.child_env): no chat throttle.
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "chat", "1000000/min")
    counts = seed._seed(seed.Scale("tiny", "tiny", users=1))
    seed._reset_sequences()

    pairs = seed.PERSONAS_PER_USER
    assert counts["messages"] == ChatMessage.objects.count() == pairs * seed.MESSAGES_PER_PAIR
    assert counts["memories"] == ConversationMemory.objects.count() > 0

    result = measure(requests=2)

    assert {op["label"] for op in result["ops"].values()} >= {"send message", "memory search"}
    assert all(len(op["samples"]) == 2 for op in result["ops"].values())
    # Every counted request ran SQL, and its count was kept: the test client's request_started
    # (which empties the query log) must not blank the counts of the printed table's q column.
    assert all(len(op["queries"]) == COUNTED for op in result["ops"].values())
    assert all(min(op["queries"]) > 0 for op in result["ops"].values())


def test_a_seeded_database_holds_its_search_indexes_merged():
    """As a deployment's do after `manage.py merge_search_indexes`: nothing left to merge."""
    seed._seed(seed.Scale("tiny", "tiny", users=1))
    seed._reset_sequences()

    seed.as_deployed()

    assert [merge_index(index) for index in (MESSAGE_INDEX, MEMORY_INDEX)] == [0, 0]
