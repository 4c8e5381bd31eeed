"""Recall what one (user, persona) pair has said and remembered that bears on a new message.

The database finds the candidates: its full-text index (FTS5 on SQLite, a GIN-indexed
`tsvector` on PostgreSQL) ranks the pair's whole history of messages, and separately its
memories, for the words of the query and hands back the best `CANDIDATES` of each
(`chat.selectors.message_recall_candidates`, `memory.selectors.memory_recall_candidates`).

The two lists are ranked on one scale here, because the indexes' own scores are not
comparable (different corpora):

    score = BM25(query, item) * weight

BM25 (k1=1.2, b=0.75) runs over the candidates. The words of the pair's own names (the
persona's, the user's display or first name) are left out of the query: they are said all
through the pair's talk. Our light stemmer keeps "celebration" apart from "celebrate",
which the index's stemmer joins: a word of an item agrees with a word of the query when
one begins with the other and both have six letters or more. The weight is
0.5 + importance / 10 for a memory (x1.25 when pinned) and 0.8 for a message, doubled for
an item said in the period a date in the query names ("in June 2023", "on May 3, 2023").
Recency only breaks ties. Pinned memories without any overlap fill the slots that are
left, with score 0.0.

With the context (the search API), a message's score also takes in the talk around it:

    message = (own + 0.3 * best other in its conversation + 0.3 * better neighbour) / 1.6

(each the other message's own score, 0 when it holds no word of the query): a
conversation where the query's words keep coming back is likely the one asked about, and
a question and its answer bear on each other. A message as strong as its neighbour and its
conversation's best keeps its own score; a lone one counts for less. The prompt's recall
(without context) ranks on words alone.

A recalled message comes with the good turns around it in its conversation (`before`,
`after`; a turn `matches` when it shares a word of the query or answers the recalled
message's question), and every item with the date it was said (`said_at`: a message's
own, a memory's first source's). A message already shown, as a matching turn, around a
better one takes no slot of its own.
"""

import functools
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings

from chat import selectors as chat_selectors
from memory import selectors
from mybella.core import limits
from mybella.users.models import User
from personas.models import PersonaProfile

K1, B = 1.2, 0.75
MESSAGE_WEIGHT = 0.8
PINNED_BOOST = 1.25
# Of each index, at least this many of its best are ranked together (more when k is larger).
CANDIDATES = 200
PINNED_LIMIT = 400
MAX_QUERY_WORDS = 12
DATE_BOOST = 2.0
# A message is lifted by these shares of the best score of another matching message in its
# conversation, and of its better matching neighbour (the turn just before or after it).
SESSION_LIFT = 0.3
NEIGHBOUR_LIFT = 0.3
# Two words agree when one begins with the other, this long at least ("adopt", "adoption").
PREFIX_AGREEMENT = 6
# Of the best k * this, a message shown as context of a better one is collapsed into it (so
# with more than k of them collapsed, fewer than k come back).
DIVERSITY_POOL = 2
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
Neighbours = dict[int, tuple[chat_selectors.Neighbour | None, chat_selectors.Neighbour | None]]
Candidate = chat_selectors.Candidate
_WORD = re.compile(r"[^\W_]+")
_VOWEL = re.compile(r"[aeiouy]")


@dataclass(frozen=True)
class Turn:
    """A message next to a recalled one, as context.

    `matches`: it bears on the query too, by sharing a word of it, or by being the reply
    to a recalled message that asks something.
    """

    id: int
    role: str
    content: str
    created_at: datetime
    matches: bool


@dataclass(frozen=True)
class Recalled:
    """A memory or a past message of the pair, with how well it fits the query."""

    kind: str  # "memory" | "message"
    id: int
    content: str
    score: float
    source_message_ids: tuple[int, ...]  # a memory's sources; a message's own id
    created_at: datetime
    said_at: datetime | None = None  # a message's time; a memory's first source's
    before: Turn | None = None  # the message's previous good turn in its conversation
    after: Turn | None = None  # and the next one
    context: tuple[Turn, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", tuple(t for t in (self.before, self.after) if t))


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    # Pure, and called for every word of every candidate: the vocabulary repeats.
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


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


def terms(text: str, *, ignore: Collection[str] = ()) -> list[str]:
    """Return the stemmed, lowercase words of `text` that are not stop words, in order.

    Words of `ignore` (lowercase) are left out too.
    """
    return [_stem(word) for word in _words(text) if word not in STOP_WORDS and word not in ignore]


def _terms(text: str, skip: frozenset[str]) -> list[str]:
    # `terms(text, ignore=...)` with the stop words and the ignored ones as one set, made
    # once per search: it runs for every candidate.
    return [_stem(word) for word in _words(text) if word not in skip]


def _needle(term: str) -> str:
    # Every stem is a prefix of the words it came from, except that a final "y" became "i".
    return term[:-1] if term.endswith("i") and len(term) > 3 else term


def query_words(text: str, *, ignore: Collection[str] = ()) -> list[str]:
    """Return the words of `text` for the full-text index: lowercase, no stop words, unstemmed.

    Words of `ignore` (lowercase) are left out too. The index stems them itself. Longest
    first, at most `MAX_QUERY_WORDS`.
    """
    words = _words(text)
    unique = dict.fromkeys(w for w in words if w not in STOP_WORDS and w not in ignore)
    return sorted(unique, key=lambda word: (-len(word), word))[:MAX_QUERY_WORDS]


def pair_names(*, user: User, persona: PersonaProfile) -> frozenset[str]:
    """Return the words of the pair's own names: the persona's, and the user's as they gave it.

    They are said all through the pair's conversations ("Hey Robin!"), so a query's mention
    of them tells no turn from another: recall leaves them out of the query.
    """
    return frozenset(_words(f"{persona.name} {user.display_name} {user.first_name}"))


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


def _cosine(a: list[float] | None, b: list[float] | None) -> float:
    if not a or not isinstance(b, list) or len(a) != len(b):
        return 0.0
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


def _agreeing(term: str, query: Sequence[str]) -> str:
    # The index's stemmer takes "adoption" to "adopt", ours does not: a word of the item
    # that begins with a word of the query (or the other way round), both long enough to
    # say so, counts as that word.
    if len(term) < PREFIX_AGREEMENT:
        return term
    for word in query:
        if len(word) >= PREFIX_AGREEMENT and (term.startswith(word) or word.startswith(term)):
            return word
    return term


def _bm25(query: set[str], docs: list[list[str]]) -> list[float]:
    if not docs:
        return []
    # Only the query's words are counted (each word of a doc as the query word it agrees
    # with, see `_agreeing`); a doc's length is all its words.
    # In one order, whatever the hash seed: ties, and sums of floats, come out the same.
    # Called with every candidate: the work per doc is in C (its set of terms, set
    # operations, `list.count`); in Python only its terms never seen before in this search
    # (is it long enough to agree with a query word?) and those that count.
    ordered = sorted(query)
    position = {word: i for i, word in enumerate(ordered)}
    counts = []
    first_seen: dict[int, int] = {}  # word's position -> docs holding it, in first-seen order
    # Each term seen so far, and those that count: a query word's position for its own
    # words and for the long terms that agree with it (see `_agreeing`).
    seen: set[str] = set(position)
    counted: dict[str, int] = dict(position)
    agreeable = any(len(word) >= PREFIX_AGREEMENT for word in query)
    for doc in docs:
        unique = set(doc)
        if agreeable:
            for term in unique - seen:
                seen.add(term)
                if len(term) >= PREFIX_AGREEMENT:
                    at = position.get(_agreeing(term, ordered))
                    if at is not None:
                        counted[term] = at
        count = [0] * len(ordered)
        for term in unique & counted.keys():
            count[counted[term]] += doc.count(term)
        for at, n in enumerate(count):
            if n:
                first_seen[at] = first_seen.get(at, 0) + 1
        counts.append(count)
    avgdl = sum(map(len, docs)) / len(docs) or 1.0
    idf = [(at, math.log(1 + (len(docs) - n + 0.5) / (n + 0.5))) for at, n in first_seen.items()]
    scores = []
    for doc, count in zip(docs, counts, strict=True):
        norm = K1 * (1 - B + B * len(doc) / avgdl)
        scores.append(
            sum(
                weight * count[at] * (K1 + 1) / (count[at] + norm)
                for at, weight in idf
                if count[at]
            )
        )
    return scores


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"((?:19|20)\d\d)"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_DATE_FORMS = [
    ("day", re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I), (2, 1, 3)),
    ("day", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I), (1, 2, 3)),
    ("month", re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b", re.I), (None, 1, 2)),
    ("year", re.compile(rf"\b(?:in|during|of)\s+{_YEAR}\b", re.I), (None, None, 1)),
]


def named_period(text: str) -> tuple[datetime, datetime] | None:
    """Return the period a date in `text` names ("on May 3, 2023", "in June 2023", "in 2022").

    A day stands for that day and the one on either side (time zones, "the day before"),
    a month or a year for itself; [start, end) in UTC. None when `text` names no date.
    """
    for precision, pattern, (day_at, month_at, year_at) in _DATE_FORMS:
        found = pattern.search(text)
        if not found:
            continue
        year = int(found[year_at])
        month = _MONTHS[found[month_at].lower()] if month_at else 1
        try:
            if precision == "day":
                day = datetime(year, month, int(found[day_at]), tzinfo=UTC)
                return day - timedelta(days=1), day + timedelta(days=2)
        except ValueError:
            continue  # "February 30"
        if precision == "month":
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            return start, end
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    return None


# What recall ranks: score, created_at, kind, id, content.
_Entry = tuple[float, datetime, str, int, str]


def _dated(score: float, created_at: datetime, window: tuple[datetime, datetime] | None) -> float:
    # Said in the period the query names: as strong a sign as a second matching word.
    if window is not None and window[0] <= created_at < window[1]:
        return score * DATE_BOOST
    return score


def _recalled(entry: _Entry, before: Turn | None = None, after: Turn | None = None) -> Recalled:
    score, created_at, kind, id, content = entry
    if kind == "memory":
        return Recalled(kind, id, content, score, (), created_at)
    return Recalled(
        kind, id, content, score, (id,), created_at, said_at=created_at, before=before, after=after
    )


def _turn(message: object, query_terms: set[str], *, answers: bool = False) -> Turn | None:
    if message is None:
        return None
    matches = answers or _holds_any(message.head, query_terms)
    return Turn(message.id, message.role, message.head, message.created_at, matches)


def _holds_any(text: str, query_terms: set[str]) -> bool:
    # Whether a word of `text` (not a stop word) stems to one of `query_terms`. A word's
    # stem, but for a final "y" made "i", begins the word (`_needle`): a text in which no
    # term's needle occurs holds none of them, known without splitting it into words (a
    # neighbour may be thousands of characters long).
    lowered = text.lower().replace("'", "").replace("\u2019", "")
    if not any(_needle(term) in lowered for term in query_terms):
        return False
    return not query_terms.isdisjoint(
        _stem(word) for word in _WORD.findall(lowered) if word not in STOP_WORDS
    )


def recall(
    *,
    user: User,
    persona: PersonaProfile,
    query: str,
    k: int = 5,
    exclude_message_ids: Collection[int] = (),
    query_embedding: list[float] | None = None,
    with_context: bool = True,
) -> list[Recalled]:
    """Return up to `k` of the pair's memories and past messages that bear on `query`, best first.

    With `query_embedding` (when the configured model offers embeddings), memories whose
    stored embedding is close to it count as relevant too, whatever their words.
    `with_context` adds the turns around each message (`before`, `after`).
    Run at most five queries, however long the pair's history: the words' counts with the
    pinned memories, the ranked memories and messages (each only when some hold a word), the
    memories' sources (only when memories are recalled), and, with the context, the
    neighbours of the matching messages that may rank among the first 2k.
    """
    names = pair_names(user=user, persona=persona)
    words = query_words(query, ignore=names)
    query_terms = set(terms(query, ignore=names))
    if (not words and not query_embedding) or k <= 0:
        return []
    limit = max(CANDIDATES, 4 * k)
    # The pinned memories (and those with embeddings) come with the words' counts: read
    # before the memories found by words, so `limit` more, those found left out here.
    memory_counts, message_counts, extras = selectors.recall_word_counts_and_extras(
        user=user,
        persona=persona,
        words=words,
        with_embeddings=bool(query_embedding),
        limit=PINNED_LIMIT + limit,
        head_chars=_scan_chars(),
    )
    memories = selectors.memory_recall_candidates(
        user=user, persona=persona, counts=memory_counts, limit=limit, head_chars=_scan_chars()
    )
    found = {memory.id for memory in memories}
    extras = [memory for memory in extras if memory.id not in found][:PINNED_LIMIT]
    messages = chat_selectors.message_recall_candidates(
        user=user,
        persona=persona,
        counts=message_counts,
        exclude_ids=exclude_message_ids,
        limit=limit,
        head_chars=_scan_chars(),
    )
    memories += extras
    skip = STOP_WORDS | names
    relevance = _bm25(query_terms, [_terms(item.head, skip) for item in [*memories, *messages]])
    # Ranked as plain (score, created_at, kind, id, content) entries; only those that can be
    # chosen become `Recalled` items (a search by common words ranks a hundred or so).
    ranked: list[_Entry] = []
    fallback: list[_Entry] = []
    for memory, bm25 in zip(memories, relevance[: len(memories)], strict=True):
        similarity = _cosine(query_embedding, memory.embedding)
        if similarity >= SIMILARITY_THRESHOLD:
            bm25 += SEMANTIC_WEIGHT * similarity
        weight = (0.5 + memory.importance / 10) * (PINNED_BOOST if memory.pinned else 1.0)
        entry = (bm25 * weight, memory.created_at, "memory", memory.id, memory.head)
        if bm25 > 0:
            ranked.append(entry)
        elif memory.pinned:
            fallback.append(entry)
    base = {
        message.id: bm25 * MESSAGE_WEIGHT
        for message, bm25 in zip(messages, relevance[len(memories) :], strict=True)
        if bm25 > 0
    }
    neighbours: Neighbours = {}
    session: dict[int, float] = {}
    near: dict[int, float] = {}
    whole = 1.0
    window = named_period(query)
    if with_context:
        # The turns shown around a message and the rest of its conversation count in its
        # score too. Shares, not extra: a message as strong as its neighbour and as its
        # conversation's best keeps its own score, beside the memories.
        whole = 1 + SESSION_LIFT + NEIGHBOUR_LIFT
        others = _best_others(messages, base)
        session = {i: SESSION_LIFT * other for i, other in others.items()}
        # Neighbours are fetched (once) only for the messages that may reach the pool.
        reachable = _may_reach(
            messages=messages,
            base=base,
            session=session,
            adjacent=_adjacent_best(messages, base),
            floor=[_dated(score, at, window) for score, at, *_ in ranked],
            whole=whole,
            window=window,
            places=DIVERSITY_POOL * k,
        )
        neighbours = chat_selectors.message_neighbours(
            user=user, persona=persona, ids=reachable, head_chars=_scan_chars()
        )
        near = _neighbour_lift(neighbours, base)
    for message in messages:
        if message.id in base:
            score = base[message.id] + session.get(message.id, 0.0) + near.get(message.id, 0.0)
            ranked.append((score / whole, message.created_at, "message", message.id, message.head))
    if window is not None:
        ranked = [(_dated(score, at, window), at, *rest) for score, at, *rest in ranked]
    ranked.sort(key=lambda entry: (-entry[0], -entry[1].timestamp(), entry[2], -entry[3]))
    if with_context:
        pool = _with_context(
            entries=ranked[: DIVERSITY_POOL * k], neighbours=neighbours, query_terms=query_terms
        )
        chosen = _collapsed(pool)
    else:
        chosen = [_recalled(entry) for entry in ranked[:k]]
    missing = max(k - len(chosen), 0)
    chosen = chosen[:k] + [_recalled(entry) for entry in fallback[:missing]]
    return _sourced(user=user, persona=persona, items=chosen)


def _best_others(messages: list[Candidate], base: dict[int, float]) -> dict[int, float]:
    # A conversation where the query's words come back strongly is likely the one it asks
    # about: each matching message is lifted by a share of the best other one's score there.
    # By id, that best other score (messages alone in their conversation are left out).
    best: dict[int, list[float]] = {}  # the two best scores of each conversation
    for message in messages:
        score = base.get(message.id)
        if score is None:
            continue
        top = best.get(message.conversation_id)
        if top is None:
            best[message.conversation_id] = [score]
        elif len(top) == 1:
            top[:] = [score, top[0]] if score > top[0] else [top[0], score]
        elif score > top[0]:
            top[:] = [score, top[0]]
        elif score > top[1]:
            top[1] = score
    others = {}
    for message in messages:
        top = best.get(message.conversation_id, ())
        if message.id in base and len(top) > 1:
            others[message.id] = top[1] if top[0] == base[message.id] else top[0]
    return others


def _adjacent_best(messages: list[Candidate], base: dict[int, float]) -> dict[int, float]:
    """Return, by id of a matching message, the better score of the candidates just before
    and just after it in its conversation (by time, then id: the neighbours' order).

    A neighbour that matches is a candidate, and every candidate is a good message, so no
    candidate lies between a message and its neighbour: the neighbour's score is at most
    this (a candidate without a score, or none, counts 0).
    """
    threads: dict[int, list[Candidate]] = {}
    for message in messages:
        threads.setdefault(message.conversation_id, []).append(message)
    best = {}
    for thread in threads.values():
        if len(thread) < 2:
            continue
        thread.sort(key=lambda message: (message.created_at, message.id))
        for at, message in enumerate(thread):
            if message.id not in base:
                continue
            before = base.get(thread[at - 1].id, 0.0) if at else 0.0
            after = base.get(thread[at + 1].id, 0.0) if at + 1 < len(thread) else 0.0
            best[message.id] = max(before, after)
    return best


def _may_reach(
    *,
    messages: list[Candidate],
    base: dict[int, float],
    session: dict[int, float],
    adjacent: dict[int, float],
    floor: list[float],
    whole: float,
    window: tuple[datetime, datetime] | None,
    places: int,
) -> list[int]:
    """Return the ids of the matching messages whose score may rank among the first `places`.

    A message's neighbour lift is at most `NEIGHBOUR_LIFT` times the better score of its
    adjacent candidates (`adjacent`, see `_adjacent_best`): a message whose score with that
    bound stays below the `places`-th best of the scores known without neighbours (the
    memories' in `floor`, the messages' without their neighbour) can't get in.
    """

    def dated(message: Candidate, score: float) -> float:
        inside = window is not None and window[0] <= message.created_at < window[1]
        return score * DATE_BOOST if inside else score

    lower, upper = list(floor), {}
    for message in messages:
        if message.id in base:
            known = base[message.id] + session.get(message.id, 0.0)
            lower.append(dated(message, known / whole))
            bound = known + NEIGHBOUR_LIFT * adjacent.get(message.id, 0.0)
            upper[message.id] = dated(message, bound / whole)
    if len(lower) <= places:
        return list(upper)
    threshold = sorted(lower, reverse=True)[places - 1]
    return [i for i, bound in upper.items() if bound >= threshold]


def _neighbour_lift(neighbours: Neighbours, base: dict[int, float]) -> dict[int, float]:
    # A question and its answer, a statement and its follow-up: a message is lifted by a
    # share of its better matching neighbour's score.
    lift = {}
    for message_id, pair in neighbours.items():
        near = max((base.get(turn.id, 0.0) for turn in pair if turn), default=0.0)
        if near:
            lift[message_id] = NEIGHBOUR_LIFT * near
    return lift


def _collapsed(items: list[Recalled]) -> list[Recalled]:
    # A message already shown, as a matching turn, around a better one takes no slot of its own.
    shown: set[int] = set()
    kept = []
    for item in items:
        if item.kind != "message":
            kept.append(item)
            continue
        turns = {item.id, *(turn.id for turn in item.context if turn.matches)}
        if turns <= shown:
            continue
        kept.append(item)
        shown |= turns
    return kept


def _with_context(
    *,
    entries: list[_Entry],
    neighbours: Neighbours,
    query_terms: set[str],
) -> list[Recalled]:
    found = []
    for entry in entries:
        _, _, kind, id, content = entry
        if kind != "message":
            found.append(_recalled(entry))
            continue
        before, after = neighbours.get(id, (None, None))
        # A recalled message that asks something: the turn after it is the answer.
        answers = "?" in content
        found.append(
            _recalled(
                entry,
                before=_turn(before, query_terms),
                after=_turn(after, query_terms, answers=answers),
            )
        )
    return found


def _sourced(*, user: User, persona: PersonaProfile, items: list[Recalled]) -> list[Recalled]:
    memory_ids = [item.id for item in items if item.kind == "memory"]
    sources = selectors.memory_sources(user=user, persona=persona, memory_ids=memory_ids)
    found = []
    for item in items:
        if item.kind == "memory":
            ids, said_at = sources.get(item.id, ((), None))
            item = replace(item, source_message_ids=ids, said_at=said_at)
        found.append(item)
    return found
