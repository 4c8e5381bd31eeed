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
