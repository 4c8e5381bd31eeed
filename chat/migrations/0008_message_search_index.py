"""A full-text index of the messages recall may find, per database.

SQLite: a contentless FTS5 table (porter stemming; the text stays in chat_chatmessage) of
the recallable messages (finished, said by the user or the persona, not the persona's
greeting), each with a `pair` token ("p<user>x<persona>") so that a search is scoped to one
pair inside the index. Triggers keep it in step with inserts, edits and deletes; it is
backfilled here. Not an external-content table over a view: a view naming
chat_chatmessage would stop SQLite from remaking that table in later migrations.
A later migration that remakes chat_chatmessage on SQLite drops these triggers with it
and must create them again (memory's test_the_index_exists_for_this_database checks).

PostgreSQL: a stored generated column `search_vector` (the content's English `tsvector`;
not a model field: the database fills it on every write, and no query of Django's names
it) with a GIN index. Stored, so that checking a row against a query costs no
`to_tsvector` (a search for common words walks the newest rows).

Reversible: going back drops what was created. Other databases get no index.
"""

from django.db import migrations

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS chat_message_fts_update",
    "DROP TRIGGER IF EXISTS chat_message_fts_delete",
    "DROP TRIGGER IF EXISTS chat_message_fts_insert",
    "DROP TABLE IF EXISTS chat_message_fts",
]
SQLITE_FORWARD = [
    *SQLITE_BACKWARD,  # anything left by a database whose tables were dropped by hand
    """CREATE VIRTUAL TABLE chat_message_fts USING fts5(
    content, pair, content='', tokenize='porter unicode61')""",
    """CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_chatmessage
    WHEN new.status = 'ok' AND new.role IN ('user', 'assistant') AND new.provider <> 'greeting'
    BEGIN
    INSERT INTO chat_message_fts(rowid, content, pair)
    VALUES (new.id, new.content, 'p' || new.user_id || 'x' || new.persona_id);
    END""",
    """CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_chatmessage
    WHEN old.status = 'ok' AND old.role IN ('user', 'assistant') AND old.provider <> 'greeting'
    BEGIN
    INSERT INTO chat_message_fts(chat_message_fts, rowid, content, pair)
    VALUES ('delete', old.id, old.content, 'p' || old.user_id || 'x' || old.persona_id);
    END""",
    """CREATE TRIGGER chat_message_fts_update
    AFTER UPDATE OF content, status, role, provider, user_id, persona_id ON chat_chatmessage
    WHEN old.content IS NOT new.content OR old.status IS NOT new.status
    OR old.role IS NOT new.role OR old.provider IS NOT new.provider
    OR old.user_id IS NOT new.user_id OR old.persona_id IS NOT new.persona_id
    BEGIN
    INSERT INTO chat_message_fts(chat_message_fts, rowid, content, pair)
    SELECT 'delete', old.id, old.content, 'p' || old.user_id || 'x' || old.persona_id
    WHERE old.status = 'ok' AND old.role IN ('user', 'assistant') AND old.provider <> 'greeting';
    INSERT INTO chat_message_fts(rowid, content, pair)
    SELECT new.id, new.content, 'p' || new.user_id || 'x' || new.persona_id
    WHERE new.status = 'ok' AND new.role IN ('user', 'assistant') AND new.provider <> 'greeting';
    END""",
    """INSERT INTO chat_message_fts(rowid, content, pair)
    SELECT id, content, 'p' || user_id || 'x' || persona_id FROM chat_chatmessage
    WHERE status = 'ok' AND role IN ('user', 'assistant') AND provider <> 'greeting'""",
]
POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS chat_message_search_idx",
    "ALTER TABLE chat_chatmessage DROP COLUMN IF EXISTS search_vector",
]
POSTGRESQL_FORWARD = [
    *POSTGRESQL_BACKWARD,
    "ALTER TABLE chat_chatmessage ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED",
    "CREATE INDEX chat_message_search_idx ON chat_chatmessage USING gin (search_vector)",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("chat", "0007_message_alternatives")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}),
        ),
    ]
