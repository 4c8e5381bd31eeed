"""A send's two commits: the user's message waits for the disk, the finished reply need not
(`CHAT_REPLY_SYNCHRONOUS_COMMIT`, PostgreSQL)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from personas.models import PersonaProfile

RELAX = "SET LOCAL synchronous_commit = off"

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the send's own transactions are the outermost
    pytest.mark.usefixtures("system_personas"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's setting"),
]


def sent_statements(user) -> list[str]:
    luna = PersonaProfile.objects.get(slug="luna")
    with CaptureQueriesContext(connection) as queries:
        services.message_send(user=user, persona=luna, text="Hello there")
    return [query["sql"] for query in queries.captured_queries]


def test_only_the_replys_commit_skips_the_wait(user):
    statements = sent_statements(user)
    assert statements.count(RELAX) == 1
    relaxed = statements.index(RELAX)
    saved = [sql.startswith('INSERT INTO "chat_chatmessage"') for sql in statements]
    # The user's message and its reply, pending, were saved before, in their own commit.
    assert sum(saved[:relaxed]) >= 2
    assert not any(saved[relaxed:])
    assert statements[relaxed + 1].startswith('UPDATE "chat_chatmessage"')


def test_the_setting_makes_the_reply_wait_too(user, settings):
    settings.CHAT_REPLY_SYNCHRONOUS_COMMIT = True
    assert RELAX not in sent_statements(user)
