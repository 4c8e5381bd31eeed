"""Recall what one (user, persona) pair has said and remembered that bears on a new message.

Pure ranking: the candidates come from bounded SQL scoped to the pair, in the selectors
(`memory.selectors.memory_recall_candidates`, `chat.selectors.message_recall_candidates`),
and are ranked here in Python:

    score = BM25(query, item) * recency * weight

BM25 (k1=1.2, b=0.75) runs over the candidate set. Recency is 0.5 + 0.5 * 2^(-age / half-life),
so old items keep half their weight (half-life 30 days for memories, 7 for messages). The
weight is 0.5 + importance / 10 for a memory (x1.25 when pinned) and 0.8 for a message. Only
items sharing a term with the query count; pinned memories without any overlap fill the
slots that are left, with score 0.0.
"""

import math
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from chat import selectors as chat_selectors
from memory import selectors
from mybella.core import limits
from mybella.users.models import User
from personas.models import PersonaProfile

K1, B = 1.2, 0.75
MEMORY_HALF_LIFE = timedelta(days=30)
MESSAGE_HALF_LIFE = timedelta(days=7)
MESSAGE_WEIGHT = 0.8
PINNED_BOOST = 1.25
CANDIDATE_LIMIT = 400
MAX_SQL_TERMS = 8
# Embeddings: a close memory counts like a strong lexical match.
SIMILARITY_THRESHOLD = 0.5
SEMANTIC_WEIGHT = 3.0

STOP_WORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being below
    between both but by can cant could did didnt do does doesnt doing dont down during each few
    for from further had has have having he her here hers herself him himself his how i id if
    im in into is isnt it its itself ive just let lets me more most my myself no nor not now of
    off on once only or other our ours out over own same she should so some such than that thats
    the their theirs them then there theres these they this those through to too under until up
    very was wasnt we were what whats when where which while who whom why will with won wont
    would you youd youll youre youve your yours yourself ok okay oh yeah yes hey hi hello really
    lol""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+")
_VOWEL = re.compile(r"[aeiouy]")


@dataclass(frozen=True)
class Recalled:
    """A memory or a past message of the pair, with how well it fits the query."""

    kind: str  # "memory" | "message"
    id: int
    content: str
    score: float
    source_message_ids: tuple[int, ...]  # a memory's sources; a message's own id
    created_at: datetime


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        rest = word[: -len(suffix)]
        if not word.endswith(suffix) or len(rest) < 3 or word.endswith("ss"):
            continue
        # "string", "speed": no vowel left or a doubled "e" means it is not a suffix.
        if suffix in ("ing", "ed") and (not _VOWEL.search(rest) or word.endswith("eed")):
            continue
        word = rest
        break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word.endswith("y"):
        word = word[:-1] + "i"
    return word


def terms(text: str) -> list[str]:
    """Return the stemmed, lowercase words of `text` that are not stop words, in order."""
    words = _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))
    return [_stem(word) for word in words if word not in STOP_WORDS]


def _needle(term: str) -> str:
    # Every stem is a prefix of the words it came from, except that a final "y" became "i".
    return term[:-1] if term.endswith("i") and len(term) > 3 else term


def _scan_chars() -> int:
    # Anything stored within the limits is read whole; older, longer rows only this far.
    return max(settings.CHAT_MESSAGE_MAX_CHARS, limits.MEMORY_MAX_CHARS)


def snippet(text: str, query: str, max_chars: int = limits.SNIPPET_MAX_CHARS) -> str:
    """Return `text` if it is short, else at most `max_chars` of it around a word of `query`.

    The window starts a little before the earliest word of the query found in the text
    (the start of the text when none is), and an ellipsis marks each side that was cut.
    """
    if len(text) <= max_chars:
        return text
    lowered = text.lower()
    found = [lowered.find(_needle(term)) for term in set(terms(query))]
    hit = min((position for position in found if position >= 0), default=0)
    width = max_chars - 2  # room for an ellipsis on each side
    start = max(0, min(hit - width // 4, len(text) - width))
    end = start + width
    head = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    return f"{head}{text[start:end].strip()}{tail}"


def _recency(created_at: datetime, now: datetime, half_life: timedelta) -> float:
    age = max((now - created_at) / half_life, 0.0)
    return 0.5 + 0.5 * 0.5**age


def _cosine(a: list[float] | None, b: list[float] | None) -> float:
    if not a or not isinstance(b, list) or len(a) != len(b):
        return 0.0
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


def _bm25(query: set[str], docs: list[list[str]]) -> list[float]:
    if not docs:
        return []
    counts = [Counter(doc) for doc in docs]
    avgdl = sum(map(len, docs)) / len(docs) or 1.0
    frequency = Counter(term for count in counts for term in query if term in count)
    idf = {term: math.log(1 + (len(docs) - n + 0.5) / (n + 0.5)) for term, n in frequency.items()}
    scores = []
    for doc, count in zip(docs, counts, strict=True):
        norm = K1 * (1 - B + B * len(doc) / avgdl)
        scores.append(
            sum(idf[t] * count[t] * (K1 + 1) / (count[t] + norm) for t in idf if t in count)
        )
    return scores


def recall(
    *,
    user: User,
    persona: PersonaProfile,
    query: str,
    k: int = 5,
    exclude_message_ids: Collection[int] = (),
    query_embedding: list[float] | None = None,
) -> list[Recalled]:
    """Return up to `k` of the pair's memories and past messages that bear on `query`, best first.

    With `query_embedding` (when the configured model offers embeddings), memories whose
    stored embedding is close to it count as relevant too, whatever their words.
    Run at most three queries, however long the pair's history.
    """
    query_terms = set(terms(query))
    if (not query_terms and not query_embedding) or k <= 0:
        return []
    needles = sorted({_needle(t) for t in query_terms}, key=lambda n: (-len(n), n))
    needles = needles[:MAX_SQL_TERMS]
    memories = selectors.memory_recall_candidates(
        user=user,
        persona=persona,
        needles=needles,
        with_embeddings=bool(query_embedding),
        limit=CANDIDATE_LIMIT,
        head_chars=_scan_chars(),
    )
    messages = chat_selectors.message_recall_candidates(
        user=user,
        persona=persona,
        needles=needles,
        exclude_ids=exclude_message_ids,
        limit=CANDIDATE_LIMIT,
        head_chars=_scan_chars(),
    )
    relevance = _bm25(query_terms, [terms(item.head) for item in [*memories, *messages]])
    now = timezone.now()
    ranked: list[Recalled] = []
    fallback: list[Recalled] = []
    for memory, bm25 in zip(memories, relevance[: len(memories)], strict=True):
        similarity = _cosine(query_embedding, memory.embedding)
        if similarity >= SIMILARITY_THRESHOLD:
            bm25 += SEMANTIC_WEIGHT * similarity
        weight = (0.5 + memory.importance / 10) * (PINNED_BOOST if memory.pinned else 1.0)
        score = bm25 * _recency(memory.created_at, now, MEMORY_HALF_LIFE) * weight
        item = Recalled("memory", memory.id, memory.head, score, (), memory.created_at)
        if bm25 > 0:
            ranked.append(item)
        elif memory.pinned:
            fallback.append(item)
    for message, bm25 in zip(messages, relevance[len(memories) :], strict=True):
        if bm25 > 0:
            score = bm25 * _recency(message.created_at, now, MESSAGE_HALF_LIFE) * MESSAGE_WEIGHT
            ranked.append(
                Recalled(
                    "message", message.id, message.head, score, (message.id,), message.created_at
                )
            )
    ranked.sort(key=lambda item: (-item.score, -item.created_at.timestamp(), item.kind, -item.id))
    chosen = ranked[:k] + fallback[: max(k - len(ranked), 0)]

    sources = selectors.memory_source_ids(
        user=user, persona=persona, memory_ids=[item.id for item in chosen if item.kind == "memory"]
    )
    return [
        replace(item, source_message_ids=sources.get(item.id, ()))
        if item.kind == "memory"
        else item
        for item in chosen
    ]
