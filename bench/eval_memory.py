"""`make eval-memory`: how much of the evidence MyBella's memory search finds on LoCoMo.

    make eval-memory                                  # DATA=../shared/data/locomo-dev.json
    .venv/bin/python -m bench.eval_memory --data PATH [--k 5,10,20]
        [--limit-conversations N | --conversations 1-4,7] [--json out.json] [--with-model]

Each LoCoMo conversation is imported the way a user would bring it in: speaker_a is the user,
speaker_b a custom persona of theirs, every session one history import (`history_parse`,
`history_import`) with each turn at its session's date. Memory extraction runs as the product
runs it, as the task the import enqueues (the immediate tasks backend runs it at once). The
same history goes into a second persona without extraction ("messages only"). Each question
of categories 1-4 is then asked through `memory.recall.recall` for the pair, like the memory
search API does, and the returned items are mapped back to LoCoMo turns through their
`source_message_ids` and the turns of their `context` that bear on the question (`matches`:
sharing a word of it, or answering a recalled question), as the API shows them. A question's
evidence recall@k is the share of its evidence turns among the top k items; the table
averages it over questions, per category.

The baseline, computed in the same run: plain Okapi BM25 over the pair's messages (lowercase
words of two letters or more, no stemming, no stop words, no dates, no memories).

The database is a throwaway: a temporary SQLite file, or, when `DATABASE_URL` is set, a
database derived from it (`<name>_eval` on PostgreSQL, `<stem>-eval.sqlite3` for SQLite),
made empty first and dropped at the end; the named database itself and `db.sqlite3` are never
touched. No model is
called unless `--with-model` is given (then the `LLM_*` settings of the environment apply).
An evaluation is not a test: the exit status is 0 whatever the numbers.
"""

import argparse
import json
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.databases import derived_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA = BASE_DIR.parent / "shared" / "data" / "locomo-dev.json"
DEFAULT_KS = (5, 10, 20)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
METHODS = {
    "mybella": "MyBella recall",
    "messages": "messages only",
    "bm25": "BM25 baseline",
}
# Turns of a session are a minute apart, so their order survives the import.
TURN_SPACING = timedelta(minutes=1)
SESSION_DATE_FORMAT = "%I:%M %p on %d %B, %Y"  # "1:56 pm on 8 May, 2023"
BM25_K1, BM25_B = 1.5, 0.75
IMMEDIATE_BACKEND = "django_tasks.backends.immediate.ImmediateBackend"
DUMMY_BACKEND = "django_tasks.backends.dummy.DummyBackend"

_SESSION_KEY = re.compile(r"session_(\d+)")
_DIA_ID = re.compile(r"D:?(\d+):(\d+)")
_BM25_TOKEN = re.compile(r"\b\w\w+\b")


# The data: LoCoMo conversations, without Django. ------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One line of a LoCoMo session, as it will be imported."""

    dia_id: str
    role: str  # "user" (speaker_a) | "assistant" (speaker_b)
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Session:
    """One LoCoMo session: its number, its date and its turns in order."""

    number: int
    date: datetime
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Question:
    """A question of categories 1-4 and the ids of the turns that hold its answer."""

    text: str
    category: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Dialogue:
    """One LoCoMo conversation: who talks, its sessions and the questions asked about it."""

    id: str
    user_name: str
    persona_name: str
    sessions: tuple[Session, ...]
    questions: tuple[Question, ...]
    dropped_evidence: int = 0  # evidence ids that name no turn of the conversation
    dropped_questions: int = 0  # questions of categories 1-4 left without any evidence

    @property
    def turns(self) -> list[Turn]:
        """Return every turn of every session, in order."""
        return [turn for session in self.sessions for turn in session.turns]


def dia_id(raw: str) -> str:
    """Return a turn id in its canonical form: "D:11:26" and "D30:05" become "D11:26", "D30:5"."""
    found = _DIA_ID.fullmatch(raw.strip())
    if found is None:
        raise ValueError(f"not a LoCoMo turn id: {raw!r}")
    return f"D{int(found[1])}:{int(found[2])}"


def evidence_ids(raw: Iterable[str]) -> list[str]:
    """Return the turn ids of an evidence list, in order, once each.

    A few published items hold several ids in one string ("D9:1 D4:4") or a stray colon.
    """
    found = [f"D{int(s)}:{int(t)}" for item in raw for s, t in _DIA_ID.findall(item)]
    return list(dict.fromkeys(found))


def session_date(text: str) -> datetime:
    """Parse a LoCoMo session date ("1:56 pm on 8 May, 2023") as UTC."""
    return datetime.strptime(text.strip(), SESSION_DATE_FORMAT).replace(tzinfo=UTC)


def turn_text(turn: dict) -> str:
    """Return a turn's text as a user would see it, with a shared photo described."""
    text = (turn.get("text") or "").strip()
    caption = (turn.get("blip_caption") or "").strip()
    if caption:
        text = f"{text} [shares a photo: {caption}]".strip()
    return text


def parse_dialogue(item: dict) -> Dialogue:
    """Read one published LoCoMo item (the whole item, or its "conversation" part with "qa")."""
    conversation = item.get("conversation", item)
    user_name, persona_name = conversation["speaker_a"], conversation["speaker_b"]
    roles = {user_name: "user", persona_name: "assistant"}
    numbers = sorted(
        int(found[1])
        for key in conversation
        if (found := _SESSION_KEY.fullmatch(key)) and conversation[key]
    )
    sessions = []
    for number in numbers:
        date = session_date(conversation[f"session_{number}_date_time"])
        turns = []
        for index, turn in enumerate(conversation[f"session_{number}"]):
            text = turn_text(turn)
            if not text:
                continue
            if turn["speaker"] not in roles:
                raise ValueError(f"{turn['dia_id']}: unknown speaker {turn['speaker']!r}")
            turns.append(
                Turn(
                    dia_id(turn["dia_id"]),
                    roles[turn["speaker"]],
                    text,
                    date + index * TURN_SPACING,
                )
            )
        sessions.append(Session(number, date, tuple(turns)))
    known = {turn.dia_id for session in sessions for turn in session.turns}
    questions, dropped_evidence, dropped_questions = [], 0, 0
    for qa in item.get("qa", []):
        if qa.get("category") not in CATEGORIES or not qa.get("evidence"):
            continue
        ids = evidence_ids(qa["evidence"])
        usable = tuple(i for i in ids if i in known)
        unreadable = sum(1 for raw in qa["evidence"] if not _DIA_ID.search(raw))
        dropped_evidence += len(ids) - len(usable) + unreadable
        if not usable:
            dropped_questions += 1
            continue
        questions.append(Question(qa["question"], qa["category"], usable))
    return Dialogue(
        id=str(item.get("sample_id") or item.get("conversation_id") or ""),
        user_name=user_name,
        persona_name=persona_name,
        sessions=tuple(sessions),
        questions=tuple(questions),
        dropped_evidence=dropped_evidence,
        dropped_questions=dropped_questions,
    )


def load(
    path: Path, limit: int | None = None, *, numbers: Collection[int] | None = None
) -> list[Dialogue]:
    """Read the LoCoMo file at `path`: a JSON list of conversations (the first `limit`).

    `numbers` (1 for the file's first conversation) keeps only those conversations.
    """
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of conversations")
    if numbers is not None:
        missing = sorted(n for n in numbers if not 1 <= n <= len(items))
        if missing:
            raise ValueError(f"{path}: no conversation {missing[0]} (it holds {len(items)})")
        items = [item for number, item in enumerate(items, start=1) if number in numbers]
    return [parse_dialogue(item) for item in items[:limit]]


def conversation_numbers(text: str) -> set[int]:
    """Parse a list of conversation numbers and ranges: "1-4", "5-8", "1,3,6-8"."""
    numbers: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        first, _, last = part.partition("-")
        low, high = int(first), int(last or first)
        if low < 1 or high < low:
            raise ValueError(f"not a range of conversations: {part!r}")
        numbers.update(range(low, high + 1))
    if not numbers:
        raise ValueError("no conversation named")
    return numbers


# The baseline and the counting, without Django. ------------------------------------------


def bm25_tokens(text: str) -> list[str]:
    """Return the baseline's terms: lowercase words of two letters or more, nothing removed."""
    return _BM25_TOKEN.findall(text.lower())


class BM25:
    """Okapi BM25 over a fixed list of documents (k1 1.5, b 0.75, Lucene's idf)."""

    def __init__(self, documents: Sequence[str]) -> None:
        self.counts = [Counter(bm25_tokens(document)) for document in documents]
        self.lengths = [sum(count.values()) for count in self.counts]
        self.average = sum(self.lengths) / len(self.lengths) if self.lengths else 0.0
        frequency = Counter(term for count in self.counts for term in count)
        n = len(self.counts)
        self.idf = {
            term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()
        }

    def scores(self, query: str) -> list[float]:
        """Return every document's score for `query`."""
        terms = [term for term in dict.fromkeys(bm25_tokens(query)) if term in self.idf]
        scores = []
        for count, length in zip(self.counts, self.lengths, strict=True):
            norm = BM25_K1 * (1 - BM25_B + BM25_B * length / (self.average or 1.0))
            scores.append(
                sum(
                    self.idf[t] * count[t] * (BM25_K1 + 1) / (count[t] + norm)
                    for t in terms
                    if t in count
                )
            )
        return scores

    def rank(self, query: str, k: int) -> list[int]:
        """Return the indexes of the `k` best documents sharing a term with `query`.

        Ties go to the earlier document.
        """
        scores = self.scores(query)
        order = sorted((i for i, s in enumerate(scores) if s > 0), key=lambda i: (-scores[i], i))
        return order[:k]


def evidence_recall(ranked: Sequence[Iterable[str]], evidence: Iterable[str], k: int) -> float:
    """Return the share of `evidence` turn ids among the turns of the first `k` ranked items.

    Each ranked item names the turns it stands for (a message: its own; a memory: its sources).
    """
    wanted = set(evidence)
    if not wanted:
        raise ValueError("a question without evidence has no recall")
    found = set().union(*(set(item) for item in ranked[:k]))
    return len(wanted & found) / len(wanted)


@dataclass
class QuestionResult:
    """One question's evidence recall@k by each method, with the evidence each one found."""

    dialogue: str
    question: str
    category: int
    evidence: tuple[str, ...]
    recall: dict[str, dict[int, float]] = field(default_factory=dict)
    found: dict[str, dict[int, list[str]]] = field(default_factory=dict)

    def add(self, method: str, ranked: Sequence[Iterable[str]], ks: Iterable[int]) -> None:
        """Score one method's ranked items at every k."""
        for k in ks:
            self.recall.setdefault(method, {})[k] = evidence_recall(ranked, self.evidence, k)
            turns = set().union(*(set(item) for item in ranked[:k]))
            self.found.setdefault(method, {})[k] = [e for e in self.evidence if e in turns]


def summarize(
    results: Sequence[QuestionResult], methods: Sequence[str], ks: Sequence[int]
) -> dict[str, dict[str, Any]]:
    """Return, per category name and "all", the question count and each method's mean recall@k."""
    groups: dict[str, list[QuestionResult]] = {
        f"{number} {name}": [r for r in results if r.category == number]
        for number, name in CATEGORIES.items()
    }
    groups["all"] = list(results)
    return {
        label: {
            "n": len(group),
            **{
                method: {
                    k: (sum(r.recall[method][k] for r in group) / len(group) if group else None)
                    for k in ks
                }
                for method in methods
            },
        }
        for label, group in groups.items()
    }


def format_table(
    summary: dict[str, dict[str, Any]], methods: Sequence[str], ks: Sequence[int]
) -> str:
    """Return the summary as a fixed-width table: a row per category, columns per method."""
    widths = {m: max(6 * len(ks) - 1, len(METHODS[m])) for m in methods}
    head = f"{'category':<14}{'n':>5}" + "".join(f" | {METHODS[m]:<{widths[m]}}" for m in methods)
    sub = f"{'':<19}" + "".join(
        " | " + " ".join(f"{'@' + str(k):>5}" for k in ks).rjust(widths[m]) for m in methods
    )
    lines = [head, sub, "-" * len(head)]
    for label, row in summary.items():
        cells = "".join(
            " | "
            + " ".join(
                f"{row[m][k]:>5.3f}" if row[m][k] is not None else f"{'-':>5}" for k in ks
            ).rjust(widths[m])
            for m in methods
        )
        lines.append(f"{label:<14}{row['n']:>5}{cells}")
    return "\n".join(lines)


# Inside Django: import through the services, ask through the recall selector. ------------


@dataclass
class Pair:
    """An imported (user, persona) pair and which LoCoMo turn each of its messages is."""

    user: Any
    persona: Any
    turn_of: dict[int, str]  # message id -> dia_id


@contextmanager
def _tasks_backend(backend: str) -> Iterator[None]:
    from django.test import override_settings

    with override_settings(TASKS={"default": {"BACKEND": backend, "QUEUES": ["default"]}}):
        yield


def import_dialogue(dialogue: Dialogue, *, user: Any, persona_name: str, extract: bool) -> Pair:
    """Create `user`'s persona and import every session of `dialogue` as its history.

    With `extract`, the memory extraction that each import enqueues runs at once (the
    immediate tasks backend), as a task worker would run it; without, it is only recorded.
    """
    from chat import selectors as chat_selectors
    from chat.services import history_import, history_parse
    from personas.services import persona_create

    persona = persona_create(
        owner=user,
        fields={"name": persona_name, "tagline": f"LoCoMo conversation {dialogue.id}"},
    )
    turn_of: dict[int, str] = {}
    with _tasks_backend(IMMEDIATE_BACKEND if extract else DUMMY_BACKEND):
        for session in dialogue.sessions:
            if not session.turns:
                continue
            items = history_parse(
                [
                    {"role": t.role, "content": t.text, "created_at": t.created_at.isoformat()}
                    for t in session.turns
                ]
            )
            conversation = history_import(
                user=user,
                persona=persona,
                items=items,
                title=f"Session {session.number}, {session.date:%d %B %Y}",
            )
            messages = list(
                chat_selectors.message_list(user=user, conversation=conversation).only(
                    "id", "content"
                )
            )
            if [m.content for m in messages] != [t.text for t in session.turns]:
                raise RuntimeError(f"session {session.number}: the import changed the turns")
            turn_of.update((m.id, t.dia_id) for m, t in zip(messages, session.turns, strict=True))
    return Pair(user, persona, turn_of)


def ask(pair: Pair, question: str, k: int) -> list[tuple[str, ...]]:
    """Ask the recall selector for the pair's top `k`; return each item's LoCoMo turns.

    An item's turns: its sources (a message stands for itself) and the turns shown around
    it that bear on the question (`Turn.matches`).
    """
    from memory.recall import recall

    items = recall(user=pair.user, persona=pair.persona, query=question, k=k)
    return [
        tuple(
            pair.turn_of[i]
            for i in (*item.source_message_ids, *(turn.id for turn in item.context if turn.matches))
            if i in pair.turn_of
        )
        for item in items
    ]


@dataclass
class Run:
    """What one evaluation measured, and how long it took."""

    results: list[QuestionResult]
    methods: list[str]
    ks: list[int]
    counts: dict[str, int]
    seconds: dict[str, float]


def evaluate(
    dialogues: Sequence[Dialogue],
    *,
    ks: Sequence[int] = DEFAULT_KS,
    messages_only: bool = True,
    progress: Any = None,
) -> Run:
    """Import every dialogue, ask every question by each method, and score the answers."""
    from django_tasks.signals import task_finished

    from memory import selectors as memory_selectors
    from mybella.users.services import user_create, user_update_profile

    ks = sorted(set(ks))
    methods = ["mybella", *(["messages"] if messages_only else []), "bm25"]
    counts = Counter()
    seconds = Counter()
    results: list[QuestionResult] = []

    def count_task(sender: Any, task_result: Any, **kwargs: Any) -> None:
        counts[f"tasks_{task_result.status.lower()}"] += 1

    task_finished.connect(count_task, dispatch_uid="eval_memory.count_task")
    try:
        for dialogue in dialogues:
            started = time.perf_counter()
            user = user_create(
                username=f"locomo-{dialogue.id}-{secrets.token_hex(3)}",
                password=secrets.token_urlsafe(24),
            )
            # speaker_a is the user: they go by their name, as a user of the app would.
            user_update_profile(user=user, data={"display_name": dialogue.user_name})
            pairs = {
                "mybella": import_dialogue(
                    dialogue, user=user, persona_name=dialogue.persona_name, extract=True
                )
            }
            seconds["import_extract"] += time.perf_counter() - started
            if messages_only:
                started = time.perf_counter()
                pairs["messages"] = import_dialogue(
                    dialogue,
                    user=user,
                    persona_name=f"{dialogue.persona_name} (messages only)",
                    extract=False,
                )
                seconds["import_messages"] += time.perf_counter() - started
            for method, pair in pairs.items():
                counts[f"memories_{method}"] += memory_selectors.memory_list(
                    user=pair.user, persona=pair.persona
                ).count()
            turns = dialogue.turns
            counts["dialogues"] += 1
            counts["turns"] += len(turns)
            counts["dropped_evidence"] += dialogue.dropped_evidence
            counts["dropped_questions"] += dialogue.dropped_questions
            # A history imported in one go gets the planner's statistics, as autovacuum
            # would give them after such a load (PostgreSQL: without them, a table the
            # planner believes empty is scanned whole, each row's pair terms computed).
            _analyze()
            started = time.perf_counter()
            baseline = BM25([t.text for t in turns])
            for question in dialogue.questions:
                result = QuestionResult(
                    dialogue.id, question.text, question.category, question.evidence
                )
                for method, pair in pairs.items():
                    # One call per k, like the search API: the top 5 need not be the top 10's head.
                    for k in ks:
                        result.add(method, ask(pair, question.text, k), [k])
                ranked = baseline.rank(question.text, max(ks))
                result.add("bm25", [(turns[i].dia_id,) for i in ranked], ks)
                results.append(result)
            seconds["questions"] += time.perf_counter() - started
            if progress:
                progress(
                    f"eval-memory: conversation {dialogue.id} ({dialogue.user_name} and "
                    f"{dialogue.persona_name}): {len(turns)} turns, "
                    f"{len(dialogue.questions)} questions"
                )
    finally:
        task_finished.disconnect(dispatch_uid="eval_memory.count_task")
    counts["questions"] = len(results)
    return Run(results, methods, ks, dict(counts), dict(seconds))


def report(run: Run, *, data: Path, total_seconds: float, model: str) -> str:
    """Return the printed report: what was measured, the table, the counts and times."""
    c, s = run.counts, run.seconds
    dialogues = c.get("dialogues", 0)
    lines = [
        "",
        f"MyBella memory recall on {data.name}: {dialogues} conversation"
        f"{'' if dialogues == 1 else 's'}, {c.get('turns', 0):,} turns, "
        f"{c.get('questions', 0):,} questions (categories 1-4).",
        "Evidence recall@k: the share of a question's evidence turns among the top k results",
        "(a message stands for itself and the turns of its context that bear on the question,",
        "a memory for its source messages), averaged over questions.",
        "",
        format_table(summarize(run.results, run.methods, run.ks), run.methods, run.ks),
        "",
        "MyBella recall  memory.recall.recall(k) for the pair, as the memory search API calls it;",
        f"                extraction by the {model}: memories {c.get('memories_mybella', 0):,} "
        f"from tasks {c.get('tasks_successful', 0):,}"
        + (f", {c['tasks_failed']} FAILED" if c.get("tasks_failed") else "")
        + ".",
    ]
    if "messages" in run.methods:
        lines += [
            "messages only   the same recall over the same history imported into a second",
            f"                persona without extraction "
            f"(memories {c.get('memories_messages', 0)}).",
        ]
    lines += [
        "BM25 baseline   Okapi BM25 (k1 1.5, b 0.75) over the pair's messages: lowercase words,",
        "                no stemming, no stop words, no dates, no memories.",
    ]
    if c.get("dropped_evidence") or c.get("dropped_questions"):
        lines.append(
            f"Left out: {c.get('dropped_evidence', 0)} evidence ids that name no turn; "
            f"{c.get('dropped_questions', 0)} questions left without evidence."
        )
    lines.append(
        f"Time: import and extraction {s.get('import_extract', 0):.1f} s"
        + (
            f", import alone {s.get('import_messages', 0):.1f} s"
            if "messages" in run.methods
            else ""
        )
        + f", questions {s.get('questions', 0):.1f} s; in all {total_seconds:.1f} s."
    )
    return "\n".join(lines)


def to_json(run: Run, *, data: Path, total_seconds: float, model: str) -> dict:
    """Return everything measured as JSON-ready data, each question's results included."""
    return {
        "data": str(data),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "extraction": model,
        "ks": run.ks,
        "methods": {m: METHODS[m] for m in run.methods},
        "summary": summarize(run.results, run.methods, run.ks),
        "counts": run.counts,
        "seconds": {**run.seconds, "total": total_seconds},
        "questions": [
            {
                "conversation": r.dialogue,
                "question": r.question,
                "category": r.category,
                "evidence": list(r.evidence),
                "recall": r.recall,
                "found": r.found,
            }
            for r in run.results
        ],
    }


# The command: a throwaway database, then the run. ----------------------------------------


def eval_database_url(incoming: str, tmp_dir: Path) -> str:
    """Return the evaluation database's URL: derived from `incoming`, else a temporary file."""
    return derived_database_url(
        incoming, tag="eval", default=tmp_dir / "eval-memory.sqlite3", tool="eval-memory"
    )


def _analyze() -> None:
    from django.db import connection

    from mybella.core import fulltext

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        fulltext.forget_statistics()


def _drop_database(url: str, *, create: bool = False) -> None:
    """Remove the evaluation database if it exists; with `create`, make an empty one."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path[1:] if parts.path.startswith("//") else parts.path)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        # FORCE: this process's connection pool may still hold sessions on it.
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str] | None = None) -> int:
    """Evaluate memory recall on a LoCoMo file and print the table; return 0."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.eval_memory", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a LoCoMo JSON file")
    parser.add_argument("--k", default=",".join(map(str, DEFAULT_KS)), help="e.g. 5,10,20")
    parser.add_argument("--limit-conversations", type=int, default=None, metavar="N")
    parser.add_argument(
        "--conversations",
        default=None,
        metavar="LIST",
        help="only these conversations of the file, counted from 1: e.g. 1-4 or 5-8 or 1,3",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--no-messages-only", action="store_true", help="skip the messages-only column"
    )
    parser.add_argument(
        "--with-model",
        action="store_true",
        help="extract with the model configured by LLM_* (default: the offline rules)",
    )
    args = parser.parse_args(argv)
    try:
        ks = sorted({int(k) for k in args.k.split(",") if k.strip()})
    except ValueError:
        parser.error("--k: comma-separated whole numbers, e.g. 5,10,20")
    if not ks or ks[0] < 1 or ks[-1] > 50:
        parser.error("--k: between 1 and 50, as the search API allows")
    if not args.data.is_file():
        parser.error(f"--data: no file at {args.data}")

    try:
        numbers = conversation_numbers(args.conversations) if args.conversations else None
    except ValueError as error:
        parser.error(f"--conversations: {error}")
    started = time.perf_counter()
    try:
        dialogues = load(args.data, args.limit_conversations, numbers=numbers)
    except ValueError as error:
        parser.error(f"--data: {error}")
    tmp_dir = Path(tempfile.mkdtemp(prefix="mybella-eval-"))
    url = eval_database_url(os.environ.get("DATABASE_URL", "").strip(), tmp_dir)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mybella.settings",
            "DATABASE_URL": url,
            "DEBUG": "false",
            "TASKS_BACKEND": IMMEDIATE_BACKEND,
            "LOG_LEVEL": "WARNING",
        }
    )
    if not args.with_model:
        os.environ.update(
            {
                "LLM_PROVIDER": "offline",
                "LLM_BASE_URL": "",
                "LLM_API_KEY": "",
                "LLM_EMBEDDING_MODEL": "",
            }
        )
    print(f"eval-memory: database {_redacted(url)}", file=sys.stderr, flush=True)
    import warnings

    import django

    try:
        _drop_database(url, create=True)

        # WhiteNoise warns that `collectstatic` never ran; nothing is served here.
        warnings.filterwarnings("ignore", "No directory at", UserWarning)
        django.setup()
        from django.core.management import call_command

        from mybella.providers.llm import get_provider

        call_command("migrate", verbosity=0, interactive=False)
        provider = get_provider()
        model = "offline rules" if provider.offline else f"{provider.name} {provider.model}"
        run = evaluate(
            dialogues,
            ks=ks,
            messages_only=not args.no_messages_only,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
        total = time.perf_counter() - started
        print(report(run, data=args.data, total_seconds=total, model=model))
        if args.json:
            args.json.write_text(
                json.dumps(to_json(run, data=args.data, total_seconds=total, model=model), indent=1)
            )
            print(f"Results of every question: {args.json}")
    finally:
        if django.apps.apps.ready:
            from django.db import connections

            connections.close_all()
        _drop_database(url)
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return 0


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return urlunsplit(parts._replace(netloc=parts.netloc.replace(parts.password, "***")))
    return url


if __name__ == "__main__":
    sys.exit(main())
