"""Pair-specific postings of the memories' full-text index (PostgreSQL).

The twin of chat's 0009_message_pair_terms, whose `mybella_pair_terms` function it uses:
a GIN index on the pair terms of every memory (`memory.selectors.MEMORY_INDEX` holds all
rows), then the table is analysed for the index's statistics.

SQLite: nothing. Reversible: going back drops the index.
"""

from django.db import migrations

POSTGRESQL_BACKWARD = ["DROP INDEX IF EXISTS memory_pair_terms_idx"]
POSTGRESQL_FORWARD = [
    *POSTGRESQL_BACKWARD,
    "CREATE INDEX memory_pair_terms_idx ON memory_conversationmemory "
    "USING gin (mybella_pair_terms(user_id, persona_id, search_vector))",
    "ANALYZE memory_conversationmemory",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("memory", "0010_memory_search_index"),
        ("chat", "0009_message_pair_terms"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARD}),
            _run({"postgresql": POSTGRESQL_BACKWARD}),
        ),
    ]
