"""The full-text indexes are built over the rows already there, and go away going back."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

CHAT_BEFORE = ("chat", "0007_message_alternatives")
CHAT_AFTER = ("chat", "0008_message_search_index")
MEMORY_BEFORE = ("memory", "0009_memory_facts")
MEMORY_AFTER = ("memory", "0010_memory_search_index")


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%search_idx'")
        return {name for (name,) in cursor.fetchall()}


def _fts_ids(table: str, word: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [word])  # noqa: S608
        return [rowid for (rowid,) in cursor.fetchall()]


def _pair(apps):
    User = apps.get_model("users", "User")
    Persona = apps.get_model("personas", "PersonaProfile")
    return User.objects.create(username="old-timer"), Persona.objects.get(slug="luna")


def test_existing_messages_are_indexed_and_the_index_reverses(migrator):
    old = migrator.apply_initial_migration(CHAT_BEFORE)
    user, luna = _pair(old.apps)
    conversation = old.apps.get_model("chat", "Conversation").objects.create(
        user=user, persona=luna
    )
    Message = old.apps.get_model("chat", "ChatMessage")
    said = Message.objects.create(
        conversation=conversation, user=user, persona=luna, role="user", content="my kayak"
    )
    Message.objects.create(
        conversation=conversation,
        user=user,
        persona=luna,
        role="assistant",
        content="kayak reply that failed",
        status="failed",
    )

    migrator.apply_tested_migration(CHAT_AFTER)
    if connection.vendor == "sqlite":
        assert "chat_message_fts" in _index_names()
        assert _fts_ids("chat_message_fts", "kayaks") == [said.pk]
    else:
        assert "chat_message_search_idx" in _index_names()

    migrator.apply_tested_migration(CHAT_BEFORE)
    assert not {"chat_message_fts", "chat_message_search_idx"} & _index_names()
    migrator.reset()


def test_existing_memories_are_indexed_and_the_index_reverses(migrator):
    old = migrator.apply_initial_migration(MEMORY_BEFORE)
    user, luna = _pair(old.apps)
    Memory = old.apps.get_model("memory", "ConversationMemory")
    memory = Memory.objects.create(user=user, persona=luna, content="Owns a kayak")

    migrator.apply_tested_migration(MEMORY_AFTER)
    if connection.vendor == "sqlite":
        assert "memory_fts" in _index_names()
        assert _fts_ids("memory_fts", "kayaks") == [memory.pk]
    else:
        assert "memory_search_idx" in _index_names()

    migrator.apply_tested_migration(MEMORY_BEFORE)
    assert not {"memory_fts", "memory_search_idx"} & _index_names()
    migrator.reset()


PAIR_TERMS_BEFORE = [("chat", "0008_message_search_index"), MEMORY_AFTER]
PAIR_TERMS_AFTER = [("chat", "0009_message_pair_terms"), ("memory", "0011_memory_pair_terms")]


def _pair_terms_objects() -> set[str]:
    """Return the pair-terms function and indexes (PostgreSQL), or SQLite's FTS schema."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE name LIKE '%fts%'")
            return {f"{name}: {sql}" for name, sql in cursor.fetchall()}
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%pair_terms_idx' "
            "UNION ALL SELECT proname FROM pg_proc WHERE proname = 'mybella_pair_terms'"
        )
        return {name for (name,) in cursor.fetchall()}


def _pair_term_ids(table: str, term: str) -> list[int]:
    sql = (
        f"SELECT id FROM {table} t "  # noqa: S608
        "WHERE mybella_pair_terms(t.user_id, t.persona_id, t.search_vector) @> ARRAY[%s]"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [term])
        return [row_id for (row_id,) in cursor.fetchall()]


def test_existing_rows_get_pair_terms_and_they_reverse(migrator):
    """PostgreSQL gains pair-terms indexes over the rows there; SQLite's FTS stays as it was."""
    migrator.apply_initial_migration(PAIR_TERMS_BEFORE)
    # The initial plan may run chat's 0009 before memory's 0010: go back to the start.
    old = migrator.apply_tested_migration(PAIR_TERMS_BEFORE)
    user, luna = _pair(old.apps)
    conversation = old.apps.get_model("chat", "Conversation").objects.create(
        user=user, persona=luna
    )
    message = old.apps.get_model("chat", "ChatMessage").objects.create(
        conversation=conversation, user=user, persona=luna, role="user", content="my kayaks"
    )
    memory = old.apps.get_model("memory", "ConversationMemory").objects.create(
        user=user, persona=luna, content="Owns a kayak"
    )
    before = _pair_terms_objects()
    assert not {"mybella_pair_terms", "chat_message_pair_terms_idx"} & before

    migrator.apply_tested_migration(PAIR_TERMS_AFTER)
    after = _pair_terms_objects()
    if connection.vendor == "sqlite":
        assert after == before
        assert _fts_ids("chat_message_fts", "kayak") == [message.pk]
    else:
        assert after == {"chat_message_pair_terms_idx", "memory_pair_terms_idx"} | {
            "mybella_pair_terms"
        }
        term = f"p{user.pk}x{luna.pk}:kayak"
        assert _pair_term_ids("chat_chatmessage", term) == [message.pk]
        assert _pair_term_ids("memory_conversationmemory", term) == [memory.pk]
        assert _pair_term_ids("memory_conversationmemory", f"p{user.pk + 1}x{luna.pk}:kayak") == []

    migrator.apply_tested_migration(PAIR_TERMS_BEFORE)
    assert _pair_terms_objects() == before
    migrator.reset()
