"""An export streams its history in bounded chunks, synchronously under WSGI, async under ASGI.

Under ASGI Django buffers a synchronous iterator whole before sending it (with a warning);
the export gives it an async one instead. Either way the messages are read a chunk at a
time, each chunk after the last message read (created_at, then id), never all at once.
"""

import json
import math
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from chat.models import ChatMessage, Conversation
from chat.services import history
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from mybella.users.services import api_token_create

pytestmark = pytest.mark.django_db

CHUNK = 3
SYNC_ITERATOR_WARNING = "must consume synchronous iterators"


def export_url(conversation: Conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/export/"


@pytest.fixture
def small_chunks(monkeypatch):
    """Read exports CHUNK messages at a time, so that a short history takes several chunks."""
    monkeypatch.setattr(history, "EXPORT_CHUNK_MESSAGES", CHUNK)


def _conversation(user, count: int) -> tuple[Conversation, list[ChatMessage]]:
    """Return a conversation of `count` messages whose times tie in pairs, ids not in order."""
    conversation = ConversationFactory(user=user)
    messages = ChatMessageFactory.create_batch(count, conversation=conversation)
    start = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    for position, message in enumerate(messages):
        # Later ids first within a pair of equal times: order is (created_at, id), not ids.
        at = start + timedelta(minutes=(count - position) // 2)
        ChatMessage.objects.filter(pk=message.pk).update(
            created_at=at, content=f"message {message.pk}"
        )
    return conversation, list(conversation.messages.order_by("created_at", "id"))


def _said(body: bytes) -> list[str]:
    header, *lines = [json.loads(line) for line in body.decode().splitlines()]
    assert "character_name" in header
    return [line["mes"] for line in lines]


def _asgi_get(url: str, key: str) -> tuple[object, bytes, list[str]]:
    """GET `url` through Django's ASGI handler; return the response, its body, the warnings."""

    async def get() -> tuple[object, bytes]:
        response = await AsyncClient().get(url, headers={"Authorization": f"Token {key}"})
        if not response.streaming:  # an error, answered whole
            return response, response.content
        body = b"".join([piece async for piece in response.streaming_content])
        return response, body

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response, body = async_to_sync(get)()
    return response, body, [str(warning.message) for warning in caught]


def test_under_asgi_the_export_streams_an_async_iterator(user, small_chunks):
    """The ASGI response is async (no buffering warning) and says what WSGI says."""
    conversation, messages = _conversation(user, 8)
    _token, key = api_token_create(user=user)

    response, body, caught = _asgi_get(export_url(conversation), key)

    assert response.status_code == 200
    assert response.is_async
    assert not [message for message in caught if SYNC_ITERATOR_WARNING in message]
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    assert _said(body) == [message.content for message in messages]


def test_asgi_and_wsgi_exports_are_the_same_file(auth_api_client, user, small_chunks):
    conversation, _messages = _conversation(user, 7)
    _token, key = api_token_create(user=user)
    wsgi = auth_api_client.get(export_url(conversation))
    assert not wsgi.is_async
    _response, asgi_body, _caught = _asgi_get(export_url(conversation), key)
    assert asgi_body == b"".join(wsgi.streaming_content)


def test_under_asgi_a_missing_conversation_is_a_404(user):
    _token, key = api_token_create(user=user)
    response, _body, _caught = _asgi_get("/api/v1/conversations/999999/export/", key)
    assert response.status_code == 404


@pytest.mark.parametrize("count", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 4 * CHUNK])
def test_the_history_is_read_in_bounded_keyset_chunks(user, small_chunks, count):
    """Every message once, in order, across chunk edges and tied times; no read unbounded."""
    conversation, messages = _conversation(user, count)

    with CaptureQueriesContext(connection) as queries:
        body = "".join(history.history_export(user=user, conversation=conversation))

    assert _said(body.encode()) == [message.content for message in messages]
    reads = [q["sql"] for q in queries.captured_queries if '"chat_chatmessage"' in q["sql"]]
    assert all(f"LIMIT {CHUNK}" in sql for sql in reads), reads
    # One read per chunk, and one more only when the last chunk was full.
    assert len(reads) == math.floor(count / CHUNK) + 1


def test_the_async_export_yields_what_the_sync_one_does(user, small_chunks):
    conversation, _messages = _conversation(user, 2 * CHUNK + 1)

    async def read() -> str:
        pieces = history.history_aexport(user=user, conversation=conversation)
        return "".join([piece async for piece in pieces])

    assert async_to_sync(read)() == "".join(
        history.history_export(user=user, conversation=conversation)
    )


def test_messages_written_during_an_export_come_after_what_was_read(user, small_chunks):
    """A message added between chunks is not read twice or out of order (keyset, not OFFSET)."""
    conversation, messages = _conversation(user, 2 * CHUNK)
    pieces = history.history_export(user=user, conversation=conversation)
    first = next(pieces) + next(pieces)  # the header and the first chunk
    ChatMessage.objects.filter(pk=messages[0].pk).delete()  # an earlier one goes away
    rest = "".join(pieces)
    said = _said((first + rest).encode())
    assert said == [message.content for message in messages]
