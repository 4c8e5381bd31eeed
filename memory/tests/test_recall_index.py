"""Recall searches the database's full-text index over a pair's whole history."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import ChatMessage, Conversation
from chat.selectors import message_neighbours
from memory.models import ConversationMemory
from memory.recall import named_period, recall
from memory.selectors import recall_word_counts, recall_word_counts_and_extras
from mybella.core import fulltext
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db


def _conversation(user, persona):
    return Conversation.objects.create(user=user, persona=persona)


def _bulk(conversation, texts, *, role="user"):
    """Insert the messages in bulk, in order, each a microsecond after the one before."""
    start = timezone.now()
    return ChatMessage.objects.bulk_create(
        (
            ChatMessage(
                conversation=conversation,
                user_id=conversation.user_id,
                persona_id=conversation.persona_id,
                role=role,
                content=text,
                created_at=start + timezone.timedelta(microseconds=n),
            )
            for n, text in enumerate(texts)
        ),
        batch_size=5000,
    )


def _keys(items):
    return [(item.kind, item.id) for item in items]


def test_the_first_message_is_found_after_50000_later_ones(user, luna):
    """Old evidence is not cut off: the whole history is searched, not the newest part."""
    conversation = _conversation(user, luna)
    first = _bulk(conversation, ["My first cat was called Zanzibar, a grumpy tabby"])[0]
    _bulk(conversation, (f"note {n}: my cat knocked the tabby mug over" for n in range(50_000)))

    items = recall(user=user, persona=luna, query="what was the name of my first cat Zanzibar?")

    assert items[0].id == first.id
    assert ChatMessage.objects.filter(user=user, persona=luna).count() == 50_001


def _analyze():
    """Gather the planner's statistics (PostgreSQL reads them to skip counting common words)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    fulltext.forget_statistics()


def test_a_word_common_among_other_pairs_is_rare_for_this_one(user, other_user, luna):
    """Old evidence is not cut off because other users say the same everyday words."""
    maya = PersonaProfile.objects.get(slug="maya")
    conversation = _conversation(user, luna)
    wedding = _bulk(conversation, ["My sister's wedding is in Porto next spring"])[0]
    _bulk(conversation, (f"note {n}: the weather was fine today" for n in range(2000)))
    for owner, persona in ((other_user, luna), (user, maya)):
        _bulk(_conversation(owner, persona), ["my sister's wedding was lovely"] * 3000)
        ConversationMemory.objects.bulk_create(
            ConversationMemory(user=owner, persona=persona, content="Went to a sister's wedding")
            for _ in range(300)
        )
    memory = ConversationMemory.objects.create(
        user=user, persona=luna, content="Her sister is getting married: a wedding in Porto"
    )
    _analyze()

    memories, messages = recall_word_counts(user=user, persona=luna, words=["wedding", "sister"])
    items = recall(user=user, persona=luna, query="what did I say about my sister's wedding?")

    assert {word: mine for word, (mine, _) in messages.items()} == {"wedding": 1, "sister": 1}
    assert {word: mine for word, (mine, _) in memories.items()} == {"wedding": 1, "sister": 1}
    assert set(_keys(items)) == {("message", wedding.id), ("memory", memory.id)}


def test_a_word_the_pair_says_often_stays_common_with_statistics(user, luna):
    conversation = _conversation(user, luna)
    _bulk(conversation, ["rain and more rain"] * 2100)
    _bulk(conversation, ["a sunny day"])
    _analyze()

    _, messages = recall_word_counts(user=user, persona=luna, words=["rain", "sunny", "the"])

    assert {word: mine for word, (mine, _) in messages.items()} == {
        "rain": 101,
        "sunny": 1,
        "the": 0,
    }


def test_a_words_count_is_the_pairs_rows_whether_rare_or_common_in_the_whole_index(
    user, other_user, luna
):
    """SQLite counts a word rare in the whole index among its rows, else through the pair
    token: either way the pair's rows only, another user's and another persona's left out."""
    maya = PersonaProfile.objects.get(slug="maya")
    _bulk(_conversation(user, luna), ["a kayak trip"] * 3 + ["pottery class"] * 2)
    _bulk(_conversation(user, luna), ["the violin again"] * 120)
    _bulk(_conversation(other_user, luna), ["kayak"] * 4 + ["pottery"] * 200)
    _bulk(_conversation(user, maya), ["kayak"] * 5)

    _, messages = recall_word_counts(
        user=user, persona=luna, words=["kayak", "pottery", "violin", "harp"]
    )

    assert {word: mine for word, (mine, _) in messages.items()} == {
        "kayak": 3,
        "pottery": 2,
        "violin": 101,
        "harp": 0,
    }
    if connection.vendor == "sqlite":  # PostgreSQL counts the pair's rows only
        assert {word: every for word, (_, every) in messages.items()} == {
            "kayak": 12,
            "pottery": 101,
            "violin": 101,
            "harp": 0,
        }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_the_statistics_are_read_once_not_at_every_search(user, luna):
    conversation = _conversation(user, luna)
    _bulk(conversation, ["rain and more rain"] * 2100)
    _analyze()

    searches = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            _, messages = recall_word_counts(user=user, persona=luna, words=["rain"])
        searches.append([query["sql"] for query in queries.captured_queries])
        assert messages == {"rain": (101, 101)}

    assert [sum("pg_stats" in sql for sql in search) for search in searches] == [1, 0, 0]
    assert [len(search) for search in searches] == [2, 1, 1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's GIN indexes")
def test_the_gin_indexes_write_through_so_searches_read_no_pending_list():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
            [
                [
                    "chat_message_pair_terms_idx",
                    "chat_message_search_idx",
                    "memory_pair_terms_idx",
                    "memory_search_idx",
                ]
            ],
        )
        options = dict(cursor.fetchall())
    assert len(options) == 4
    assert all(option == ["fastupdate=off"] for option in options.values()), options


def test_the_pinned_memories_are_read_through_their_own_index(user, other_user, luna):
    """Recall reads the pinned memories at every search: not all of the pair's memories."""
    for owner in (user, other_user):
        ConversationMemory.objects.bulk_create(
            ConversationMemory(user=owner, persona=luna, content=f"fact {n}", pinned=n == 0)
            for n in range(2000)
        )
    _analyze()

    with CaptureQueriesContext(connection) as queries:
        _, _, extras = recall_word_counts_and_extras(
            user=user, persona=luna, words=["fact"], with_embeddings=False, limit=5, head_chars=50
        )
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    (statement,) = [q["sql"] for q in queries.captured_queries if "t.pinned" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(explain + statement)
        plan = " ".join(str(part) for row in cursor.fetchall() for part in row)

    assert [memory.pinned for memory in extras] == [True]
    assert "memory_pair_pinned_idx" in plan


def test_words_are_stemmed_by_the_index(user, luna):
    conversation = _conversation(user, luna)
    hiking = _bulk(conversation, ["We went hiking in the Alps"])[0]
    _bulk(conversation, ["The weather was fine"])

    assert _keys(recall(user=user, persona=luna, query="do you like hikes?")) == [
        ("message", hiking.id)
    ]


def test_the_index_follows_edits_and_deletes_of_messages(user, luna):
    conversation = _conversation(user, luna)
    message = _bulk(conversation, ["I adopted a ferret"])[0]
    assert _keys(recall(user=user, persona=luna, query="ferret")) == [("message", message.id)]

    message.content = "I adopted a hedgehog"
    message.save()
    assert recall(user=user, persona=luna, query="ferret") == []
    assert _keys(recall(user=user, persona=luna, query="hedgehog")) == [("message", message.id)]

    ChatMessage.objects.filter(pk=message.pk).update(content="I adopted an axolotl")
    assert recall(user=user, persona=luna, query="hedgehog") == []
    assert _keys(recall(user=user, persona=luna, query="axolotl")) == [("message", message.id)]

    message.delete()
    assert recall(user=user, persona=luna, query="axolotl") == []


def test_a_reply_is_found_once_it_is_finished(user, luna):
    """A streamed reply is pending while it is written: only a finished one is recalled."""
    conversation = _conversation(user, luna)
    reply = ChatMessage.objects.create(
        conversation=conversation,
        user=user,
        persona=luna,
        role="assistant",
        content="Volcanoes",
        status=ChatMessage.Status.PENDING,
    )
    assert recall(user=user, persona=luna, query="volcanoes") == []

    reply.status = ChatMessage.Status.OK
    reply.save()
    assert _keys(recall(user=user, persona=luna, query="volcanoes")) == [("message", reply.id)]

    reply.status = ChatMessage.Status.FAILED
    reply.save()
    assert recall(user=user, persona=luna, query="volcanoes") == []


def test_the_index_follows_edits_and_deletes_of_memories(user, luna):
    memory = ConversationMemory.objects.create(user=user, persona=luna, content="Plays the oboe")
    assert _keys(recall(user=user, persona=luna, query="oboe")) == [("memory", memory.id)]

    memory.content = "Plays the cello"
    memory.save()
    assert recall(user=user, persona=luna, query="oboe") == []
    assert _keys(recall(user=user, persona=luna, query="cello")) == [("memory", memory.id)]

    memory.delete()
    assert recall(user=user, persona=luna, query="cello") == []


def test_the_index_holds_nothing_of_another_pair(user, other_user, luna):
    """Isolation holds in the index, for rare words and for words too common to rank."""
    maya = PersonaProfile.objects.get(slug="maya")
    # Two threads: neither message is shown as the other's neighbour instead of on its own.
    mine = [_bulk(_conversation(user, luna), [text])[0] for text in ("rain in Reykjavik", "rain")]
    for owner, persona in ((other_user, luna), (user, maya)):
        _bulk(_conversation(owner, persona), ["rain in Reykjavik"] * 2100)
        ConversationMemory.objects.create(user=owner, persona=persona, content="Reykjavik rain")

    rare = recall(user=user, persona=luna, query="Reykjavik", k=50)
    common = recall(user=user, persona=luna, query="rain", k=50)

    assert _keys(rare) == [("message", mine[0].id)]
    assert set(_keys(common)) == {("message", m.id) for m in mine}


def test_a_word_too_common_to_rank_still_finds_the_newest_matches(user, luna):
    conversation = _conversation(user, luna)
    rainy = _bulk(conversation, ["rain and more rain"] * 2100)
    _bulk(conversation, ["a sunny day"])

    items = recall(user=user, persona=luna, query="rain", k=3)

    assert [item.id for item in items] == [m.id for m in reversed(rainy[-3:])]


def test_a_rare_word_outranks_a_common_one_in_a_long_history(user, luna):
    conversation = _conversation(user, luna)
    pixel = _bulk(conversation, ["My dog is called Pixel"])[0]
    _bulk(conversation, (f"walked the dog, day {n}" for n in range(2100)))

    items = recall(user=user, persona=luna, query="What is my dog called? Pixel?", k=1)

    assert _keys(items) == [("message", pixel.id)]


def test_a_recalled_message_comes_with_its_neighbours_and_date(user, luna):
    conversation = _conversation(user, luna)
    question, answer, later = _bulk(
        conversation,
        ["Where did you grow up?", "In Porto, by the river", "Nice weather today"],
    )
    _bulk(_conversation(user, luna), ["Porto again"])  # another thread: not a neighbour

    items = recall(user=user, persona=luna, query="river", k=1)

    assert items[0].id == answer.id
    assert items[0].said_at == answer.created_at
    assert (items[0].before.id, items[0].before.content) == (question.id, question.content)
    assert (items[0].before.role, items[0].before.created_at) == ("user", question.created_at)
    assert (items[0].after.id, items[0].after.matches) == (later.id, False)
    assert items[0].context == (items[0].before, items[0].after)


def test_a_neighbour_sharing_a_word_of_the_query_is_marked(user, luna):
    conversation = _conversation(user, luna)
    first, second = _bulk(conversation, ["My sister Ana", "Ana moved to Berlin with Ana's cat"])

    items = recall(user=user, persona=luna, query="Ana Berlin", k=1)

    assert items[0].id == second.id
    assert items[0].before.matches and items[0].before.id == first.id
    assert items[0].after is None


def test_a_memory_is_dated_by_its_first_source(user, luna):
    conversation = _conversation(user, luna)
    early, late = _bulk(conversation, ["I got a parrot", "The parrot talks"])
    memory = ConversationMemory.objects.create(user=user, persona=luna, content="Has a parrot")
    memory.source_messages.add(late, early)

    items = recall(user=user, persona=luna, query="parrot", k=5)

    dated = {item.id: item.said_at for item in items if item.kind == "memory"}
    assert dated == {memory.id: early.created_at}


def test_the_index_exists_for_this_database():
    """The migrations built the index this database searches (and SQLite's triggers).

    A migration that remakes the messages' or memories' table on SQLite drops its
    triggers: this fails until that migration creates them again.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE '%fts%'")
            expected = {
                f"{index}{part}"
                for index in ("chat_message_fts", "memory_fts")
                for part in ("", "_insert", "_update", "_delete")
            }
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_idx'")
            expected = {
                "chat_message_search_idx",
                "memory_search_idx",
                "chat_message_pair_terms_idx",
                "memory_pair_terms_idx",
            }
        assert expected <= {name for (name,) in cursor.fetchall()}


def test_the_reply_to_a_recalled_question_bears_on_the_query(user, luna):
    conversation = _conversation(user, luna)
    question, answer, _ = _bulk(
        conversation,
        ["Where did you go on that road trip?", "Up the coast to Oregon", "Fun!"],
    )

    items = recall(user=user, persona=luna, query="road trip", k=1)

    assert items[0].id == question.id
    assert (items[0].after.id, items[0].after.matches) == (answer.id, True)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Who came on May 3, 2023?", (2023, 5, 2), (2023, 5, 5)),
        ("what happened on 3 June, 2023", (2023, 6, 2), (2023, 6, 5)),
        ("the week before August 3rd 2023", (2023, 8, 2), (2023, 8, 5)),
        ("What did I start in December 2023?", (2023, 12, 1), (2024, 1, 1)),
        ("Where did we go in 2022?", (2022, 1, 1), (2023, 1, 1)),
    ],
)
def test_a_date_in_the_query_names_a_period(text, start, end):
    assert named_period(text) == (datetime(*start, tzinfo=UTC), datetime(*end, tzinfo=UTC))


@pytest.mark.parametrize("text", ["What may I do?", "on February 30, 2023", "room 2023"])
def test_no_date_no_period(text):
    assert named_period(text) is None


def test_what_was_said_in_the_period_a_question_names_comes_first(user, luna):
    june, december = (_bulk(_conversation(user, luna), ["My pottery class"])[0] for _ in "ab")
    ChatMessage.objects.filter(pk=june.pk).update(created_at=datetime(2023, 6, 3, tzinfo=UTC))
    ChatMessage.objects.filter(pk=december.pk).update(created_at=datetime(2023, 12, 9, tzinfo=UTC))

    items = recall(user=user, persona=luna, query="Which class in June 2023?", k=2)
    assert [item.id for item in items] == [june.id, december.id]
    items = recall(user=user, persona=luna, query="Which class?", k=2)
    assert [item.id for item in items] == [december.id, june.id]


def test_neighbours_are_read_along_the_thread_index_not_sorted(user, other_user, luna):
    """Each neighbour is the next entry of the thread index: no conversation is sorted.

    A conversation's rows are all one pair's, which the planner cannot know: asked for
    the pair as well, PostgreSQL read the conversation through two indexes and sorted it
    before each message on the bench's database (3.1 ms for 33 messages, now 1.0 ms). At
    this size it mostly chose the thread index even then: this guards the plan.
    """
    others = PersonaProfile.objects.exclude(pk=luna.pk)[:3]
    for owner in (user, other_user):
        for persona in [luna, *others]:
            for _ in range(5):
                _bulk(_conversation(owner, persona), (f"turn {n}" for n in range(250)))
    _analyze()
    ids = list(
        ChatMessage.objects.filter(user=user, persona=luna).values_list("id", flat=True)[::97]
    )

    with CaptureQueriesContext(connection) as queries:
        found = message_neighbours(user=user, persona=luna, ids=ids, head_chars=20)
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + queries.captured_queries[0]["sql"])
        plan = " ".join(str(part) for row in cursor.fetchall() for part in row)

    assert sorted(found) == sorted(ids)
    assert "message_thread_idx" in plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_neighbours_are_the_good_messages_around_each_one_as_the_orm_orders_them(
    user, other_user, luna
):
    """Each message's neighbours are the good messages (finished, the user's or the
    persona's, not empty) just before and after it in its conversation, by time then id,
    same instants included; the same as reading the conversation in order with the ORM."""
    moment = datetime(2024, 3, 1, 12, tzinfo=UTC)
    conversations = [_conversation(user, luna), _conversation(user, luna)]
    _bulk(_conversation(other_user, luna), ["someone else"] * 5)
    kinds = [
        ("user", "ok", "first"),
        ("assistant", "ok", "second"),
        ("assistant", "failed", "a failed reply"),
        ("system", "ok", "a note"),
        ("user", "ok", ""),
        ("user", "ok", "after the gap"),
        ("assistant", "ok", "same instant a"),
        ("user", "ok", "same instant b"),
        ("assistant", "ok", "last " * 10),
    ]
    for conversation in conversations:
        for n, (role, status, content) in enumerate(kinds):
            message = ChatMessage.objects.create(
                conversation=conversation,
                user=user,
                persona=luna,
                role=role,
                status=status,
                content=content,
            )
            seconds = min(n, 6)  # the last three share one instant
            ChatMessage.objects.filter(pk=message.pk).update(
                created_at=moment + timezone.timedelta(seconds=seconds)
            )
    # Said last, though its id comes first.
    ChatMessage.objects.filter(conversation=conversations[1], content="first").update(
        created_at=moment + timezone.timedelta(days=1)
    )
    mine = ChatMessage.objects.filter(user=user, persona=luna)
    ids = list(mine.values_list("id", flat=True))

    found = message_neighbours(user=user, persona=luna, ids=ids, head_chars=12)

    expected = {}
    for message in mine:
        thread = list(
            ChatMessage.objects.filter(
                conversation_id=message.conversation_id,
                status="ok",
                role__in=["user", "assistant"],
            )
            .exclude(content="")
            .order_by("created_at", "id")
        )
        keys = [(m.created_at, m.id) for m in thread]
        key = (message.created_at, message.id)
        earlier = [m for m, k in zip(thread, keys, strict=True) if k < key]
        later = [m for m, k in zip(thread, keys, strict=True) if k > key]
        expected[message.id] = tuple(
            None if m is None else (m.id, m.role, m.created_at, m.content[:12])
            for m in (earlier[-1] if earlier else None, later[0] if later else None)
        )
    assert {
        i: tuple(None if n is None else (n.id, n.role, n.created_at, n.head) for n in pair)
        for i, pair in found.items()
    } == expected
    assert any(None not in pair for pair in expected.values())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_ids_come_as_one_array_so_a_statement_is_prepared_once(user, luna):
    """psycopg prepares a statement once a connection ran its text five times: with a
    placeholder per id, each number of ids was a statement of its own, planned at every
    run. The neighbours' and the memories' ids come as one array: one text each."""
    conversation = _conversation(user, luna)
    texts = [f"kayak {'trip ' * (n % 3)}on the lake" for n in range(12)]
    messages = _bulk(conversation, [*texts, "violin recital", "violin lesson"])
    for n in range(4):
        memory = ConversationMemory.objects.create(
            user=user, persona=luna, content=f"Likes kayak trips {n}"
        )
        memory.source_messages.set(messages[n : n + 1 + n])
    ConversationMemory.objects.create(user=user, persona=luna, content="Plays violin")
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        kayak = recall(user=user, persona=luna, query="kayak trip", k=10)
        violin = recall(user=user, persona=luna, query="violin", k=10)

    assert len(kayak) > len(violin) > 0
    for marker in ("b.role", "s.conversationmemory_id"):  # ids in each
        texts = [sql for sql in statements if marker in sql]
        assert len(texts) == 2 and len(set(texts)) == 1, texts
    # The pinned memories come with the words' counts (a text per number of words), and
    # whatever was found, their part of it is one text: no ids left out there.
    pinned = [sql.partition("LEFT JOIN")[2] for sql in statements if "t.pinned DESC" in sql]
    assert len(pinned) == 2 and len(set(pinned)) == 1, pinned
