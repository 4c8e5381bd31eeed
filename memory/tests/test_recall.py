"""Recall ranks one pair's memories and messages by relevance, recency and importance."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import ChatMessage, Conversation
from memory.models import ConversationMemory
from memory.recall import recall, terms
from memory.services import memory_mark_recalled
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya():
    return PersonaProfile.objects.get(slug="maya")


def _aged(obj, days_ago):
    if days_ago:
        type(obj).objects.filter(pk=obj.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
        obj.refresh_from_db()
    return obj


def _message(user, persona, content, *, role="user", status="ok", days_ago=0, new_thread=False):
    # `new_thread`: in a conversation of its own, so that it is no other message's neighbour.
    conversation = Conversation.objects.filter(user=user, persona=persona).first()
    if conversation is None or new_thread:
        conversation = Conversation.objects.create(user=user, persona=persona)
    message = ChatMessage.objects.create(
        conversation=conversation,
        user=user,
        persona=persona,
        role=role,
        content=content,
        status=status,
    )
    return _aged(message, days_ago)


def _memory(user, persona, content, *, importance=5, pinned=False, days_ago=0, sources=()):
    memory = ConversationMemory.objects.create(
        user=user, persona=persona, content=content, importance=importance, pinned=pinned
    )
    memory.source_messages.add(*sources)
    return _aged(memory, days_ago)


def _keys(items):
    return [(item.kind, item.id) for item in items]


def test_terms_drop_stop_words_and_fold_simple_suffixes():
    assert terms("I love Hiking, hikes and the hike!") == ["lov", "hik", "hik", "hik"]
    assert terms("Cities and the city") == terms("city city")
    assert terms("the and of it?") == []


def test_relevant_memories_and_messages_come_first(user, luna):
    jazz = _memory(user, luna, "Likes jazz music")
    _memory(user, luna, "Has a dog named Rex")
    concert = _message(user, luna, "I went to a jazz concert yesterday")
    _message(user, luna, "The weather is nice today")

    items = recall(user=user, persona=luna, query="Any jazz plans tonight?")

    assert _keys(items) == [("memory", jazz.id), ("message", concert.id)]
    assert items[0].score > items[1].score > 0


def test_more_matching_terms_outrank_a_weaker_memory(user, luna):
    weak = _memory(user, luna, "Likes jazz")
    strong = _message(user, luna, "We have tickets for the jazz concert on Saturday in Lisbon")

    items = recall(user=user, persona=luna, query="jazz concert Saturday Lisbon")

    assert _keys(items) == [("message", strong.id), ("memory", weak.id)]


def test_recency_breaks_ties(user, luna):
    old_message = _message(user, luna, "My sister Ana visited", days_ago=20, new_thread=True)
    new_message = _message(user, luna, "My sister Ana visited", new_thread=True)
    old_memory = _memory(user, luna, "Has a sister called Ana", days_ago=90)
    new_memory = _memory(user, luna, "Has a sister called Ana", days_ago=1)

    items = recall(user=user, persona=luna, query="how is Ana?", k=10)

    memories = [item.id for item in items if item.kind == "memory"]
    messages = [item.id for item in items if item.kind == "message"]
    assert memories == [new_memory.id, old_memory.id]
    assert messages == [new_message.id, old_message.id]


def test_importance_and_pinning_break_ties(user, luna):
    trivia = _memory(user, luna, "Owns a bike", importance=2)
    important = _memory(user, luna, "Owns a bike", importance=8)
    pinned = _memory(user, luna, "Owns a bike", importance=2, pinned=True)

    items = recall(user=user, persona=luna, query="bike ride")

    assert _keys(items) == [
        ("memory", important.id),
        ("memory", pinned.id),
        ("memory", trivia.id),
    ]


def test_pinned_memories_without_overlap_only_fill_free_slots(user, luna):
    relevant = _memory(user, luna, "Plays the violin")
    pinned = _memory(user, luna, "Is recovering from surgery", pinned=True)
    _memory(user, luna, "Dislikes mushrooms", importance=10)

    assert _keys(recall(user=user, persona=luna, query="violin lessons", k=1)) == [
        ("memory", relevant.id)
    ]
    items = recall(user=user, persona=luna, query="violin lessons", k=5)
    assert _keys(items) == [("memory", relevant.id), ("memory", pinned.id)]
    assert items[1].score == 0.0


def test_no_other_pairs_rows_ever_appear(user, other_user, luna, maya):
    mine = _memory(user, luna, "Loves tango dancing")
    my_message = _message(user, luna, "tango dancing tonight")
    for owner, persona in ((other_user, luna), (user, maya), (other_user, maya)):
        _memory(owner, persona, "Loves tango dancing tango", importance=10, pinned=True)
        _message(owner, persona, "tango dancing tango dancing tonight")

    items = recall(user=user, persona=luna, query="tango dancing tonight", k=20)

    assert set(_keys(items)) == {("memory", mine.id), ("message", my_message.id)}
    theirs = recall(user=other_user, persona=luna, query="tango dancing tonight", k=20)
    assert len(theirs) == 2
    assert not set(_keys(theirs)) & {("memory", mine.id), ("message", my_message.id)}


def test_a_pair_without_matches_recalls_nothing_of_the_others(user, other_user, luna):
    _memory(other_user, luna, "Collects stamps")
    _message(other_user, luna, "my stamps collection")

    assert recall(user=user, persona=luna, query="stamps") == []


def test_sources_from_another_pair_are_not_reported(user, other_user, luna):
    own = _message(user, luna, "I adopted a parrot")
    foreign = _message(other_user, luna, "parrot")
    memory = _memory(user, luna, "Has a parrot", sources=[own, foreign])

    items = recall(user=user, persona=luna, query="parrot", exclude_message_ids=[own.id])

    assert _keys(items) == [("memory", memory.id)]
    assert items[0].source_message_ids == (own.id,)


def test_source_message_ids_are_reported(user, luna):
    first = _message(user, luna, "My cat is called Miso")
    second = _message(user, luna, "Miso the cat is grey and fluffy", new_thread=True)
    memory = _memory(
        user, luna, "Has a grey cat called Miso", importance=7, sources=[second, first]
    )

    items = recall(user=user, persona=luna, query="Miso the cat", k=5)

    assert items[0].kind == "memory"
    assert items[0].source_message_ids == (first.id, second.id)
    assert set(_keys(items)) == {
        ("memory", memory.id),
        ("message", first.id),
        ("message", second.id),
    }
    messages = {item.id: item for item in items if item.kind == "message"}
    assert messages[first.id].source_message_ids == (first.id,)
    assert messages[first.id].created_at == first.created_at


def test_exclude_message_ids_skips_the_message_being_answered(user, luna):
    earlier = _message(user, luna, "I baked sourdough bread", days_ago=3)
    current = _message(user, luna, "Want to hear about my sourdough bread?")

    items = recall(user=user, persona=luna, query=current.content, exclude_message_ids={current.id})

    assert _keys(items) == [("message", earlier.id)]


def test_failed_and_system_messages_are_skipped(user, luna):
    _message(user, luna, "Sorry, the volcano answer failed", role="assistant", status="failed")
    _message(user, luna, "volcano system note", role="system")
    reply = _message(user, luna, "Volcanoes are fascinating", role="assistant")

    assert _keys(recall(user=user, persona=luna, query="volcano")) == [("message", reply.id)]


@pytest.mark.parametrize("query", ["", "   ", "the and of it?", "!!!"])
def test_an_empty_or_stop_word_query_recalls_nothing(user, luna, query, django_assert_num_queries):
    _memory(user, luna, "Something pinned", pinned=True)
    with django_assert_num_queries(0):
        assert recall(user=user, persona=luna, query=query) == []


@pytest.mark.parametrize("size", [10, 300])
def test_the_number_of_queries_does_not_grow_with_history(
    user, luna, size, django_assert_max_num_queries
):
    conversation = Conversation.objects.create(user=user, persona=luna)
    messages = ChatMessage.objects.bulk_create(
        ChatMessage(
            conversation=conversation,
            user=user,
            persona=luna,
            role="user" if n % 2 else "assistant",
            content=f"garden note {n}: the tomatoes grow",
        )
        for n in range(size)
    )
    for n in range(5):
        _memory(user, luna, f"Grows tomatoes in bed {n}", sources=messages[n : n + 2])

    # The words' counts with the pinned memories, the ranked memories and messages, the
    # neighbours, the sources.
    with django_assert_max_num_queries(5):
        items = recall(user=user, persona=luna, query="how are the tomatoes growing?", k=8)

    assert len(items) == 8
    assert {item.kind for item in items} == {"memory", "message"}


def test_equal_matches_are_ordered_newest_first(user, luna):
    conversation = Conversation.objects.create(user=user, persona=luna)
    ChatMessage.objects.bulk_create(
        ChatMessage(
            conversation=conversation, user=user, persona=luna, role="user", content="rain again"
        )
        for _ in range(450)
    )
    newest = ChatMessage.objects.filter(user=user, persona=luna).order_by("-id")[:3]

    items = recall(user=user, persona=luna, query="rain", k=3)

    assert [item.id for item in items] == [message.id for message in newest]


def test_mark_recalled_stamps_the_memories_in_one_query(user, luna, django_assert_num_queries):
    recalled = _memory(user, luna, "Speaks Portuguese")
    untouched = _memory(user, luna, "Speaks no Klingon")
    _message(user, luna, "Portuguese lessons start Monday")
    items = recall(user=user, persona=luna, query="Portuguese")
    before = timezone.now()

    with django_assert_num_queries(1):
        memory_mark_recalled(
            user=user, persona=luna, memory_ids=[i.id for i in items if i.kind == "memory"]
        )

    recalled.refresh_from_db()
    untouched.refresh_from_db()
    assert recalled.last_recalled_at >= before
    assert untouched.last_recalled_at is None


def test_mark_recalled_without_memories_makes_no_query(user, luna, django_assert_num_queries):
    _message(user, luna, "Portuguese lessons start Monday")
    items = recall(user=user, persona=luna, query="Portuguese")
    with django_assert_num_queries(0):
        memory_mark_recalled(
            user=user, persona=luna, memory_ids=[i.id for i in items if i.kind == "memory"]
        )


def _busy_history(user, persona, seed):
    # Three conversations of turns holding the query's words more or less often, or not at
    # all, among filler of random length: scores spread out, and neighbours and
    # conversations lift some messages past others.
    rng = random.Random(seed)
    for thread in range(3):
        for n in range(30):
            words = [
                rng.choice(["kayak", "river", "trip", "paddle"]) for _ in range(rng.randint(0, 3))
            ]
            words += ["filler"] * rng.randint(0, 12)
            rng.shuffle(words)
            _message(
                user,
                persona,
                " ".join(words or ["hm"]) + rng.choice(["", "?"]),
                role="user" if n % 2 == 0 else "assistant",
                days_ago=thread * 40 + rng.randint(0, 5),
                new_thread=(n == 0),
            )
    _memory(user, persona, "Paddles a kayak on weekends", importance=6)


@pytest.mark.parametrize("seed", range(4))
def test_skipping_the_neighbours_of_hopeless_messages_changes_nothing(
    user, luna, seed, monkeypatch
):
    """Recall fetches neighbours only for messages that may rank among the first 2k; with
    every message's neighbours fetched, the answer is the same."""
    from chat import selectors as chat_selectors
    from memory import recall as recall_module

    _busy_history(user, luna, seed)
    asked = []
    fetch = chat_selectors.message_neighbours

    def counting(**kwargs):
        asked.append(len(kwargs["ids"]))
        return fetch(**kwargs)

    monkeypatch.setattr(recall_module.chat_selectors, "message_neighbours", counting)
    may_reach = recall_module._may_reach
    for query in ["kayak river trip", "paddle", "the kayak trip in 2026"]:
        for k in (1, 2, 3, 5):
            monkeypatch.setattr(recall_module, "_may_reach", may_reach)
            pruned = recall(user=user, persona=luna, query=query, k=k)
            monkeypatch.setattr(recall_module, "_may_reach", lambda *, base, **_: list(base))
            whole = recall(user=user, persona=luna, query=query, k=k)
            assert pruned == whole, (query, k)
    assert min(asked[0::2]) < max(asked[1::2])  # some neighbours were not looked up


def test_a_message_far_from_strong_turns_is_not_looked_up(user, luna, monkeypatch):
    """A message's neighbour is at best one of the matching turns next to it: a weak one whose
    adjacent matches are weak too has its neighbours looked up no more, however strong
    another message of its conversation is."""
    from chat import selectors as chat_selectors
    from memory import recall as recall_module

    _message(user, luna, "kayak river trip, the kayak river trip!")
    weak = [
        _message(user, luna, " ".join(["kayak", *["filler"] * n]), role=role)
        for n, role in zip(range(1, 13), ["assistant", "user"] * 6, strict=True)
    ]
    asked: list[int] = []
    fetch = chat_selectors.message_neighbours

    def counting(**kwargs):
        asked.extend(kwargs["ids"])
        return fetch(**kwargs)

    monkeypatch.setattr(recall_module.chat_selectors, "message_neighbours", counting)
    recall(user=user, persona=luna, query="kayak river trip", k=1)
    assert weak[0].id in asked
    assert weak[-1].id not in asked
