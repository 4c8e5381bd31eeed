"""SQLite's full-text indexes are merged into one segment each, and searches find the same."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from chat.models import ChatMessage, Conversation
from memory.models import ConversationMemory
from memory.recall import recall
from personas.models import PersonaProfile

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="PostgreSQL's GIN indexes have no segments"
    ),
]


def _segments(fts_table: str) -> int:
    # FTS5's shadow table of segment b-tree entries: one segid per segment.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(DISTINCT segid) FROM {fts_table}_idx")  # noqa: S608
        return cursor.fetchone()[0]


def test_the_command_merges_each_index_into_one_segment_and_searches_find_the_same(user):
    luna = PersonaProfile.objects.get(slug="luna")
    conversation = Conversation.objects.create(user=user, persona=luna)
    for batch in range(6):
        # Each write (here each savepoint) adds a segment, as each sent message does.
        with transaction.atomic():
            ChatMessage.objects.bulk_create(
                ChatMessage(
                    conversation=conversation,
                    user=user,
                    persona=luna,
                    role="user",
                    content=f"walk {batch}.{n}: my dog chased a heron by the canal",
                )
                for n in range(30)
            )
            ConversationMemory.objects.create(
                user=user, persona=luna, content=f"The user's dog fears herons ({batch})."
            )
    assert _segments("chat_message_fts") > 1
    assert _segments("memory_fts") > 1
    before = [(item.kind, item.id) for item in recall(user=user, persona=luna, query="dog heron")]

    out = StringIO()
    call_command("merge_search_indexes", "--pages", "4", stdout=out)

    assert _segments("chat_message_fts") == 1
    assert _segments("memory_fts") == 1
    assert "chat_message_fts:" in out.getvalue()
    after = [(item.kind, item.id) for item in recall(user=user, persona=luna, query="dog heron")]
    assert after == before
    assert before


def test_merging_a_merged_index_does_nothing(user):
    call_command("merge_search_indexes", stdout=StringIO())

    out = StringIO()
    call_command("merge_search_indexes", stdout=out)

    assert out.getvalue() == "chat_message_fts: 0 merge steps.\nmemory_fts: 0 merge steps.\n"


def test_an_imported_history_leaves_merged_indexes(
    auth_api_client, user, django_capture_on_commit_callbacks
):
    """The import's extraction ends by merging what the import and its memories wrote."""
    luna = PersonaProfile.objects.get(slug="luna")
    for batch in range(3):
        with transaction.atomic():
            ConversationMemory.objects.create(
                user=user, persona=luna, content=f"The user's dog fears herons ({batch})."
            )
    assert _segments("memory_fts") > 1
    said = [
        "I have a dog called Pixel.",
        "I live in Lisbon.",
        "I work as a nurse.",
        "My sister is called Ana.",
        "I love hiking in the mountains.",
    ]
    history = [{"role": "user", "content": text} for text in said]
    url = f"/api/v1/personas/{luna.pk}/history/import/"
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_api_client.post(url, history, format="json").status_code == 201

    assert ConversationMemory.objects.filter(user=user).count() > 3  # the import taught some
    assert _segments("chat_message_fts") == 1
    assert _segments("memory_fts") == 1
