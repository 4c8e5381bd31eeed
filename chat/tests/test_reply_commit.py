"""A send's two commits: the user's message waits for the disk, the finished reply need not
(`CHAT_REPLY_SYNCHRONOUS_COMMIT`, PostgreSQL), and it goes in one round trip."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.models import ChatMessage, Conversation
from personas.models import PersonaProfile

RELAX = "set_config('synchronous_commit', 'off', true)"

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the send's own transactions are the outermost
    pytest.mark.usefixtures("system_personas"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's setting"),
]


def sent_statements(user, **kwargs) -> list[str]:
    luna = PersonaProfile.objects.get(slug="luna")
    with CaptureQueriesContext(connection) as queries:
        services.message_send(user=user, persona=luna, text="Hello there", **kwargs)
    return [query["sql"] for query in queries.captured_queries]


def test_only_the_replys_commit_skips_the_wait(user):
    statements = sent_statements(user)
    relaxed = [index for index, sql in enumerate(statements) if RELAX in sql]
    assert len(relaxed) == 1
    saved = [sql.count('INSERT INTO "chat_chatmessage"') for sql in statements]
    # The user's message and its reply, pending, were saved before, in their own commit.
    assert sum(saved[: relaxed[0]]) >= 2
    assert not any(saved[relaxed[0] :])
    assert "SET LOCAL" not in " ".join(statements)


def test_the_reply_and_its_conversation_are_saved_in_one_statement(user):
    statements = sent_statements(user)
    last = statements[-1]
    assert last.startswith("WITH ")
    assert 'UPDATE "chat_chatmessage"' in last
    assert 'UPDATE "chat_conversation"' in last
    assert not any('UPDATE "chat_conversation"' in sql for sql in statements[:-1])
    reply = ChatMessage.objects.get(role=ChatMessage.Role.ASSISTANT, reply_to__isnull=False)
    conversation = Conversation.objects.get()
    assert reply.content
    assert conversation.updated_at == reply.updated_at
    assert conversation.title == "Hello there"
    with connection.cursor() as cursor:  # relaxed for that transaction only
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_the_setting_makes_the_reply_wait_too(user, settings):
    settings.CHAT_REPLY_SYNCHRONOUS_COMMIT = True
    statements = sent_statements(user)
    assert not any(RELAX in sql for sql in statements)
    assert 'UPDATE "chat_conversation"' in statements[-1]


def test_the_message_and_its_pending_reply_are_inserted_in_one_statement(user):
    from django.db.models.signals import post_save

    saved = []

    def heard(sender, instance, created, **kwargs):
        saved.append((instance.role, instance.pk, created))

    sent_statements(user)  # the conversation, opened with its greeting
    post_save.connect(heard, sender=ChatMessage)
    try:
        statements = sent_statements(user)
    finally:
        post_save.disconnect(heard, sender=ChatMessage)
    inserts = [sql for sql in statements if 'INSERT INTO "chat_chatmessage"' in sql]
    assert len(inserts) == 1
    assert inserts[0].count('INSERT INTO "chat_chatmessage"') == 2
    message = ChatMessage.objects.filter(role=ChatMessage.Role.USER).latest("id")
    reply = ChatMessage.objects.get(reply_to=message)
    assert reply.role == ChatMessage.Role.ASSISTANT
    assert message.pk < reply.pk
    assert message.created_at <= reply.created_at
    assert (message.content, message.token_estimate, message.status) == ("Hello there", 2, "ok")
    assert (message.conversation_id, message.user_id, message.persona_id) == (
        reply.conversation_id,
        reply.user_id,
        reply.persona_id,
    )
    assert (reply.provider, reply.alternatives, reply.selected) == ("offline", [], 0)
    # The signals a save() sends, for both, as created.
    assert [(role, created) for role, _pk, created in saved] == [
        ("user", True),
        ("assistant", True),
    ]
    assert [pk for _role, pk, _created in saved] == [message.pk, reply.pk]
