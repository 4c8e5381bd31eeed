"""Pair-specific postings of the messages' full-text index (PostgreSQL).

The GIN index on `search_vector` holds one posting list per word for the whole table:
counting or finding a word for one pair reads every pair's rows of it, and a word common
across users looked common for every pair. This adds `mybella_pair_terms(user_id,
persona_id, vector)`, an IMMUTABLE function giving "p<user>x<persona>:<lexeme>" for each
lexeme of the vector, and a GIN index on it over the recallable messages (the rows
`chat.selectors.MESSAGE_INDEX.where` names): one posting list per pair and word, so a
search reads the pair's own rows of a word only (`mybella.core.fulltext`). The table is
analysed after, so that the planner's statistics of the new index (its most common pair
terms, which the search reads) exist at once.

SQLite: nothing (FTS5's `pair` column already scopes a search; its triggers are
untouched). Reversible: going back drops the index and the function.
"""

from django.db import migrations

POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS chat_message_pair_terms_idx",
    "DROP FUNCTION IF EXISTS mybella_pair_terms(bigint, bigint, tsvector)",
]
POSTGRESQL_FORWARD = [
    *POSTGRESQL_BACKWARD,
    """CREATE FUNCTION mybella_pair_terms(user_id bigint, persona_id bigint, vector tsvector)
    RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT 'p' || user_id::text || 'x' || persona_id::text || ':' || lexeme
    FROM unnest(tsvector_to_array(vector)) AS lexeme)
    $$""",
    "CREATE INDEX chat_message_pair_terms_idx ON chat_chatmessage "
    "USING gin (mybella_pair_terms(user_id, persona_id, search_vector)) "
    "WHERE status = 'ok' AND role IN ('user', 'assistant') AND provider <> 'greeting'",
    "ANALYZE chat_chatmessage",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("chat", "0008_message_search_index")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARD}),
            _run({"postgresql": POSTGRESQL_BACKWARD}),
        ),
    ]
