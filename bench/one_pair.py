"""The one-pair shape of `make bench`: one (user, persona) pair with a long history.

    .venv/bin/python -m bench.one_pair [--scales 1k,1m] [--requests 200] [--rounds 4] [--fresh]
    make bench BENCH_ARGS="--shapes one-pair"        # the same, through bench.run

A user who talks to one persona for years grows one pair's history, where `bench.run`'s
shape grows the number of pairs. One database per scale holds a single pair with 1,000 or
1,000,000 messages (conversations of `CONVERSATION_SIZE`, one memory per `MEMORY_EVERY`
messages, the text from `bench.corpus`), and the same requests are timed at both: a memory
search for a common word and for a rare one (said in the pair's first message and a few
times since), and the newest page of the latest conversation's history.

Seeding is bulk: `executemany` on SQLite with the messages' full-text triggers dropped, the
index filled by one INSERT ... SELECT after and the triggers made again from their own SQL;
`COPY` on PostgreSQL with the messages' secondary indexes dropped first and built again after.
Reseeding a database that holds another history empties it first.
Databases are derived from DATABASE_URL like `bench.run`'s (`<name>_pair1k`, `_pair1m`;
SQLite files in bench/.data/) and reused once seeded. A benchmark is not a test: the exit
status is 0 whatever the numbers.
"""

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.corpus import Corpus, memory_text
from bench.databases import derived_database_url
from bench.run import (
    add_common_arguments,
    fresh_and_rounds,
    percentile,
    prepare_database,
    run_child,
)

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"
SEED = 20261127
USERNAME = "bench-one-pair"
PERSONA_SLUG = "luna"
CONVERSATION_SIZE = 10_000
MEMORY_EVERY = 200
RARE_WORD = "zeppelin"  # not in bench.corpus: only where it is planted
RARE_EVERY = 250_000  # the first message, then one in this many
COMMON_WORD = "dog"  # bench.corpus's pets: in several percent of the messages
WARMUP = 20
P95_TARGET_MS = 30.0
MAX_GROWTH = 1.3
START = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Scale:
    """How many messages the one pair has."""

    name: str
    label: str
    messages: int


SCALES = {"1k": Scale("1k", "1k", 1_000), "1m": Scale("1m", "1M", 1_000_000)}


def database_url(scale: str, incoming: str) -> str:
    """Return the one-pair database URL for `scale`, derived from `incoming` when given."""
    return derived_database_url(
        incoming,
        tag=f"pair{scale}",
        default=DATA_DIR / f"bench-pair{scale}.sqlite3",
        tool="bench",
    )


# The parent: a process per database and round, then the table. ---------------------------


def _child(url: str, *args: str) -> dict:
    return run_child("bench.one_pair", url, *args)


def report(prepared: dict[str, dict], measured: dict[str, dict[str, list[float]]]) -> str:
    """Return the printed table: p50/p95 per operation and scale, the growth and verdict."""
    scales = [s for s in SCALES if s in measured]
    lines = [
        "",
        "One pair, a long history: one (user, persona) pair with "
        + " and ".join(f"{prepared[s]['messages']:,} messages" for s in scales)
        + ",",
        f"conversations of {CONVERSATION_SIZE:,} messages, a memory per {MEMORY_EVERY} messages. "
        "Server-side, in process (APIClient).",
    ]
    lines += [
        f"  {SCALES[s].label:>3}: {prepared[s]['database']}; {prepared[s]['how']}" for s in scales
    ]
    columns = "".join(f" | {SCALES[s].label + ' p50':>8} {'p95':>6}" for s in scales)
    title = f"{'operation':<22}{columns}"
    if len(scales) == 2:
        title += f" | {'p95 growth':>10} | result"
    lines += ["", title, "-" * len(title)]
    first = measured[scales[0]]
    for key in first:
        row = f"{key:<22}"
        p95 = {}
        for s in scales:
            samples = measured[s][key]
            p95[s] = percentile(samples, 95)
            row += f" | {percentile(samples, 50):>8.1f} {p95[s]:>6.1f}"
        if len(scales) == 2:
            small, large = (p95[s] for s in scales)
            ratio = large / small if small else float("inf")
            ok = max(small, large) < P95_TARGET_MS and ratio <= MAX_GROWTH
            row += f" | {ratio:>9.2f}x | {'PASS' if ok else 'FAIL'}"
        lines.append(row)
    n = len(first[next(iter(first))])
    lines += [
        "",
        f"memory search   GET /api/v1/personas/{{id}}/memories/search/?q=...&k=5: '{COMMON_WORD}'",
        f"                (common) or '{RARE_WORD}' (rare: the first message and one in "
        f"{RARE_EVERY:,} since)",
        "read history    GET /api/v1/conversations/{id}/messages/: the newest page (30) of the",
        "                latest conversation, read from the database (its cache made stale first)",
        f"Times in ms, {n} timed requests per operation and scale after {WARMUP} warm-up ones. "
        f"Target: p95 < {P95_TARGET_MS:.0f} ms",
        f"and the larger history's p95 within {MAX_GROWTH}x of the smaller's.",
    ]
    return "\n".join(lines)


def run(*, incoming: str, scales: list[str], requests: int, rounds: int, fresh: bool) -> str:
    """Prepare every scale, measure them in alternating rounds; return the report."""
    DATA_DIR.mkdir(exist_ok=True)
    (DATA_DIR / ".gitignore").write_text("*\n")
    urls = {scale: database_url(scale, incoming) for scale in scales}
    prepared = {}
    for scale in scales:
        print(f"bench one pair {scale}: preparing", file=sys.stderr, flush=True)
        prepare_database(urls[scale])
        prepared[scale] = _child(
            urls[scale], "--child", scale, "--prepare", *(["--fresh"] if fresh else [])
        )
    measured: dict[str, dict[str, list[float]]] = {scale: {} for scale in scales}
    for round_no in range(rounds):
        share = requests // rounds + (round_no < requests % rounds)
        for scale in scales if round_no % 2 == 0 else scales[::-1]:
            print(f"bench one pair {scale}: round {round_no + 1}/{rounds}", file=sys.stderr)
            result = _child(urls[scale], "--child", scale, "--requests", str(share))
            for key, samples in result.items():
                measured[scale].setdefault(key, []).extend(samples)
    return report(prepared, measured)


# The children: one database, inside Django. ------------------------------------------------


def _describe() -> str:
    import sqlite3

    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def _pair() -> tuple[object, object] | None:
    from mybella.users.models import User
    from personas.models import PersonaProfile

    user = User.objects.filter(username=USERNAME).first()
    persona = PersonaProfile.objects.get(slug=PERSONA_SLUG, owner__isnull=True)
    return (user, persona) if user else None


def _texts(count: int) -> list[str]:
    rng = random.Random(SEED)
    corpus = Corpus(SEED)
    texts = []
    for n in range(count):
        text = corpus.user_message(rng) if n % 2 == 0 else corpus.assistant_message(rng)
        if n % RARE_EVERY == 0:
            text = f"{text} I once flew in a {RARE_WORD}."
        texts.append(text)
    return texts


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = %s AND NOT x.indisprimary AND NOT x.indisunique",
            [table],
        )
        return cursor.fetchall()


def _sqlite_triggers(table: str) -> list[tuple[str, str]]:
    """Return the name and the very SQL of every trigger on `table` (SQLite)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [table],
        )
        return cursor.fetchall()


def _sqlite_index_messages(cursor: object, *, user_id: int) -> None:
    """Put the user's recallable messages into the full-text index in one statement.

    What the insert trigger of chat's search-index migration does row by row, for the rows
    inserted while the triggers were dropped (the user is new: all of theirs).
    """
    from chat.selectors import MESSAGE_INDEX

    # The index's own constants; the user is a parameter.
    sql = (
        f"INSERT INTO {MESSAGE_INDEX.fts_table}(rowid, content, pair) "  # noqa: S608
        "SELECT t.id, t.content, 'p' || t.user_id || 'x' || t.persona_id "
        f"FROM {MESSAGE_INDEX.table} t WHERE t.user_id = %s AND {MESSAGE_INDEX.where}"
    )
    cursor.execute(sql, [user_id])


def seed(scale: Scale) -> dict:
    """Create the pair and its history in bulk; return what was made and how long it took."""
    from django.db import connection, transaction

    from chat.models import ChatMessage, Conversation
    from memory.models import ConversationMemory
    from memory.services import search_indexes_merge
    from mybella.users.models import User
    from personas.models import PersonaProfile

    started = time.perf_counter()
    if not connection.in_atomic_block:
        from bench.seed import _fast_seeding_connection

        _fast_seeding_connection()
    persona = PersonaProfile.objects.get(slug=PERSONA_SLUG, owner__isnull=True)
    texts = _texts(scale.messages)
    step = timedelta(minutes=1)
    with transaction.atomic():
        User.objects.filter(username=USERNAME).delete()
        user = User(username=USERNAME)
        user.set_unusable_password()
        user.save()
        conversations = Conversation.objects.bulk_create(
            Conversation(user=user, persona=persona, title=f"Part {n + 1}")
            for n in range(-(-scale.messages // CONVERSATION_SIZE))
        )
        table = ChatMessage._meta.db_table
        indexes = _secondary_indexes(table) if connection.vendor == "postgresql" else []
        triggers = _sqlite_triggers(table) if connection.vendor == "sqlite" else []
        with connection.cursor() as cursor:
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        rows = (
            (
                conversations[n // CONVERSATION_SIZE].id,
                user.id,
                persona.id,
                "user" if n % 2 == 0 else "assistant",
                text,
                "ok",
                "",
                "",
                "",
                max(1, len(text) // 4),
                START + n * step,
                START + n * step,
                "[]",
                0,
            )
            for n, text in enumerate(texts)
        )
        columns = [
            *("conversation_id", "user_id", "persona_id", "role", "content", "status"),
            *("error", "provider", "model", "token_estimate", "created_at", "updated_at"),
            *("alternatives", "selected"),
        ]
        raw = connection.connection
        if connection.vendor == "postgresql":
            names = ", ".join(columns)
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            raw.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                (
                    (*row[:10], _sqlite_time(row[10]), _sqlite_time(row[11]), *row[12:])
                    for row in rows
                ),
            )
        inserted = time.perf_counter() - started
        with connection.cursor() as cursor:
            if triggers:
                _sqlite_index_messages(cursor, user_id=user.id)
                for _, definition in triggers:
                    cursor.execute(definition)
            if indexes:
                # The copied rows' deferred foreign-key checks, now: an index can't be
                # built on a table with checks pending.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for _, definition in indexes:
                cursor.execute(definition)
        rng = random.Random(SEED + 1)
        ConversationMemory.objects.bulk_create(
            (
                ConversationMemory(
                    user=user,
                    persona=persona,
                    kind=kind,
                    content=content,
                    importance=rng.randint(3, 9),
                )
                for kind, content in (
                    memory_text(rng) for _ in range(max(1, scale.messages // MEMORY_EVERY))
                )
            ),
            batch_size=5_000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # A deployment merges SQLite's full-text segments from time to time (nothing on
    # PostgreSQL): the history is measured as such a database holds it.
    search_indexes_merge()
    return {
        "messages": scale.messages,
        "how": f"seeded in {time.perf_counter() - started:.0f} s (messages {inserted:.0f} s)",
    }


def _sqlite_time(moment: datetime) -> str:
    # What Django's adapt_datetimefield_value writes: naive UTC, ISO with a space.
    return moment.replace(tzinfo=None).isoformat(" ")


def measure(requests: int) -> dict[str, list[float]]:
    """Time `requests` requests of each operation for the pair; return the samples in ms."""
    import gc

    from rest_framework.test import APIClient

    from chat.cache import chat_changed
    from chat.models import Conversation

    user, persona = _pair()
    latest = Conversation.objects.filter(user=user, persona=persona).order_by("-id").first()
    client = APIClient()
    client.force_login(user)
    search = f"/api/v1/personas/{persona.pk}/memories/search/"
    operations = {
        "memory search, common": lambda: client.get(search, {"q": COMMON_WORD, "k": 5}),
        "memory search, rare": lambda: client.get(search, {"q": RARE_WORD, "k": 5}),
        "read history": lambda: client.get(f"/api/v1/conversations/{latest.pk}/messages/"),
    }
    # The history is cached until the pair's chat changes: each read here comes after a
    # change (untimed), as a page read after a new message does, so the database is read.
    before = {"read history": lambda: chat_changed(user_id=user.pk)}
    samples: dict[str, list[float]] = {}
    for key, call in operations.items():
        prepare = before.get(key, lambda: None)
        for _ in range(WARMUP):
            prepare()
            response = call()
            if response.status_code != 200:
                raise SystemExit(f"bench: {key} answered {response.status_code}")
        gc.collect()
        timed = []
        for _ in range(requests):
            prepare()
            began = time.perf_counter_ns()
            call()
            timed.append((time.perf_counter_ns() - began) / 1e6)
        samples[key] = timed
    return samples


def child(scale_name: str, *, out: Path, prepare: bool, fresh: bool, requests: int) -> int:
    """Prepare (migrate, seed or reuse) or measure one database; write the result to `out`."""
    import warnings

    import django

    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    from django.core.management import call_command

    from bench.seed import _wipe

    scale = SCALES[scale_name]
    if prepare:
        call_command("migrate", verbosity=0, interactive=False)
        from chat.models import ChatMessage

        found = _pair()
        have = ChatMessage.objects.filter(user=found[0]).count() if found else 0
        if fresh or have != scale.messages:
            if found:
                # Deleting a long history row by row takes longer than seeding it again.
                _wipe()
                call_command("migrate", verbosity=0, interactive=False)
            result = seed(scale)
        else:
            result = {"messages": have, "how": "reused"}
        result["database"] = _describe()
    else:
        result = measure(requests)
    out.write_text(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the one-pair benchmark and print its table; return 0 whatever it shows."""
    import os

    parser = argparse.ArgumentParser(prog="python -m bench.one_pair")
    parser.add_argument("--scales", default="1k,1m", help="comma-separated: 1k, 1m")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    fresh, rounds = fresh_and_rounds(args)
    if args.child:
        return child(
            args.child,
            out=Path(args.out),
            prepare=args.prepare,
            fresh=fresh,
            requests=args.requests,
        )
    scales = [s for s in SCALES if s in args.scales.lower().replace(" ", "").split(",")]
    if not scales:
        parser.error(f"--scales: choose among {', '.join(SCALES)}")
    incoming = os.environ.get("DATABASE_URL", "").strip()
    print(run(incoming=incoming, scales=scales, requests=args.requests, rounds=rounds, fresh=fresh))
    return 0


if __name__ == "__main__":
    sys.exit(main())
