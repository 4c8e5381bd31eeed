"""Search one (user, persona) pair's rows in the database's own full-text index.

The indexes are made by the apps' migrations: on SQLite an FTS5 table (porter stemming)
whose `pair` column holds "p<user>x<persona>"; on PostgreSQL a stored generated column
`search_vector` (`to_tsvector('english', content)`) and a GIN index of its pair terms,
`mybella_pair_terms(user_id, persona_id, search_vector)`: "p<user>x<persona>:<lexeme>"
for each lexeme, so that each pair has its own posting list per word. Every search reads a
bounded part of the index, however long the pair's history and however many other pairs
say the same words:

1. each word is found rare or common for the pair (`word_counts`, one query for several
   indexes). A word held by more than `COMMON_AT` of the pair's rows is common: it says
   little, and ranking by it would read all its rows. The count stops at `COMMON_AT` + 1
   entries. On PostgreSQL it reads the pair's own posting list of the word (a GIN scan
   reads a posting list whole whatever the LIMIT), and a pair term that the planner's
   statistics of the pair-terms index (`pg_stats.most_common_elems`) put in more than
   `COMMON_AT` rows is common without being counted (each process reads the statistics at
   most once a minute). How common a word is among other pairs changes nothing;
2. the rows matching any rare word (at most `COMMON_AT` each) are ranked, best first, in the
   database (FTS5's `bm25()`; on PostgreSQL a sum of `ts_rank` per word weighted by the
   word's rarity for the pair, the rows found through the pair terms), with
   `ORDER BY ... LIMIT`. On SQLite, words rare in the whole index too are matched without
   the pair token (bm25() would count all the pair's rows for it) and the pair is kept by
   a join;
3. with common words only, the newest rows holding all of them come first, then those
   holding any, at most `COMMON_ROWS`: SQLite's index walks the pair's matches newest first
   and stops there; PostgreSQL looks among the pair's newest `COMMON_WINDOW` rows (its
   index has no order to walk).

A query word is normalised as the index's rows are (`to_tsvector('english', word)`); a word
of several lexemes is held by the rows holding all of them, a stop word by none.
The selectors wrap this for their own table and scoping.
"""

# ruff: noqa: S608 - table names are constants of the apps; every value is a parameter
import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from django.db import connection

from mybella.core.rows import fetch_all, id_in

# A word held by more of a pair's rows than this is common: it is not ranked by.
COMMON_AT = 100
# A search by common words only returns at most this many rows (recall ranks them again).
COMMON_ROWS = 50
# PostgreSQL: a search by common words only looks among the pair's newest this many rows.
COMMON_WINDOW = 1000
# The stored tsvector column (to_tsvector('english', content)).
_PG_VECTOR = "t.search_vector"
# A row's pair terms, as the pair-terms GIN indexes hold them.
_PG_ROW_TERMS = "mybella_pair_terms(t.user_id, t.persona_id, t.search_vector)"
# A word's pair terms (parameters: user, persona, word), folded to a constant when planned.
_PG_WORD_TERMS = "mybella_pair_terms(%s, %s, to_tsvector('english', %s))"
# The pair-terms index of each table (made by chat's 0009 and memory's 0011 migrations).
_PG_TERMS_INDEX = {
    "chat_chatmessage": "chat_message_pair_terms_idx",
    "memory_conversationmemory": "memory_pair_terms_idx",
}


@dataclass(frozen=True)
class FullTextIndex:
    """Where a model's full-text index lives and which of its rows it holds."""

    table: str  # the model's table
    fts_table: str  # SQLite's FTS5 table over it
    where: str = "TRUE"  # the rows the index holds (PostgreSQL's index holds all)
    keep: str = "TRUE"  # the rows a search returns, of those it ranked (e.g. not replaced)


# FTS5 merges this many pages of segments per step of `merge_index` (one short write each).
MERGE_PAGES = 500


def merge_index(index: FullTextIndex, *, pages: int = MERGE_PAGES) -> int:
    """Merge SQLite's FTS5 index of `index` into one segment, a step at a time; return the
    number of steps that did some work.

    FTS5 adds a segment per write and merges them only by levels (`automerge`): a pair's
    history of a million messages sits in about ten segments, and every lookup of a term
    (the pair token, each word) reads each of them, which made a search at 1M messages
    slower than at 1k by its statement times alone. Merged, a lookup reads one. Each step is
    FTS5's incremental 'merge' of at most `pages` pages (a negative count: toward a single
    segment, whatever the levels), its own short transaction, so writers wait little; it
    stops when a step changes fewer than two rows, FTS5's sign that nothing is left. Merging
    toward one segment rewrites the index (about 3 s a million messages here): it stops
    too once it has written twice the index's pages, so that writes arriving all along
    can't keep it rewriting. Results do not change. PostgreSQL's GIN indexes have no
    segments (they write through, no pending list): nothing to do there.
    """
    if connection.vendor != "sqlite":
        return 0
    pages = max(1, pages)
    steps = 0
    with connection.cursor() as cursor:
        # FTS5's shadow table of the index's pages (plus a few records of its own).
        cursor.execute(f"SELECT count(*) FROM {index.fts_table}_data")
        budget = 2 * cursor.fetchone()[0]
        while steps * pages < budget:
            cursor.execute("SELECT total_changes()")
            before = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO {index.fts_table}({index.fts_table}, rank) VALUES ('merge', %s)",
                [-pages],
            )
            cursor.execute("SELECT total_changes()")
            if cursor.fetchone()[0] - before < 2:
                break
            steps += 1
    return steps


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _pair_token(user_id: int, persona_id: int) -> str:
    return f"pair:{_fts_phrase(f'p{user_id}x{persona_id}')}"


def word_counts(
    indexes: Sequence[FullTextIndex], *, user_id: int, persona_id: int, words: Sequence[str]
) -> list[dict[str, tuple[int, int]]]:
    """Return, for each index and word, how many of the pair's rows and of all rows hold it.

    Each count stops at `COMMON_AT` + 1, so it reads at most that many entries of the index;
    one query for all indexes and words (none without words). Words are lowercased and
    deduplicated. PostgreSQL counts the pair's rows only, through the pair's own posting
    list (its ranking scans no more), and gives that count twice; a pair term its
    statistics find in more than `COMMON_AT` rows counts `COMMON_AT` + 1 unread (see the
    module's docstring).
    """
    counts, _ = word_counts_with_rows(
        indexes, user_id=user_id, persona_id=persona_id, words=words, rows=None
    )
    return counts


def word_counts_with_rows(
    indexes: Sequence[FullTextIndex],
    *,
    user_id: int,
    persona_id: int,
    words: Sequence[str],
    rows: tuple[str, list[object]] | None,
) -> tuple[list[dict[str, tuple[int, int]]], list[tuple]]:
    """Return `word_counts`' answer and the rows of the query `rows` (SQL, parameters), in
    one statement: one round trip less for a caller that needs both.

    The rows come in no particular order (sort them); with no words they are read alone
    (no counts to make), and with `rows` None there are none.
    """
    words = list(dict.fromkeys(word.lower() for word in words if word))
    if not words or not indexes:
        return [{} for _ in indexes], ([] if rows is None else fetch_all(*rows))
    if connection.vendor == "postgresql":
        sql, params, width = _pg_word_counts(indexes, user_id, persona_id, words)
    else:
        sql, params, width = _sqlite_word_counts(indexes, user_id, persona_id, words)
    if rows is None:
        found = fetch_all(f"{sql}) SELECT * FROM c", params)
    else:
        # The counts once (a one-row MATERIALIZED CTE, not again for each row), then the
        # rows beside them: one row of NULLs beside the counts when the query finds none.
        row_sql, row_params = rows
        found = fetch_all(
            f"{sql}) SELECT c.*, r.* FROM c LEFT JOIN ({row_sql}) r ON TRUE",
            [*params, *row_params],
        )
    counts = iter(found[0][:width])
    if connection.vendor == "postgresql":
        parsed = [{word: (n := int(next(counts)), n) for word in words} for _ in indexes]
    else:
        pairs = iter(zip(counts, counts, strict=True))
        parsed = [{word: tuple(map(int, next(pairs))) for word in words} for _ in indexes]
    extra = [row[width:] for row in found if row[width] is not None] if rows else []
    return parsed, extra


def _sqlite_word_counts(
    indexes: Sequence[FullTextIndex], user_id: int, persona_id: int, words: list[str]
) -> tuple[str, list[object], int]:
    # Each word's rows in the whole index come first (a CTE, counted once each): when they
    # are at most COMMON_AT, the pair's are counted among them, a join by rowid to the
    # table for each (a CROSS JOIN keeps that order). Only a word common in the whole
    # index is counted through the pair token, whose AND walks the pair's whole posting
    # list (~130 µs for 500 rows, against ~30 µs for 60 rows by the join). Same counts.
    everywhere, pair_counts, params, tail = [], [], [], []
    pair = _pair_token(user_id, persona_id)
    for index in indexes:
        fts = index.fts_table
        for word in words:
            n = f"n{len(everywhere)}"
            everywhere.append(
                f"(SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH %s LIMIT %s)) AS {n}"
            )
            tail += [_fts_phrase(word), COMMON_AT + 1]
            pair_counts.append(
                f"CASE WHEN g.{n} <= %s THEN (SELECT count(*) FROM {fts} f "
                f"CROSS JOIN {index.table} t ON t.id = f.rowid WHERE {fts} MATCH %s "
                f"AND t.user_id = %s AND t.persona_id = %s) "
                f"ELSE (SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH %s "
                f"LIMIT %s)) END, g.{n}"
            )
            params += [COMMON_AT, _fts_phrase(word), user_id, persona_id]
            params += [f"{pair} AND {_fts_phrase(word)}", COMMON_AT + 1]
    # Left open: the caller closes the CTE `c` of the counts and selects from it.
    sql = (
        f"WITH g AS MATERIALIZED (SELECT {', '.join(everywhere)}), "
        f"c AS MATERIALIZED (SELECT {', '.join(pair_counts)} FROM g"
    )
    return sql, tail + params, len(pair_counts) * 2


# The planner's statistics change only when the table is analysed: each process reads them
# at most once in this many seconds, not at every search.
STATISTICS_SECONDS = 60.0
_statistics: dict[str, object] = {"read_at": -math.inf, "common": {}}


def _pg_common_terms() -> dict[tuple[str, str], frozenset[str]]:
    """Return, by (pair-terms index, pair prefix "p<user>x<persona>:"), the pair terms its
    statistics put in more than `COMMON_AT` rows; read at most every `STATISTICS_SECONDS`."""
    now = time.monotonic()
    if now - _statistics["read_at"] < STATISTICS_SECONDS:
        return _statistics["common"]  # type: ignore[return-value]
    sql = (
        "SELECT s.tablename, x.e FROM pg_stats s "
        "JOIN pg_class c ON c.oid = to_regclass(s.tablename) CROSS JOIN LATERAL "
        "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS x(e, f) "
        "WHERE s.schemaname = current_schema() AND s.tablename = ANY(%s) "
        # most_common_elem_freqs has three more entries than the elements (min, max, nulls).
        "AND s.attname = 'mybella_pair_terms' AND x.e IS NOT NULL AND x.f * c.reltuples > %s"
    )
    found: dict[tuple[str, str], set[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(_PG_TERMS_INDEX.values()), COMMON_AT])
        for index, term in cursor.fetchall():
            prefix, _, _ = term.partition(":")
            found.setdefault((index, prefix + ":"), set()).add(term)
    _statistics["common"] = {key: frozenset(terms) for key, terms in found.items()}
    _statistics["read_at"] = now
    return _statistics["common"]  # type: ignore[return-value]


def forget_statistics() -> None:
    """Read the planner's statistics again at the next search (after an ANALYZE, say)."""
    _statistics["read_at"] = -math.inf


def _pg_word_counts(
    indexes: Sequence[FullTextIndex], user_id: int, persona_id: int, words: list[str]
) -> tuple[str, list[object], int]:
    # A word whose every lexeme is one of the pair's common terms by the statistics counts
    # COMMON_AT + 1 unread; else the pair's rows of it, counted to COMMON_AT + 1. Each
    # word's pair terms are made once, in a one-row MATERIALIZED CTE: a generic plan, which
    # the prepared statement gets after five runs, made them again for every use, three per
    # word and index (the words as one array instead would make PostgreSQL, unable to count
    # them in a generic plan, plan every run anew).
    common = _pg_common_terms()
    prefix = f"p{user_id}x{persona_id}:"
    made = ", ".join(f"{_PG_WORD_TERMS} AS t{at}" for at in range(len(words)))
    params: list[object] = [p for word in words for p in (user_id, persona_id, word)]
    parts = []
    for index in indexes:
        known = sorted(common.get((_PG_TERMS_INDEX[index.table], prefix), ()))
        for at in range(len(words)):
            parts.append(
                f"CASE WHEN cardinality(w.t{at}) = 0 THEN 0 WHEN w.t{at} <@ %s::text[] THEN %s "
                f"ELSE (SELECT count(*) FROM (SELECT 1 FROM {index.table} t "
                f"WHERE {index.where} AND {_PG_ROW_TERMS} @> w.t{at} LIMIT %s) c) END"
            )
            params += [known, COMMON_AT + 1, COMMON_AT + 1]
    # Left open: the caller closes the CTE `c` of the counts and selects from it.
    sql = (
        f"WITH w AS MATERIALIZED (SELECT {made}), "
        f"c AS MATERIALIZED (SELECT {', '.join(parts)} FROM w"
    )
    return sql, params, len(parts)


def search_sql(
    index: FullTextIndex,
    *,
    user_id: int,
    persona_id: int,
    counts: Mapping[str, tuple[int, int]],
    limit: int,
    head_chars: int,
    exclude_ids: Collection[int] = (),
    columns: Sequence[str] = (),
    created_at: str = "t.created_at",
) -> tuple[str, list[object]] | None:
    """Return the SQL and parameters that rank the pair's rows for the words of `counts`.

    `counts` is `word_counts`' answer for this index. The query selects `id`,
    `created_at` (as the SQL `created_at` says, over the row `t`, e.g.
    `mybella.core.rows.datetime_column`'s), `head` (the first `head_chars` characters of
    the content), `score` (higher is better; 0.0 for rows found by common words only) and
    `columns`, best first, at most `limit` rows, none of `exclude_ids`. None when no row
    holds any of the words.
    """
    if not any(mine for mine, _ in counts.values()) or limit <= 0:
        return None
    words = list(counts)
    rare = {word: mine for word, (mine, _) in counts.items() if 0 < mine <= COMMON_AT}
    rare_everywhere = all(counts[word][1] <= COMMON_AT for word in rare)
    exclude = [int(i) for i in exclude_ids]
    inner_limit = limit + len(exclude)
    not_in, excluded = id_in("t.id", exclude, negate=True)
    extra = "".join(f", t.{column}" for column in columns)
    if connection.vendor == "postgresql":
        # The ranked rows were read from the table itself: they carry what is selected, and
        # are not joined to it again (on a small table the planner hashes it whole).
        carried = ["created_at", "content", *columns]
        sql, params = _pg_ranked(index, user_id, persona_id, rare, words, inner_limit, carried)
        outer = (
            f"SELECT t.id, {created_at}, substr(t.content, 1, %s) AS head, t.score AS score"
            f"{extra} FROM ({sql}) t WHERE t.kept AND {not_in} "
            f"ORDER BY t.score DESC, t.created_at DESC, t.id DESC LIMIT %s"
        )
        return outer, [head_chars, *params, *excluded, limit]
    sql, params = _sqlite_ranked(
        index, user_id, persona_id, rare, words, inner_limit, rare_everywhere=rare_everywhere
    )
    outer = (
        f"SELECT t.id, {created_at}, substr(t.content, 1, %s) AS head, s.score AS score{extra} "
        f"FROM ({sql}) s JOIN {index.table} t ON t.id = s.id WHERE {index.keep} AND {not_in} "
        f"ORDER BY s.score DESC, t.created_at DESC, t.id DESC LIMIT %s"
    )
    return outer, [head_chars, *params, *excluded, limit]


def _sqlite_ranked(
    index: FullTextIndex,
    user_id: int,
    persona_id: int,
    rare: dict[str, int],
    words: list[str],
    limit: int,
    *,
    rare_everywhere: bool,
) -> tuple[str, list[object]]:
    pair = _pair_token(user_id, persona_id)
    fts = index.fts_table
    if rare and rare_everywhere:
        # bm25() counts the rows of every phrase of the query: with the pair token among
        # them that is the pair's whole history. Words rare in the whole index are ranked
        # alone, all their rows (a bounded few), and the pair is kept by the join.
        sql = (
            f"SELECT f.rowid AS id, -bm25({fts}, 1.0, 0.0) AS score FROM {fts} f "
            f"JOIN {index.table} t ON t.id = f.rowid "
            f"WHERE {fts} MATCH %s AND t.user_id = %s AND t.persona_id = %s "
            f"ORDER BY bm25({fts}, 1.0, 0.0), f.rowid DESC LIMIT %s"
        )
        return sql, [" OR ".join(map(_fts_phrase, rare)), user_id, persona_id, limit]
    if rare:
        match = f"{pair} AND ({' OR '.join(map(_fts_phrase, rare))})"
        # Weights per column: the content counts, the pair token (in every row) does not.
        sql = (
            f"SELECT rowid AS id, -bm25({fts}, 1.0, 0.0) AS score FROM {fts} "
            f"WHERE {fts} MATCH %s ORDER BY bm25({fts}, 1.0, 0.0), rowid DESC LIMIT %s"
        )
        return sql, [match, limit]
    limit = min(limit, COMMON_ROWS)
    every = " AND ".join(map(_fts_phrase, words))
    anyone = " OR ".join(map(_fts_phrase, words))
    newest = (
        f"SELECT rowid AS id, {{score}} AS score FROM {fts} WHERE {fts} MATCH %s "
        f"ORDER BY rowid DESC LIMIT %s"
    )
    if len(words) == 1:
        # One word: the rows holding all the words are those holding any, scanned once.
        return newest.format(score="1.0"), [f"{pair} AND ({every})", limit]
    sql = (
        f"SELECT id, max(score) AS score FROM ("
        f"SELECT * FROM ({newest.format(score='1.0')}) UNION ALL "
        f"SELECT * FROM ({newest.format(score='0.0')})) GROUP BY id"
    )
    return sql, [f"{pair} AND ({every})", limit, f"{pair} AND ({anyone})", limit]


def _pg_ranked(
    index: FullTextIndex,
    user_id: int,
    persona_id: int,
    rare: dict[str, int],
    words: list[str],
    limit: int,
    carried: Sequence[str],
) -> tuple[str, list[object]]:
    # Each row found carries `carried` columns and `kept`, whether a search returns it.
    # Each word's query (and its pair terms) are made once, in a one-row MATERIALIZED CTE:
    # a generic plan, which the prepared statement gets after five runs, made them again
    # for every row; and as the plan cannot see them, a custom plan is no better than the
    # generic one, which PostgreSQL then keeps (a custom plan, planned every run, cost
    # more than the search).
    scope = f"t.user_id = %s AND t.persona_id = %s AND {index.where}"
    row = "".join(f", t.{column}" for column in carried) + f", ({index.keep}) AS kept"
    if rare:
        made = ", ".join(
            f"{_PG_WORD_TERMS} AS t{at}, plainto_tsquery('english', %s) AS q{at}"
            for at in range(len(rare))
        )
        made_params = [p for word in rare for p in (user_id, persona_id, word, word)]
        # ts_rank knows no word's rarity: weight each word's rank by an IDF of its count.
        terms = " + ".join(f"%s * ts_rank({_PG_VECTOR}, w.q{at})" for at in range(len(rare)))
        weights = [math.log(1 + COMMON_AT / n) for n in rare.values()]
        # The rows through the pair's posting lists of the rare words, at most COMMON_AT each.
        # The pair is checked on them (unary plus), not read from its own index as well: a
        # bitmap of all the pair's history, ANDed with a few dozen rows.
        matches = " OR ".join(f"{_PG_ROW_TERMS} @> w.t{at}" for at in range(len(rare)))
        sql = (
            f"WITH w AS MATERIALIZED (SELECT {made}) "
            f"SELECT t.id, ({terms}) AS score{row} FROM w, {index.table} t "
            f"WHERE +t.user_id = %s AND +t.persona_id = %s AND {index.where} "
            f"AND ({matches}) ORDER BY score DESC, t.id DESC LIMIT %s"
        )
        return sql, [*made_params, *weights, user_id, persona_id, limit]
    # The pair's newest rows through its (user, persona, created_at) index, then those of
    # them that hold the words: a GIN scan would read each word's whole posting list.
    made = ", ".join(f"plainto_tsquery('english', %s) AS q{at}" for at in range(len(words)))
    every = " && ".join(f"q.q{at}" for at in range(len(words)))
    anyone = " || ".join(f"q.q{at}" for at in range(len(words)))
    # One word: every row found holds all the words, no second match per row.
    score = "1.0::float" if len(words) == 1 else f"(w.v @@ ({every}))::int::float"
    passed = "".join(f", w.{column}" for column in [*carried, "kept"])
    sql = (
        f"WITH q AS MATERIALIZED (SELECT {made}) "
        f"SELECT w.id, {score} AS score{passed} FROM q, ("
        f"SELECT t.id, {_PG_VECTOR} AS v{row} FROM {index.table} t WHERE {scope} "
        f"ORDER BY t.created_at DESC LIMIT %s) w "
        f"WHERE w.v @@ ({anyone}) ORDER BY w.id DESC LIMIT %s"
    )
    return sql, [*words, user_id, persona_id, COMMON_WINDOW, min(limit, COMMON_ROWS)]
