"""Reads of conversations and messages, always scoped to the user asking.

The apps above chat (memory) read messages only through these functions too.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Left

from chat.models import ChatMessage, Conversation
from mybella.core.errors import NotFound
from mybella.core.fulltext import FullTextIndex, search_sql
from mybella.core.rows import (
    CompiledQuery,
    datetime_column,
    fetch_all,
    field_converter,
    id_in,
    valid_id,
)
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.selectors import persona_list_visible


def chat_persona_get(*, user: User, pk: int) -> PersonaProfile:
    """Return the persona `pk` if `user` may talk to it, that is see it; else raise `NotFound`.

    Visibility is personas' rule (`persona_list_visible`): a persona of another user, an
    inactive or a missing one are all the same miss.
    """
    try:
        return persona_list_visible(user=user).get(pk=pk)
    except PersonaProfile.DoesNotExist:
        raise NotFound from None


def conversation_list(*, user: User, persona: PersonaProfile) -> QuerySet[Conversation]:
    """Return the pair's conversations, most recently active first."""
    return Conversation.objects.filter(user=user, persona=persona).order_by("-updated_at", "-id")


# The side panel lists at most this many conversations; search reaches the others.
CONVERSATION_PANEL_MAX = 50
# How much of a conversation's first message stands in for a missing title.
FIRST_WORDS_CHARS = 80


def conversation_list_panel(
    *, user: User, persona: PersonaProfile, query: str = "", limit: int = CONVERSATION_PANEL_MAX
) -> list[Conversation]:
    """Return up to `limit` of the pair's conversations, most recently active first.

    With `query`, only those whose title or any message contains it (ignoring case; the
    caller bounds its length). Each carries `first_words`, the start of its first user
    message, shown for a conversation without a title (older ones).
    """
    conversations = conversation_list(user=user, persona=persona)
    if query:
        said = ChatMessage.objects.filter(
            user=user, conversation=OuterRef("pk"), content__icontains=query
        )
        conversations = conversations.filter(Q(title__icontains=query) | Exists(said))
    first = (
        ChatMessage.objects.filter(conversation=OuterRef("pk"), role=ChatMessage.Role.USER)
        .order_by("created_at", "id")
        .values("content")[:1]
    )
    return list(
        conversations.annotate(first_words=Left(Subquery(first), FIRST_WORDS_CHARS))[:limit]
    )


def conversation_list_visible(*, user: User | None) -> QuerySet[Conversation]:
    """Return `user`'s conversations with personas they may still see (for lookups by id).

    A conversation with a persona that was deactivated since is out of reach, like the
    persona itself.
    """
    return Conversation.objects.filter(
        user=user, persona__in=persona_list_visible(user=user)
    ).select_related("persona")


def conversation_list_owned(*, user: User) -> QuerySet[Conversation]:
    """Return every conversation of `user`, with a persona they can still see or not.

    For the user's own account (export): chats with a retired persona are still theirs.
    """
    return Conversation.objects.filter(user=user)


def message_list_owned(*, user: User) -> QuerySet[ChatMessage]:
    """Return every message of `user`, with a persona they can still see or not (export)."""
    return ChatMessage.objects.filter(user=user)


def conversation_get_visible(*, user: User, pk: int) -> Conversation:
    """Return `user`'s conversation `pk`, with its persona, if they may still see it.

    Raise `NotFound` for a missing one, another user's, or one whose persona is hidden.
    For a signed-in user it runs `conversation_list_visible`'s statement compiled once per
    process and database (`_VISIBLE`), as `persona_get_visible` does: building and
    compiling the queryset (a subquery, the persona's columns) cost a send 0.5 ms, more
    than the query.
    """
    if user is None or not user.is_authenticated:
        try:
            return conversation_list_visible(user=user).get(pk=pk)
        except Conversation.DoesNotExist:
            raise NotFound from None
    found = _VISIBLE.rows(user.pk, valid_id(pk))
    if not found:
        raise NotFound
    conversation, persona = found[0]
    conversation.persona = persona
    return conversation


_VISIBLE = CompiledQuery(
    lambda user_id, pk: conversation_list_visible(user=User(pk=user_id)).filter(pk=pk).order_by(),
    models=(Conversation, PersonaProfile),
)


def conversation_latest(*, user: User, persona: PersonaProfile) -> Conversation | None:
    """Return the pair's most recently active conversation, if any."""
    return conversation_list(user=user, persona=persona).first()


def message_list(*, user: User, conversation: Conversation) -> QuerySet[ChatMessage]:
    """Return a conversation's messages, oldest first."""
    return ChatMessage.objects.filter(user=user, conversation=conversation).order_by(
        "created_at", "id"
    )


def message_list_visible(*, user: User | None) -> QuerySet[ChatMessage]:
    """Return `user`'s messages with personas they may still see (for lookups by id)."""
    return ChatMessage.objects.filter(
        user=user, persona__in=persona_list_visible(user=user)
    ).select_related("conversation", "persona")


def message_get_reply(*, user: User, pk: int) -> ChatMessage:
    """Return `user`'s message `pk` with what retrying it needs, in one query.

    That is its conversation, its persona and `reply_to`, the message it answers. Raise
    `NotFound` for a missing message, another user's, or one whose persona is hidden.
    Whether it is a reply that may be retried is the service's to say.
    """
    try:
        return message_list_visible(user=user).select_related("reply_to").get(pk=pk)
    except ChatMessage.DoesNotExist:
        raise NotFound from None


def message_recent(
    *, user: User, conversation: Conversation, before: ChatMessage | None = None, limit: int = 40
) -> list[ChatMessage]:
    """Return up to `limit` of a conversation's good messages before `before`, newest first.

    Good: finished and not empty (no pending, stopped or failed replies).
    """
    messages = ChatMessage.objects.filter(
        user=user,
        conversation=conversation,
        persona_id=conversation.persona_id,
        status=ChatMessage.Status.OK,
    ).exclude(content="")
    if before is not None:
        # Bound the index range by time, not by id: SQLite (without ANALYZE statistics)
        # takes `id < ?` for a cheap rowid range and walks every user's messages.
        messages = messages.filter(created_at__lte=before.created_at).exclude(pk=before.pk)
    # What a summary reads: not the alternatives (JSON) and the other columns.
    messages = messages.only(*_RECENT_FIELDS)
    return list(messages.order_by("-created_at", "-id")[:limit])


_RECENT_FIELDS = (
    "id",
    "conversation_id",
    "user_id",
    "persona_id",
    "role",
    "status",
    "content",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class RecentLine:
    """A past message as a prompt shows it: who said what, when."""

    role: str
    content: str
    created_at: datetime


def message_prompt_history(
    *, user: User, conversation: Conversation, before: ChatMessage, limit: int = 40
) -> tuple[list[RecentLine], datetime | None]:
    """Return what a prompt answering `before` reads of the past, in one query.

    That is `message_recent(before=before, limit=limit)`'s messages as plain lines (the
    same rule, tested), and when `user` last wrote to the conversation's persona before
    `before`, in any conversation (None: never). Every prompt reads both: one round trip
    and plain rows (`mybella.core.rows`), where the ORM's building of two queries and
    forty instances cost more than the database's work. The first part is bounded by the
    (user, persona, created_at) index; the history walks the thread index (conversation,
    created_at, id) back from `before` and checks the pair on the rows it found (a
    conversation's rows are all one pair's). Asked for the pair too, PostgreSQL's generic
    plan (a prepared statement's, after DATABASE_PREPARE_THRESHOLD runs) read the whole
    conversation through two indexes and sorted it: 3 ms for 2,000 messages, now 0.17 ms.
    """
    table = ChatMessage._meta.db_table
    sql = f"""
        SELECT 0, NULL, NULL, (
            SELECT created_at FROM {table}
            WHERE user_id = %s AND persona_id = %s AND role = %s
                AND created_at <= %s AND id <> %s
            ORDER BY created_at DESC, id DESC LIMIT 1
        ), NULL
        UNION ALL
        SELECT 1, role, content, created_at, id FROM (
            SELECT role, content, created_at, id, user_id, persona_id FROM {table}
            WHERE conversation_id = %s AND status = %s AND content <> ''
                AND created_at <= %s AND id <> %s
            ORDER BY created_at DESC, id DESC LIMIT %s
        ) recent
        WHERE user_id = %s AND persona_id = %s
    """  # noqa: S608 (the table name from the model, values as parameters)
    at = connection.ops.adapt_datetimefield_value(before.created_at)
    persona_id = conversation.persona_id
    rows = fetch_all(
        sql,
        [
            *(user.pk, persona_id, ChatMessage.Role.USER.value, at, before.pk),
            *(conversation.pk, ChatMessage.Status.OK.value, at, before.pk, limit),
            *(user.pk, persona_id),
        ],
    )
    convert = field_converter(ChatMessage, "created_at")
    last = next((row[3] for row in rows if row[0] == 0), None)
    # A UNION ALL promises no order: the lines are put back in theirs.
    past = sorted(
        (
            (convert(created_at), pk, role, content)
            for part, role, content, created_at, pk in rows
            if part
        ),
        reverse=True,
    )
    lines = [RecentLine(role, content, created_at) for created_at, _pk, role, content in past]
    return lines, None if last is None else convert(last)


def message_stretch(
    *, conversation: Conversation, after: ChatMessage | None, limit: int
) -> list[ChatMessage]:
    """Return up to `limit` of a conversation's good messages after `after`, oldest first.

    Good: finished, not empty, said by the user or the persona, and not the persona's
    greeting. For background work handed a conversation id (`chat.context`), so not
    scoped to a caller again; the conversation's own pair is the scope.
    """
    messages = ChatMessage.objects.filter(
        conversation=conversation,
        user_id=conversation.user_id,
        persona_id=conversation.persona_id,
        status=ChatMessage.Status.OK,
        role__in=[ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT],
    ).exclude(content="")
    messages = messages.exclude(provider="greeting")
    if after is not None:
        messages = messages.filter(
            Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, id__gt=after.id)
        )
    return list(messages.order_by("created_at", "id")[:limit])


def conversation_get(*, pk: int) -> Conversation | None:
    """Return conversation `pk` with its user and persona, for background work handed its id."""
    return Conversation.objects.select_related("user", "persona").filter(pk=pk).first()


MESSAGE_INDEX = FullTextIndex(
    table=ChatMessage._meta.db_table,
    fts_table="chat_message_fts",
    where="t.status = 'ok' AND t.role IN ('user', 'assistant') AND t.provider <> 'greeting'",
)


def message_recall_candidates(
    *,
    user: User,
    persona: PersonaProfile,
    counts: Mapping[str, tuple[int, int]],
    exclude_ids: Collection[int] = (),
    limit: int,
    head_chars: int,
) -> list["Candidate"]:
    """Return up to `limit` of the pair's good messages that hold any of the words, best first.

    `counts` are the words' matches in `MESSAGE_INDEX` (`mybella.core.fulltext.word_counts`).
    Ranked by the database's full-text index over the pair's whole history (see
    `mybella.core.fulltext`; words are stemmed by the index). Good: finished, said by the
    user or the persona, and not the persona's greeting (its own opening line is nothing
    to recall). Each carries `id`, `created_at`, `score`, `conversation_id` and
    `head`, the first `head_chars` characters of its content. No matches, no query.
    """
    at, created_at = datetime_column(ChatMessage, "created_at", "t.created_at")
    query = search_sql(
        MESSAGE_INDEX,
        user_id=user.pk,
        persona_id=persona.pk,
        counts=counts,
        limit=limit,
        head_chars=head_chars,
        exclude_ids=exclude_ids,
        columns=["conversation_id"],
        created_at=at,
    )
    if not query:
        return []
    # Plain rows, not model instances: recall reads a few hundred of them per message.
    rows = fetch_all(*query)
    return [
        Candidate(id, created_at(at), head or "", float(score), conversation_id)
        for id, at, head, score, conversation_id in rows
    ]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A message found by words: what recall reads of it."""

    id: int
    created_at: datetime
    head: str
    score: float
    conversation_id: int


class Neighbour(NamedTuple):
    """A good message next to another one in its conversation.

    A named tuple, made at C speed: a search makes one for each side of up to a few
    hundred messages.
    """

    id: int
    role: str
    created_at: datetime
    head: str


def message_neighbours(
    *, user: User, persona: PersonaProfile, ids: Collection[int], head_chars: int
) -> dict[int, tuple[Neighbour | None, Neighbour | None]]:
    """Return, by id, the good message before and after each of the pair's messages `ids`.

    Neighbours are taken in the message's own conversation; `head` is the first
    `head_chars` characters of their content. One query (none without ids), each
    neighbour found through the thread index.
    """
    if not ids:
        return {}
    table = ChatMessage._meta.db_table
    # A range on the thread index, the messages of the same instant ordered by id. The
    # conversation is the pair's (the message's own): the pair is checked on the neighbours
    # found (the joins below), not looked up, or a planner that takes the pair's index too
    # (misled: a conversation's rows are all one pair's) sorts the conversation's history
    # before each message.
    good = (
        "u.conversation_id = m.conversation_id "
        "AND u.status = %s AND u.role IN (%s, %s) AND u.content <> ''"
    )
    earlier = (
        "u.created_at <= m.created_at AND NOT (u.created_at = m.created_at AND u.id >= m.id) "
        "ORDER BY u.created_at DESC, u.id DESC LIMIT 1"
    )
    later = (
        "u.created_at >= m.created_at AND NOT (u.created_at = m.created_at AND u.id <= m.id) "
        "ORDER BY u.created_at, u.id LIMIT 1"
    )
    wanted_in, wanted_params = id_in("m.id", [int(i) for i in ids])
    before_at, created_at = datetime_column(ChatMessage, "created_at", "b.created_at")
    after_at, _ = datetime_column(ChatMessage, "created_at", "a.created_at")
    found = (
        f"b.id, b.role, {before_at}, substr(b.content, 1, %s), "
        f"a.id, a.role, {after_at}, substr(a.content, 1, %s)"
    )
    good_params = [ChatMessage.Status.OK, ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT]
    pair = [user.pk, persona.pk]
    # The table is the model's; every value is a parameter. Unary plus: the ids are looked
    # up by key, not the pair's whole history scanned.
    if connection.vendor == "postgresql":
        # Each neighbour comes with its row (LATERAL), not looked up again by its id.
        row = "u.id, u.user_id, u.persona_id, u.role, u.created_at, u.content"
        sql = (
            f"SELECT m.id, {found} FROM {table} m "  # noqa: S608
            f"LEFT JOIN LATERAL (SELECT {row} FROM {table} u WHERE {good} AND {earlier}) b "
            "ON b.user_id = %s AND b.persona_id = %s "
            f"LEFT JOIN LATERAL (SELECT {row} FROM {table} u WHERE {good} AND {later}) a "
            "ON a.user_id = %s AND a.persona_id = %s "
            f"WHERE {wanted_in} AND +m.user_id = %s AND +m.persona_id = %s"
        )
        params = [
            *(head_chars, head_chars),
            *(*good_params, *pair),
            *(*good_params, *pair),
            *(*wanted_params, *pair),
        ]
    else:
        sql = (
            f"SELECT l.id, {found} FROM (SELECT m.id, "  # noqa: S608
            f"(SELECT u.id FROM {table} u WHERE {good} AND {earlier}) AS before_id, "
            f"(SELECT u.id FROM {table} u WHERE {good} AND {later}) AS after_id FROM {table} m "
            f"WHERE {wanted_in} "
            "AND +m.user_id = %s AND +m.persona_id = %s) l "
            f"LEFT JOIN {table} b ON b.id = l.before_id AND b.user_id = %s AND b.persona_id = %s "
            f"LEFT JOIN {table} a ON a.id = l.after_id AND a.user_id = %s AND a.persona_id = %s"
        )
        params = [
            *(head_chars, head_chars),
            *good_params,
            *good_params,
            *wanted_params,
            *pair,
            *pair,
            *pair,
        ]
    rows = fetch_all(sql, params)

    def neighbour(id: int | None, role: str, at: Any, head: str | None) -> Neighbour | None:
        return None if id is None else Neighbour(id, role, created_at(at), head or "")

    return {row[0]: (neighbour(*row[1:5]), neighbour(*row[5:9])) for row in rows}


def messages_for_extraction(*, ids: Iterable[int]) -> QuerySet[ChatMessage]:
    """Return the good user messages among `ids`, with their user and persona, by pair and time.

    For background work that was handed message ids by `chat.context.user_messages_saved`
    (the ids come from chat itself, so they are not scoped to a caller again).
    """
    return (
        ChatMessage.objects.filter(
            id__in=list(ids), role=ChatMessage.Role.USER, status=ChatMessage.Status.OK
        )
        .select_related("user", "persona")
        .order_by("user_id", "persona_id", "created_at", "id")
    )


def message_ids_imported(*, conversation_id: int, after_id: int = 0) -> QuerySet:
    """Return the ids of a conversation's imported user messages after `after_id`, in order."""
    return (
        ChatMessage.objects.filter(
            conversation_id=conversation_id,
            role=ChatMessage.Role.USER,
            provider="import",
            id__gt=after_id,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def message_ids_of_pair(*, user: User, persona: PersonaProfile, ids: Iterable[int]) -> QuerySet:
    """Return those of `ids` that are messages of this (user, persona) pair."""
    return ChatMessage.objects.filter(user=user, persona=persona, id__in=list(ids)).values_list(
        "id", flat=True
    )


def message_ids_only() -> QuerySet[ChatMessage]:
    """Return messages with only their ids loaded, to prefetch over a scoped relation.

    Unscoped by itself: only for `Prefetch("source_messages", queryset=...)` and the
    like, where the relation of an already scoped object does the scoping.
    """
    return ChatMessage.objects.only("id")


def message_is_latest(*, message: ChatMessage) -> bool:
    """Return whether nothing was said after `message` in its conversation."""
    return not (
        ChatMessage.objects.filter(conversation_id=message.conversation_id)
        .filter(
            Q(created_at__gt=message.created_at)
            | Q(created_at=message.created_at, id__gt=message.pk)
        )
        .exists()
    )


def message_get_for_update(*, user: User, pk: int) -> ChatMessage:
    """Return `user`'s message `pk`, locked for the transaction, if they may still see it.

    Raise `NotFound` for a missing message, another user's, or one whose persona is hidden.
    """
    try:
        return (
            ChatMessage.objects.select_for_update(of=("self",))
            .filter(user=user, persona__in=persona_list_visible(user=user))
            .get(pk=pk)
        )
    except ChatMessage.DoesNotExist:
        raise NotFound from None


def message_get_visible(*, user: User, pk: int) -> ChatMessage:
    """Return `user`'s message `pk` if they may still see its persona; else `NotFound`."""
    try:
        return message_list_visible(user=user).get(pk=pk)
    except ChatMessage.DoesNotExist:
        raise NotFound from None
