"""Seed a benchmark database: many users, each with the same kind of history per persona.

Every (user, persona) pair gets the same amount of history at every scale, and pair number
`i` gets the same messages and memories whatever the scale (its random generator is seeded
with `i`), so a larger scale only adds more pairs. Rows are written with explicit ids in
large `executemany` batches (SQLite) or `COPY` (PostgreSQL) inside one transaction; message
ids follow `created_at` across all pairs, as they would in a live database.

Run inside a configured Django process (see `bench.run`).
"""

import heapq
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction

from bench.corpus import NAMES, Corpus, memory_text

SEED = 20_240_601
SEED_VERSION = 1
META_TABLE = "bench_seed_info"
PERSONAS_PER_USER = 5
MESSAGES_PER_PAIR = 500
MEMORIES_PER_PAIR = 30
CONVERSATIONS_PER_PAIR = 3
HISTORY_DAYS = 180
FAILED_REPLY_RATE = 0.005
UNUSABLE_PASSWORD = "!bench-user-without-a-password"  # noqa: S105 - "!" marks it unusable


@dataclass(frozen=True)
class Scale:
    """How big one benchmark database is."""

    name: str
    label: str
    users: int

    @property
    def pairs(self) -> int:
        """Return how many (user, persona) pairs the scale has."""
        return self.users * PERSONAS_PER_USER

    @property
    def messages(self) -> int:
        """Return how many chat messages the scale has."""
        return self.pairs * MESSAGES_PER_PAIR

    def signature(self) -> dict[str, int | str]:
        """Return what a seeded database must match to be reused."""
        return {
            "version": SEED_VERSION,
            "seed": SEED,
            "scale": self.name,
            "users": self.users,
            "personas_per_user": PERSONAS_PER_USER,
            "messages_per_pair": MESSAGES_PER_PAIR,
            "memories_per_pair": MEMORIES_PER_PAIR,
            "conversations_per_pair": CONVERSATIONS_PER_PAIR,
        }


SCALES = {
    "10k": Scale("10k", "10k", users=4),
    "1m": Scale("1m", "1M", users=400),
}


@dataclass
class SeedReport:
    """What `ensure_seeded` did and how long it took."""

    status: str  # "reused" | "seeded"
    migrate_seconds: float
    seed_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    max_message_id: int = 0


def log(text: str) -> None:
    """Print a progress line to stderr."""
    print(f"  {text}", file=sys.stderr, flush=True)


# Bookkeeping: which scale a database holds, so a second run can reuse it. ----------------


def _read_meta() -> dict | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {META_TABLE} WHERE name = %s", ["signature"])  # noqa: S608
            row = cursor.fetchone()
    except DatabaseError:
        return None
    return json.loads(row[0]) if row else None


def _write_meta(signature: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (name varchar(40) PRIMARY KEY, value text)"
        )
        cursor.execute(f"DELETE FROM {META_TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {META_TABLE} (name, value) VALUES (%s, %s)",  # noqa: S608
            ["signature", json.dumps(signature, sort_keys=True)],
        )


def max_message_id() -> int:
    """Return the last seeded message id: a run's own messages come after it."""
    meta = _read_meta()
    if meta is None:
        raise SystemExit("bench: this database is not seeded; run `make bench`")
    return meta["max_message_id"]


def _reusable(scale: Scale) -> dict | None:
    """Return the stored signature if the database holds exactly this scale's seed."""
    from chat.models import ChatMessage

    meta = _read_meta()
    if not meta or {k: meta.get(k) for k in scale.signature()} != scale.signature():
        return None
    try:
        if ChatMessage.objects.count() != meta.get("messages"):
            # An interrupted run may have left its messages behind.
            restore(meta["max_message_id"])
        count = ChatMessage.objects.count()
    except DatabaseError:
        return None
    return meta if count == meta.get("messages") else None


def _wipe() -> None:
    """Empty the benchmark database completely (never the development database)."""
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        connection.close()
    else:
        raise SystemExit(f"bench: unsupported database vendor {connection.vendor!r}")


def restore(max_message_id: int, *, sessions: bool = True) -> int:
    """Delete what a benchmark run added (messages, queued tasks, and with `sessions` the
    sessions) and leave the tables as seeded: PostgreSQL's dead rows vacuumed, SQLite's
    full-text index merged again; return the messages deleted."""
    from django.contrib.sessions.models import Session
    from django_tasks_db.models import DBTaskResult

    from chat.models import ChatMessage
    from memory.services import search_indexes_merge

    deleted = (
        ChatMessage.objects.filter(id__gt=max_message_id).delete()[1].get("chat.ChatMessage", 0)
    )
    if sessions:
        Session.objects.all().delete()
    DBTaskResult.objects.all().delete()
    if connection.vendor == "postgresql":
        tables = ", ".join(model._meta.db_table for model in (ChatMessage, DBTaskResult))
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {tables}")
    search_indexes_merge()
    return deleted


# Fast writes. ---------------------------------------------------------------------------


class _Writer:
    """Insert rows with explicit ids as fast as the backend allows."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.raw = connection.connection

    def time(self, moment: datetime) -> object:
        """Return `moment` as the backend stores it."""
        if self.vendor == "sqlite":
            # What Django's adapt_datetimefield_value writes: naive UTC, ISO with a space.
            return moment.replace(tzinfo=None).isoformat(" ")
        return moment

    def insert(self, model: type[models.Model], fields: list[str], rows: Iterable[tuple]) -> int:
        """Insert `rows` (values of `fields`, in order) into `model`'s table; return the count."""
        table = model._meta.db_table
        columns = [model._meta.get_field(name).column for name in fields]
        counted = _Counted(rows)
        if self.vendor == "postgresql":
            names = ", ".join(f'"{c}"' for c in columns)
            with (
                self.raw.cursor() as cursor,
                cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
            ):
                for row in counted:
                    copy.write_row(row)
        else:
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" * len(columns))
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - model names
            self.raw.executemany(sql, counted)
        return counted.count


class _Counted:
    def __init__(self, rows: Iterable[tuple]) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[tuple]:
        for row in self.rows:
            self.count += 1
            yield row


def _columns(names: str) -> list[str]:
    return names.split()


# The data. ------------------------------------------------------------------------------


@dataclass
class _Pair:
    index: int
    user_id: int
    persona_id: int
    times: list[float]  # every message's timestamp, ascending
    starts: list[int]  # index in `times` where each conversation begins
    conversation_ids: list[int]
    message_ids: list[int] = field(default_factory=list)


class _Memory(NamedTuple):
    moment: float
    pair: _Pair
    kind: str
    content: str
    importance: int
    pinned: bool
    recalled: datetime | None


def _timeline(rng: random.Random, end: float) -> tuple[list[float], list[int]]:
    """Return message times in sessions over the last months, and where conversations start."""
    sizes: list[int] = []
    while sum(sizes) < MESSAGES_PER_PAIR:
        sizes.append(min(rng.choice(range(4, 26, 2)), MESSAGES_PER_PAIR - sum(sizes)))
    span = HISTORY_DAYS * 86_400
    # Sessions start before the last three hours, so even a long one ends in the past.
    session_starts = sorted(end - 3 * 3_600 - rng.uniform(0, span) for _ in sizes)
    times: list[float] = []
    session_first: list[int] = []
    last = end - span - 60
    for start, size in zip(session_starts, sizes, strict=True):
        session_first.append(len(times))
        moment = max(start, last + 60)
        for k in range(size):
            # A user message, then the reply a few seconds later, then the next user turn.
            moment += rng.uniform(2, 8) if k % 2 else rng.uniform(20, 240)
            times.append(moment)
        last = moment
    cuts = sorted(rng.sample(range(1, len(sizes)), CONVERSATIONS_PER_PAIR - 1))
    return times, [0, *(session_first[c] for c in cuts)]


def _pairs(scale: Scale, persona_ids: list[int], end: float) -> list[_Pair]:
    pairs = []
    for user_index in range(scale.users):
        # Each user talks to all personas but one, so every persona has many users.
        skipped = user_index % len(persona_ids)
        chosen = [p for i, p in enumerate(persona_ids) if i != skipped][:PERSONAS_PER_USER]
        for persona_id in chosen:
            index = len(pairs)
            times, starts = _timeline(random.Random(f"{SEED}/timeline/{index}"), end)
            first_conversation = index * CONVERSATIONS_PER_PAIR + 1
            pairs.append(
                _Pair(
                    index=index,
                    user_id=user_index + 1,
                    persona_id=persona_id,
                    times=times,
                    starts=starts,
                    conversation_ids=list(
                        range(first_conversation, first_conversation + CONVERSATIONS_PER_PAIR)
                    ),
                )
            )
    return pairs


def _conversation_of(pair: _Pair, position: int) -> tuple[int, int]:
    """Return (conversation number, position within it) of message `position`."""
    number = 0
    for k, start in enumerate(pair.starts):
        if position >= start:
            number = k
    return number, position - pair.starts[number]


def _pair_messages(pair: _Pair, corpus: Corpus) -> Iterator[tuple]:
    """Yield (time, pair index, position, role, content, status, error, provider, model)."""
    rng = random.Random(f"{SEED}/messages/{pair.index}")
    for position, moment in enumerate(pair.times):
        _, in_conversation = _conversation_of(pair, position)
        if in_conversation % 2 == 0:
            yield moment, pair.index, position, "user", corpus.user_message(rng), "ok", "", "", ""
        elif rng.random() < FAILED_REPLY_RATE:
            error = "The reply engine took too long to answer. Try again."
            yield moment, pair.index, position, "assistant", "", "failed", error, "offline", ""
        else:
            content = corpus.assistant_message(rng)
            yield (
                moment,
                pair.index,
                position,
                "assistant",
                content,
                "ok",
                "",
                "offline",
                "mybella-offline-1",
            )


def _seed(scale: Scale) -> dict[str, int]:
    from chat.models import ChatMessage, Conversation
    from memory.models import ConversationMemory, MemoryEvent, UserPreference
    from mybella.users.models import User
    from personas.models import PersonaProfile, PersonaSelection

    if User.objects.exists():
        raise SystemExit("bench: refusing to seed a database that already has users")
    persona_ids = list(PersonaProfile.objects.system().active().values_list("id", flat=True))
    if len(persona_ids) < PERSONAS_PER_USER:
        raise SystemExit("bench: the system personas are missing; did migrate run?")

    writer = _Writer()
    at = writer.time
    end = time.time() - 600
    start = datetime.fromtimestamp(end - HISTORY_DAYS * 86_400 - 3_600, UTC)
    corpus = Corpus(SEED)
    pairs = _pairs(scale, persona_ids, end)
    counts: dict[str, int] = {}

    def step(name: str, model: type[models.Model], fields: list[str], rows: Iterable) -> None:
        began = time.perf_counter()
        counts[name] = writer.insert(model, fields, rows)
        log(f"{name}: {counts[name]:,} rows in {time.perf_counter() - began:.1f} s")

    user_fields = _columns(
        "id password last_login is_superuser username first_name last_name email is_staff "
        "is_active date_joined display_name"
    )

    def users() -> Iterator[tuple]:
        for u in range(1, scale.users + 1):
            first = random.Random(f"{SEED}/user/{u}").choice(NAMES)
            username = f"bench{u:05d}"
            yield (
                u, UNUSABLE_PASSWORD, None, False, username, first, "",
                f"{username}@example.com", False, True, at(start), first if u % 3 == 0 else "",
            )  # fmt: skip

    step("users", User, user_fields, users())
    # Each user talks to the persona of their first pair.
    first_persona = {pair.user_id: pair.persona_id for pair in reversed(pairs)}
    step(
        "persona selections",
        PersonaSelection,
        ["user", "persona", "created_at", "updated_at"],
        ((u, first_persona[u], at(start), at(start)) for u in range(1, scale.users + 1)),
    )

    def conversations() -> Iterator[tuple]:
        for pair in pairs:
            bounds = [*pair.starts, len(pair.times)]
            for number, conversation_id in enumerate(pair.conversation_ids):
                first, last = pair.times[bounds[number]], pair.times[bounds[number + 1] - 1]
                yield (
                    conversation_id,
                    pair.user_id,
                    pair.persona_id,
                    "" if number else "Getting to know each other",
                    at(datetime.fromtimestamp(first, UTC)),
                    at(datetime.fromtimestamp(last, UTC)),
                )

    step(
        "conversations",
        Conversation,
        ["id", "user", "persona", "title", "created_at", "updated_at"],
        conversations(),
    )

    def messages() -> Iterator[tuple]:
        merged = heapq.merge(*(_pair_messages(pair, corpus) for pair in pairs))
        for message_id, row in enumerate(merged, start=1):
            moment, index, position, role, content, status, error, provider, model = row
            pair = pairs[index]
            pair.message_ids.append(message_id)
            number, _ = _conversation_of(pair, position)
            stamp = at(datetime.fromtimestamp(moment, UTC))
            yield (
                message_id,
                pair.conversation_ids[number],
                pair.user_id,
                pair.persona_id,
                role,
                content,
                status,
                error,
                provider,
                model,
                max(1, len(content) // 4) if content else 0,
                "[]",
                0,
                stamp,
                stamp,
            )

    step(
        "messages",
        ChatMessage,
        _columns(
            "id conversation user persona role content status error provider model "
            "token_estimate alternatives selected created_at updated_at"
        ),
        messages(),
    )

    # Memories, each noticed in one or two of the pair's own user messages.
    memories: list[_Memory] = []
    sources: list[tuple[int, int]] = []  # (memory number, message id)
    for pair in pairs:
        rng = random.Random(f"{SEED}/memories/{pair.index}")
        user_positions = [
            p for p in range(len(pair.times)) if _conversation_of(pair, p)[1] % 2 == 0
        ]
        for _ in range(MEMORIES_PER_PAIR):
            picked = rng.sample(user_positions, rng.choice((1, 1, 2)))
            moment = max(pair.times[p] for p in picked) + rng.uniform(5, 120)
            kind, content = memory_text(rng)
            importance = min(10, max(1, round(rng.gauss(5, 2))))
            pinned = rng.random() < 0.08
            recalled = None
            if rng.random() < 0.4:
                recalled = datetime.fromtimestamp(rng.uniform(moment, end), UTC)
            memories.append(_Memory(moment, pair, kind, content, importance, pinned, recalled))
            sources.extend((len(memories) - 1, pair.message_ids[p]) for p in picked)
    order = sorted(range(len(memories)), key=lambda n: memories[n].moment)
    memory_id = {number: rank + 1 for rank, number in enumerate(order)}

    def memory_rows() -> Iterator[tuple]:
        for number in order:
            memory = memories[number]
            stamp = at(datetime.fromtimestamp(memory.moment, UTC))
            yield (
                memory_id[number],
                memory.pair.user_id,
                memory.pair.persona_id,
                memory.content,
                memory.kind,
                memory.importance,
                memory.pinned,
                at(memory.recalled) if memory.recalled else None,
                None,
                "",
                stamp,
                stamp,
            )

    step(
        "memories",
        ConversationMemory,
        _columns(
            "id user persona content kind importance pinned last_recalled_at embedding "
            "slot created_at updated_at"
        ),
        memory_rows(),
    )
    through = ConversationMemory.source_messages.through
    step(
        "memory sources",
        through,
        ["id", "conversationmemory", "chatmessage"],
        (
            (n, memory_id[number], message_id)
            for n, (number, message_id) in enumerate(
                sorted(sources, key=lambda s: memory_id[s[0]]), start=1
            )
        ),
    )
    step(
        "memory events",
        MemoryEvent,
        _columns("id memory user persona action actor content_before content_after created_at"),
        (
            (
                memory_id[number],
                memory_id[number],
                memories[number].pair.user_id,
                memories[number].pair.persona_id,
                "created",
                "extractor",
                "",
                memories[number].content,
                at(datetime.fromtimestamp(memories[number].moment, UTC)),
            )
            for number in order
        ),
    )

    def preferences() -> Iterator[tuple]:
        n = 0
        for pair in pairs:
            rng = random.Random(f"{SEED}/preferences/{pair.index}")
            chosen = []
            if rng.random() < 0.5:
                chosen.append(("preferred_name", rng.choice(NAMES)))
            if rng.random() < 0.3:
                chosen.append(("reply_length", rng.choice(("short", "medium", "long"))))
            for key, value in chosen:
                n += 1
                yield n, pair.user_id, pair.persona_id, key, value, at(start), at(start)

    step(
        "preferences",
        UserPreference,
        ["id", "user", "persona", "key", "value", "created_at", "updated_at"],
        preferences(),
    )
    counts["pairs"] = len(pairs)
    return counts


def _fast_seeding_connection() -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # For this connection only: a crash leaves no signature, so the file is reseeded.
            cursor.execute("PRAGMA journal_mode = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -1048576")  # 1 GiB
            cursor.execute("PRAGMA temp_store = MEMORY")


def _reset_sequences() -> None:
    from chat.models import ChatMessage, Conversation
    from memory.models import ConversationMemory, MemoryEvent, UserPreference
    from mybella.users.models import User

    # PersonaSelection's key is the user's: no sequence of its own.
    seeded = [
        User, Conversation, ChatMessage, ConversationMemory,
        ConversationMemory.source_messages.through, MemoryEvent, UserPreference,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), seeded):
            cursor.execute(sql)


def as_deployed() -> None:
    """Leave a freshly seeded database as a deployment holds it: PostgreSQL's statistics
    gathered (what autovacuum would soon do after a bulk load), SQLite's full-text segments
    merged (what `manage.py merge_search_indexes` does from time to time)."""
    from memory.services import search_indexes_merge

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    search_indexes_merge()


def ensure_seeded(scale: Scale, *, fresh: bool) -> SeedReport:
    """Migrate, then seed `scale` unless the database already holds it (then reuse it);
    either way leave SQLite's full-text indexes merged, as a deployment holds them."""
    from memory.services import search_indexes_merge

    meta = None if fresh else _reusable(scale)
    if meta is None:
        _wipe()
    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_seconds = time.perf_counter() - began
    if meta is not None:
        # Seeded before the seed merged, or split again by an earlier run's messages and
        # their removal: a merged index is a step at most.
        search_indexes_merge()
        log(f"reused the seeded database ({meta['messages']:,} messages)")
        return SeedReport(
            status="reused",
            migrate_seconds=migrate_seconds,
            seed_seconds=meta.get("seed_seconds", 0.0),
            counts=meta["counts"],
            max_message_id=meta["max_message_id"],
        )

    log(f"seeding {scale.label}: {scale.pairs:,} pairs x {MESSAGES_PER_PAIR} messages")
    began = time.perf_counter()
    _fast_seeding_connection()
    with transaction.atomic():
        counts = _seed(scale)
        _reset_sequences()
    as_deployed()
    seed_seconds = time.perf_counter() - began
    signature = {
        **scale.signature(),
        "messages": counts["messages"],
        "max_message_id": counts["messages"],
        "counts": counts,
        "seed_seconds": round(seed_seconds, 1),
    }
    with transaction.atomic():
        _write_meta(signature)
    # Back to the pragmas every other connection uses.
    connection.close()
    log(f"seeded in {seed_seconds:.1f} s")
    return SeedReport(
        status="seeded",
        migrate_seconds=migrate_seconds,
        seed_seconds=seed_seconds,
        counts=counts,
        max_message_id=counts["messages"],
    )
