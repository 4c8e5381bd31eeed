"""Recall's shortcuts over text give what the plain word-by-word reading gives."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from memory.recall import (
    K1,
    PREFIX_AGREEMENT,
    STOP_WORDS,
    B,
    _agreeing,
    _bm25,
    _holds_any,
    _stem,
    _words,
    terms,
)

# Words that stem in every way `_stem` does (suffixes, doubled letters, "e", "y" to "i"),
# long ones that agree by prefix, stop words, apostrophes and other scripts.
VOCABULARY = [
    "day", "days", "daily", "happy", "happiness", "story", "stories", "running", "runner",
    "run", "adopt", "adoption", "adopted", "celebrate", "celebration", "celebrating",
    "photographer", "photography", "photo", "job", "jobs", "trip", "tripping", "the", "and",
    "don't", "it’s", "dog's", "café", "naïve", "Über", "x", "spy", "spies", "speed", "string",
    "kisses", "hopping", "hoped", "tree", "trees", "family", "families", "ok",
]  # fmt: skip
texts = st.lists(st.sampled_from(VOCABULARY), max_size=30).map(" ".join)
queries = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6).map(" ".join)


def _plain_holds_any(text: str, query_terms: set[str]) -> bool:
    return any(_stem(word) in query_terms for word in _words(text) if word not in STOP_WORDS)


@settings(max_examples=400, deadline=None)
@given(text=texts, query=queries)
def test_a_turn_matches_as_when_every_word_is_stemmed(text, query):
    query_terms = set(terms(query))

    assert _holds_any(text, query_terms) == _plain_holds_any(text, query_terms)
    assert _holds_any(text.upper(), query_terms) == _plain_holds_any(text.upper(), query_terms)


def _plain_bm25(query: set[str], docs: list[list[str]]) -> list[float]:
    # Each query word counted with `list.count`, each long term looked at one by one.
    if not docs:
        return []
    ordered = sorted(query)
    position = {word: i for i, word in enumerate(ordered)}
    counts, first_seen = [], {}
    for doc in docs:
        count = [doc.count(word) for word in ordered]
        for term in doc:
            if len(term) >= PREFIX_AGREEMENT and term not in position:
                at = position.get(_agreeing(term, ordered))
                if at is not None:
                    count[at] += 1
        for at, n in enumerate(count):
            if n:
                first_seen[at] = first_seen.get(at, 0) + 1
        counts.append(count)
    avgdl = sum(map(len, docs)) / len(docs) or 1.0
    idf = [(at, math.log(1 + (len(docs) - n + 0.5) / (n + 0.5))) for at, n in first_seen.items()]
    return [
        sum(
            weight * count[at] * (K1 + 1) / (count[at] + K1 * (1 - B + B * len(doc) / avgdl))
            for at, weight in idf
            if count[at]
        )
        for doc, count in zip(docs, counts, strict=True)
    ]


@settings(max_examples=400, deadline=None)
@given(query=queries, docs=st.lists(texts, max_size=12))
def test_bm25_counts_each_word_as_when_read_word_by_word(query, docs):
    query_terms = set(terms(query))
    stemmed = [terms(doc) for doc in docs]

    assert _bm25(query_terms, stemmed) == _plain_bm25(query_terms, stemmed)
