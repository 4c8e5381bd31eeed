"""Reads of memories and preferences, scoped to one (user, persona) pair or to the personas
the user can see.

Raise `NotFound` for a memory that is missing, someone else's or held by a persona the
user can no longer see: all three read the same.
"""

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Prefetch, QuerySet

from chat import selectors as chat_selectors
from chat.models import ChatMessage, Conversation
from memory.models import (
    ConversationMemory,
    MemoryEvent,
    MemorySettings,
    SummarisedStretch,
    UserPreference,
)
from mybella.core.errors import NotFound
from mybella.core.fulltext import FullTextIndex, search_sql, word_counts, word_counts_with_rows
from mybella.core.rows import datetime_column, fetch_all, field_converter, id_in, valid_id
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.selectors import persona_list_visible


def _with_sources(memories: QuerySet[ConversationMemory]) -> QuerySet[ConversationMemory]:
    return memories.prefetch_related(
        Prefetch("source_messages", queryset=chat_selectors.message_ids_only()),
    )


def _with_history(memories: QuerySet[ConversationMemory], *, user: User) -> QuerySet:
    """Prefetch each memory's recent history as `.history`, newest first."""
    history = MemoryEvent.objects.filter(user=user).order_by("-created_at", "-id")
    return memories.prefetch_related(Prefetch("events", queryset=history, to_attr="history"))


def memory_list(
    *, user: User, persona: PersonaProfile, superseded: bool = False
) -> QuerySet[ConversationMemory]:
    """Return what `persona` remembers about `user`, pinned and important first.

    Only the memories that still count, unless `superseded`: then only those a newer
    memory replaced (each with its replacement's id, `superseded_by_id`).
    """
    memories = ConversationMemory.objects.filter(
        user=user, persona=persona, superseded_by__isnull=not superseded
    )
    return _with_sources(memories)


def memory_list_with_history(
    *, user: User, persona: PersonaProfile, superseded: bool = False
) -> QuerySet[ConversationMemory]:
    """Return the pair's memories (as `memory_list`), each with its recent history as
    `.history`, newest first."""
    return _with_history(memory_list(user=user, persona=persona, superseded=superseded), user=user)


def memory_by_id(*, user: User, persona: PersonaProfile) -> dict[int, ConversationMemory]:
    """Return the pair's memories by id (without their sources), superseded ones too, in one
    query."""
    return {m.id: m for m in ConversationMemory.objects.filter(user=user, persona=persona)}


def memory_list_visible(*, user: User, with_history: bool = False) -> QuerySet:
    """Return `user`'s memories held by personas they can see (for lookups by id).

    `with_history` adds each memory's sources and its recent history (`.history`).
    """
    memories = ConversationMemory.objects.filter(
        user=user, persona__in=persona_list_visible(user=user)
    ).select_related("persona")
    if with_history:
        memories = _with_history(_with_sources(memories), user=user)
    return memories


def memory_get_visible(*, user: User, pk: object, with_history: bool = False) -> ConversationMemory:
    """Return `user`'s memory `pk` if its persona is one they can see; raise NotFound if not."""
    memory = (
        memory_list_visible(user=user, with_history=with_history).filter(pk=valid_id(pk)).first()
    )
    if memory is None:
        raise NotFound
    return memory


def memories_by_ids(*, ids: Iterable[int]) -> list[ConversationMemory]:
    """Return the memories among `ids` with only their id and content, for background work.

    The ids come from memory's own services (`memory.signals.memory_content_changed`), so
    they are not scoped to a caller again.
    """
    return list(ConversationMemory.objects.filter(id__in=list(ids)).only("id", "content"))


# A memory a newer one replaced is not recalled (it stays in the index: replacing is undone
# when the replacement is deleted).
MEMORY_INDEX = FullTextIndex(
    table=ConversationMemory._meta.db_table,
    fts_table="memory_fts",
    keep="t.superseded_by_id IS NULL",
)


def recall_word_counts(
    *, user: User, persona: PersonaProfile, words: Sequence[str]
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Return how many of the pair's memories, and of its messages, hold each of `words`.

    Per word: (the pair's rows, all rows), each counted up to
    `mybella.core.fulltext.COMMON_AT` + 1, in one query (none without words).
    """
    memories, messages = word_counts(
        [MEMORY_INDEX, chat_selectors.MESSAGE_INDEX],
        user_id=user.pk,
        persona_id=persona.pk,
        words=words,
    )
    return memories, messages


@dataclass(frozen=True, slots=True)
class MemoryCandidate:
    """A memory recall weighs: what it reads of it."""

    id: int
    created_at: datetime
    head: str
    importance: int
    pinned: bool
    embedding: list[float] | None


def _created_at() -> tuple[str, Callable[[Any], Any]]:
    return datetime_column(ConversationMemory, "created_at", "t.created_at")


def _memory_candidates(rows: list[tuple]) -> list[MemoryCandidate]:
    _, created_at = _created_at()
    embedding = field_converter(ConversationMemory, "embedding")
    return [
        MemoryCandidate(
            id,
            created_at(at),
            head or "",
            importance,
            bool(pinned),
            None if vector is None else embedding(vector),
        )
        for id, at, head, importance, pinned, vector in rows
    ]


def memory_recall_candidates(
    *,
    user: User,
    persona: PersonaProfile,
    counts: Mapping[str, tuple[int, int]],
    limit: int,
    head_chars: int,
) -> list[MemoryCandidate]:
    """Return up to `limit` of the pair's memories that hold any of the words, best first.

    `counts` are the words' matches among the memories (`recall_word_counts`). Ranked by
    the database's full-text index over all the pair's memories (see
    `mybella.core.fulltext`). Each carries `id`, `created_at`, `head`, the first
    `head_chars` characters of its content, `importance`, `pinned` and `embedding`.
    No matches, no query.
    """
    query = search_sql(
        MEMORY_INDEX,
        user_id=user.pk,
        persona_id=persona.pk,
        counts=counts,
        limit=limit,
        head_chars=head_chars,
        columns=["importance", "pinned", "embedding"],
        created_at=_created_at()[0],
    )
    if not query:
        return []
    # id, created_at, head, score, importance, pinned, embedding: the score is not read.
    return _memory_candidates([row[:3] + row[4:] for row in fetch_all(*query)])


def _extras_sql(
    user: User, persona: PersonaProfile, with_embeddings: bool, limit: int, head_chars: int
) -> tuple[str, list[object]]:
    """The pair's memories recall weighs besides word matches: the pinned ones and,
    `with_embeddings`, those with an embedding; up to `limit`, pinned and important first.
    Each carries what `memory_recall_candidates`' do; `embedding` only `with_embeddings`."""
    table = ConversationMemory._meta.db_table
    # "t.pinned" as the partial index says it, not "= %s": SQLite uses a partial index only
    # for a query whose WHERE holds the index's own term (a bound value may not count).
    wanted = "(t.pinned OR t.embedding IS NOT NULL)" if with_embeddings else "t.pinned"
    vector = "t.embedding" if with_embeddings else "NULL"
    sql = (
        f"SELECT t.id, {_created_at()[0]}, substr(t.content, 1, %s), t.importance, t.pinned, "  # noqa: S608
        f"{vector} FROM {table} t WHERE t.user_id = %s AND t.persona_id = %s "
        f"AND t.superseded_by_id IS NULL AND {wanted} "
        "ORDER BY t.pinned DESC, t.importance DESC, t.created_at DESC, t.id DESC LIMIT %s"
    )
    return sql, [head_chars, user.pk, persona.pk, limit]


def recall_word_counts_and_extras(
    *,
    user: User,
    persona: PersonaProfile,
    words: Sequence[str],
    with_embeddings: bool,
    limit: int,
    head_chars: int,
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]], list[MemoryCandidate]]:
    """Return `recall_word_counts`' two answers and the pair's pinned memories (with
    `with_embeddings`, also those with an embedding), in one query: one round trip less
    for every search.

    The extras are pinned and important first, up to `limit`: a caller that leaves
    out some ids (those found by words) asks for that many more, then takes its own limit.
    """
    extras = _extras_sql(user, persona, with_embeddings, limit, head_chars)
    (memories, messages), rows = word_counts_with_rows(
        [MEMORY_INDEX, chat_selectors.MESSAGE_INDEX],
        user_id=user.pk,
        persona_id=persona.pk,
        words=words,
        rows=extras,
    )
    found = _memory_candidates(rows)
    # Their query's order: pinned first, then the most important, the newest, the last id.
    found.sort(key=lambda m: (m.pinned, m.importance, m.created_at, m.id), reverse=True)
    return memories, messages, found


def memory_sources(
    *, user: User, persona: PersonaProfile, memory_ids: Iterable[int]
) -> dict[int, tuple[tuple[int, ...], datetime]]:
    """Return, by memory id, the ids of the pair's own messages it came from and when the
    first of them was said.

    One query (none without ids), plain rows: every search that recalls a memory runs it,
    and a queryset's compiling cost more than the query. A memory without sources is left out.
    """
    ids = [int(i) for i in memory_ids]
    if not ids:
        return {}
    through = ConversationMemory.source_messages.through._meta.db_table
    said, created_at = datetime_column(ChatMessage, "created_at", "m.created_at")
    memory_in, memory_ids = id_in("s.conversationmemory_id", ids)
    sql = (
        f"SELECT s.conversationmemory_id, s.chatmessage_id, {said} FROM {through} s "  # noqa: S608
        f"JOIN {ChatMessage._meta.db_table} m ON m.id = s.chatmessage_id "
        f"WHERE {memory_in} AND m.user_id = %s AND m.persona_id = %s"
    )
    found: dict[int, list[tuple[int, datetime]]] = {}
    for memory_id, message_id, said_at in fetch_all(sql, [*memory_ids, user.pk, persona.pk]):
        found.setdefault(memory_id, []).append((message_id, created_at(said_at)))
    return {
        memory_id: (tuple(sorted(i for i, _ in sources)), min(at for _, at in sources))
        for memory_id, sources in found.items()
    }


def memories_from_messages(
    *, user: User, persona: PersonaProfile, message_ids: Collection[int]
) -> QuerySet[ConversationMemory]:
    """Return the pair's memories that came (at least partly) from any of `message_ids`.

    Each carries the ids of all its sources (prefetched), those messages and others.
    """
    return _with_sources(
        ConversationMemory.objects.filter(
            user=user, persona=persona, source_messages__in=list(message_ids)
        ).distinct()
    )


def summary_list_before(
    *, user: User, persona: PersonaProfile, before: datetime, limit: int
) -> list[ConversationMemory]:
    """Return the pair's newest `limit` summaries of messages sent before `before`, newest
    first, in one query bounded by the (user, persona, covers_to) index."""
    return list(
        ConversationMemory.objects.filter(
            user=user,
            persona=persona,
            kind=ConversationMemory.Kind.SUMMARY,
            covers_to__lt=before,
            covers_from__isnull=False,
        )
        .only("id", "content", "covers_from", "covers_to", "covers_conversation_id")
        .order_by("-covers_to", "-id")[:limit]
    )


@dataclass(frozen=True, slots=True)
class PromptSummary:
    """A summary a prompt shows: its text and the stretch of history it covers."""

    id: int
    content: str
    covers_from: datetime
    covers_to: datetime
    covers_conversation_id: int | None


@dataclass(frozen=True, slots=True)
class PromptMemory:
    """One of the pair's newest memories, as a prompt reads it."""

    id: int
    content: str
    kind: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PromptMemoryContext:
    """What memory knows about a pair before recall: the switch, preferences, timeline."""

    remember: bool
    preferences: dict[str, str]
    summaries: list[PromptSummary]
    recent: list[PromptMemory]


def memory_prompt_context(
    *, user: User, persona: PersonaProfile, before: datetime, summaries: int, recent: int
) -> PromptMemoryContext:
    """Return the pair's remember switch, preferences, newest `summaries` summaries of
    messages sent before `before` (newest first, as `summary_list_before`) and newest
    `recent` memories of any kind (newest first, as `memory_recent`), in one query.

    Every prompt reads all four: one round trip instead of four, and plain rows, not model
    instances. Each part keeps its own bounded index range (a UNION ALL of four scans).
    """
    memories = ConversationMemory._meta.db_table
    pair = [user.pk, persona.pk]
    # The columns: part, text, key/kind, conversation, first time, last time, id (a part reads
    # only its own). The memories first and without a NULL: PostgreSQL types a subquery's
    # NULL as text, and a UNION's columns from its first parts.
    sql = f"""
        SELECT * FROM (
            SELECT 2, content, kind, covers_conversation_id, covers_from, covers_to, id
            FROM {memories}
            WHERE user_id = %s AND persona_id = %s AND kind = %s AND covers_to < %s
                AND covers_from IS NOT NULL
            ORDER BY covers_to DESC, id DESC LIMIT %s
        ) summaries
        UNION ALL
        SELECT * FROM (
            SELECT 3, content, kind, covers_conversation_id, created_at, covers_to, id
            FROM {memories}
            WHERE user_id = %s AND persona_id = %s
            ORDER BY created_at DESC, id DESC LIMIT %s
        ) recent
        UNION ALL
        SELECT 1, value, key, NULL, NULL, NULL, NULL
        FROM {UserPreference._meta.db_table}
        WHERE user_id = %s AND persona_id = %s
        UNION ALL
        SELECT 0, NULL, NULL, NULL, NULL, NULL, NULL
        FROM {MemorySettings._meta.db_table}
        WHERE user_id = %s AND persona_id = %s AND NOT remember
    """  # noqa: S608 (table names from the models, values as parameters)
    before_value = connection.ops.adapt_datetimefield_value(before)
    summary_kind = ConversationMemory.Kind.SUMMARY.value
    rows = fetch_all(
        sql, [*pair, summary_kind, before_value, summaries, *pair, recent, *pair, *pair]
    )
    at = field_converter(ConversationMemory, "created_at")
    remember, preferences = True, {}
    found_summaries: list[PromptSummary] = []
    found_recent: list[PromptMemory] = []
    for part, text, name, conversation_id, first, last, pk in rows:
        if part == 0:
            remember = False
        elif part == 1:
            preferences[name] = text
        elif part == 2:
            found_summaries.append(PromptSummary(pk, text, at(first), at(last), conversation_id))
        else:
            found_recent.append(PromptMemory(pk, text, name, at(first)))
    # A UNION ALL keeps no order across its parts: each part is put back in its own here.
    found_summaries.sort(key=lambda summary: (summary.covers_to, summary.id), reverse=True)
    found_recent.sort(key=lambda memory: (memory.created_at, memory.id), reverse=True)
    return PromptMemoryContext(
        remember=remember,
        preferences=dict(sorted(preferences.items())),
        summaries=found_summaries,
        recent=found_recent,
    )


def memory_recent(*, user: User, persona: PersonaProfile, limit: int) -> list[ConversationMemory]:
    """Return the pair's newest `limit` memories of any kind, newest first, in one query
    bounded by the (user, persona, created_at) index."""
    return list(
        ConversationMemory.objects.filter(user=user, persona=persona)
        .only("id", "content", "kind", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )


def stretch_last(*, conversation: Conversation) -> SummarisedStretch | None:
    """Return the conversation's latest summarised stretch, with its last message."""
    return (
        SummarisedStretch.objects.filter(conversation=conversation)
        .select_related("last_message")
        .order_by("-last_at", "-last_message_id")
        .first()
    )


def messages_to_extract(*, ids: Collection[int]) -> QuerySet[ChatMessage]:
    """Return the good user messages among `ids` not extracted yet, by pair and time."""
    return chat_selectors.messages_for_extraction(ids=ids).filter(
        memory_extraction__isnull=True  # MessageExtraction is memory's
    )


def preference_list(*, user: User, persona: PersonaProfile) -> QuerySet[UserPreference]:
    """Return how `user` likes `persona` to talk to them."""
    return UserPreference.objects.filter(user=user, persona=persona)


def preference_dict(*, user: User, persona: PersonaProfile) -> dict[str, str]:
    """Return the pair's preferences as a plain mapping."""
    return dict(preference_list(user=user, persona=persona).values_list("key", "value"))


def memory_settings_list(*, user: User, persona: PersonaProfile) -> QuerySet[MemorySettings]:
    """Return the pair's memory settings row (none until remembering was switched off)."""
    return MemorySettings.objects.filter(user=user, persona=persona)


def memory_settings_get(*, user: User, persona: PersonaProfile) -> MemorySettings | None:
    """Return the pair's memory settings row, if one was ever stored."""
    return memory_settings_list(user=user, persona=persona).first()


def memory_enabled(*, user: User, persona: PersonaProfile) -> bool:
    """Return whether `persona` remembers things about `user` (on unless switched off)."""
    remember = (
        memory_settings_list(user=user, persona=persona).values_list("remember", flat=True).first()
    )
    return remember is not False


# The whole account, whichever persona holds it (export and deletion of an account, where
# a persona the user can no longer see still counts): never for lookups by id.


def memory_list_for_user(*, user: User) -> QuerySet[ConversationMemory]:
    """Return all of `user`'s memories, whichever persona holds them."""
    return ConversationMemory.objects.filter(user=user)


def memory_event_list_for_user(*, user: User) -> QuerySet[MemoryEvent]:
    """Return the history of all of `user`'s memories, deleted ones included, newest first."""
    return MemoryEvent.objects.filter(user=user)


def preference_list_for_user(*, user: User) -> QuerySet[UserPreference]:
    """Return all of `user`'s preferences, for every persona."""
    return UserPreference.objects.filter(user=user)


def memory_settings_list_for_user(*, user: User) -> QuerySet[MemorySettings]:
    """Return all of `user`'s memory settings rows, for every persona."""
    return MemorySettings.objects.filter(user=user)


def preferred_name_get(*, user: User, persona: PersonaProfile) -> str | None:
    """Return the name the user asked `persona` to call them (a preference), if any."""
    return (
        preference_list(user=user, persona=persona)
        .filter(key="preferred_name")
        .values_list("value", flat=True)
        .first()
    )
