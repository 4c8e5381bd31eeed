"""Recall's query and ranking rules: the pair's names, one slot per stretch of turns."""

import pytest
from django.utils import timezone

from chat.models import ChatMessage, Conversation
from memory.models import ConversationMemory
from memory.recall import pair_names, recall

pytestmark = pytest.mark.django_db


@pytest.fixture
def robin(user):
    user.display_name = "Robin"
    user.save(update_fields=["display_name"])
    return user


def _thread(user, persona, texts):
    """Add a conversation of `texts`, in order, each a microsecond after the one before."""
    conversation = Conversation.objects.create(user=user, persona=persona)
    start = timezone.now()
    return ChatMessage.objects.bulk_create(
        ChatMessage(
            conversation=conversation,
            user=user,
            persona=persona,
            role="user",
            content=text,
            created_at=start + timezone.timedelta(microseconds=n),
        )
        for n, text in enumerate(texts)
    )


def test_the_pair_names_are_the_persona_and_the_users_given_name(robin, luna):
    robin.first_name = "Robin Alves"
    assert pair_names(user=robin, persona=luna) == {"luna", "robin", "alves"}


def test_the_pairs_names_do_not_recall_greetings(robin, luna):
    _thread(robin, luna, ["Hey Robin, Luna here, so good to see you!"])
    (beach,) = _thread(robin, luna, ["Pixel ran along the beach all morning"])

    items = recall(user=robin, persona=luna, query="Did Robin tell Luna about the beach?", k=5)

    assert [item.id for item in items] == [beach.id]
    assert recall(user=robin, persona=luna, query="Robin and Luna", k=5) == []


def test_a_turn_shown_around_a_better_one_takes_no_slot_of_its_own(user, luna):
    question, answer, _ = _thread(
        user, luna, ["Road trip?", "Yes, a road trip up the coast to Oregon", "Fun"]
    )
    (photos,) = _thread(
        user, luna, ["The photos of our road trip last summer are printed and framed now"]
    )

    items = recall(user=user, persona=luna, query="road trip", k=2)

    assert [item.id for item in items] == [question.id, photos.id]
    assert (items[0].after.id, items[0].after.matches) == (answer.id, True)


def test_a_recalled_memory_has_no_turns_around_it(user, luna):
    before, message, after = _thread(user, luna, ["Hello there", "A parrot called Kiwi", "Nice"])
    # A memory whose id is a recalled message's: it takes nothing of that message's context.
    memory = ConversationMemory.objects.create(
        id=message.id, user=user, persona=luna, content="Has a parrot called Kiwi", importance=9
    )

    items = recall(user=user, persona=luna, query="parrot Kiwi", k=2)

    assert [(item.kind, item.id) for item in items] == [
        ("memory", memory.id),
        ("message", message.id),
    ]
    assert (items[0].before, items[0].after) == (None, None)
    assert (items[1].before.id, items[1].after.id) == (before.id, after.id)


def test_a_word_agrees_with_a_longer_form_of_it(user, luna):
    """The index takes "celebration" and "celebrate" for one word: recall's own count agrees."""
    (party,) = _thread(user, luna, ["We will celebrate with the whole family on Friday"])
    _thread(user, luna, ["The agency called twice about the paperwork"])

    items = recall(user=user, persona=luna, query="How was the celebration?", k=5)

    assert [item.id for item in items] == [party.id]


def test_short_words_do_not_agree_with_longer_ones(user, luna):
    (ready,) = _thread(user, luna, ["The room is ready for guests"])

    assert recall(user=user, persona=luna, query="What did I read?", k=5) == []
    assert [i.id for i in recall(user=user, persona=luna, query="ready", k=5)] == [ready.id]


def test_a_conversation_about_the_query_lifts_its_other_turns(user, luna):
    """Of two equal turns, the one in the conversation where the query's words come back wins."""
    talk = _thread(
        user,
        luna,
        [
            "Basil and mint seeds for the new herb garden, basil everywhere",
            "Anyway, the weather was awful",
            "I watered the basil today",
        ],
    )
    (alone,) = _thread(user, luna, ["I watered the basil today"])  # newer: wins a tie

    items = recall(user=user, persona=luna, query="basil mint", k=3)

    assert [item.id for item in items] == [talk[0].id, talk[2].id, alone.id]


def test_turns_that_bear_on_each_other_come_before_a_lone_turn(user, luna):
    question, answer, _, alone = _thread(
        user,
        luna,
        [
            "Did you see any whales or dolphins on the boat trip?",
            "Yes, whales and dolphins, right next to the rocks at dawn",
            "Anyway, the weather was awful",
            "Whales and dolphins on a poster",
        ],
    )

    items = recall(user=user, persona=luna, query="whales dolphins", k=1)

    assert [(items[0].id, items[0].after.id)] == [(question.id, answer.id)]
    # The prompt takes texts alone, without the turns around them: words only.
    words_only = recall(user=user, persona=luna, query="whales dolphins", k=1, with_context=False)
    assert [item.id for item in words_only] == [alone.id]
