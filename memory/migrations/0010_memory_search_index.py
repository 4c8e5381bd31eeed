"""A full-text index of the memories, per database (the twin of chat's message index).

SQLite: a contentless FTS5 table (porter stemming; the text stays in the memory table),
each memory with a `pair` token ("p<user>x<persona>") so that a search is scoped to one
pair inside the index. Triggers keep it in step with inserts, edits and deletes; it is
backfilled here. (Why contentless, and what a later migration remaking the table owes
the triggers: see chat's 0007_message_search_index.)

PostgreSQL: a stored generated column `search_vector` (the content's English `tsvector`,
not a model field) with a GIN index, as for the messages.

Reversible: going back drops what was created. Other databases get no index.
"""

from django.db import migrations

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS memory_fts_update",
    "DROP TRIGGER IF EXISTS memory_fts_delete",
    "DROP TRIGGER IF EXISTS memory_fts_insert",
    "DROP TABLE IF EXISTS memory_fts",
]
SQLITE_FORWARD = [
    *SQLITE_BACKWARD,  # anything left by a database whose tables were dropped by hand
    """CREATE VIRTUAL TABLE memory_fts USING fts5(
    content, pair, content='', tokenize='porter unicode61')""",
    """CREATE TRIGGER memory_fts_insert AFTER INSERT ON memory_conversationmemory BEGIN
    INSERT INTO memory_fts(rowid, content, pair)
    VALUES (new.id, new.content, 'p' || new.user_id || 'x' || new.persona_id);
    END""",
    """CREATE TRIGGER memory_fts_delete AFTER DELETE ON memory_conversationmemory BEGIN
    INSERT INTO memory_fts(memory_fts, rowid, content, pair)
    VALUES ('delete', old.id, old.content, 'p' || old.user_id || 'x' || old.persona_id);
    END""",
    """CREATE TRIGGER memory_fts_update
    AFTER UPDATE OF content, user_id, persona_id ON memory_conversationmemory
    WHEN old.content IS NOT new.content OR old.user_id IS NOT new.user_id
    OR old.persona_id IS NOT new.persona_id
    BEGIN
    INSERT INTO memory_fts(memory_fts, rowid, content, pair)
    VALUES ('delete', old.id, old.content, 'p' || old.user_id || 'x' || old.persona_id);
    INSERT INTO memory_fts(rowid, content, pair)
    VALUES (new.id, new.content, 'p' || new.user_id || 'x' || new.persona_id);
    END""",
    """INSERT INTO memory_fts(rowid, content, pair)
    SELECT id, content, 'p' || user_id || 'x' || persona_id FROM memory_conversationmemory""",
]
POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS memory_search_idx",
    "ALTER TABLE memory_conversationmemory DROP COLUMN IF EXISTS search_vector",
]
POSTGRESQL_FORWARD = [
    *POSTGRESQL_BACKWARD,
    "ALTER TABLE memory_conversationmemory ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED",
    "CREATE INDEX memory_search_idx ON memory_conversationmemory USING gin (search_vector)",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("memory", "0009_memory_facts")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}),
        ),
    ]
