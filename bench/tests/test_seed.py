"""The many-pairs benchmark seeds and measures: run at a tiny scale so it can't break unseen."""

import pytest
from rest_framework.throttling import ScopedRateThrottle

from bench import seed
from bench.measure import COUNTED, measure
from chat.models import ChatMessage
from memory.models import ConversationMemory

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
