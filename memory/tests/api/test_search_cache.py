"""A memory search is a cached read: answered from a shared cache and conditionally, and every
write that changes what it finds shows in the next search (memory.cache, chat.cache)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import ChatMessage
from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory.models import ConversationMemory
from personas.tests.factories import PersonaFactory

# Really committed: a write makes searches stale when it commits.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("system_personas")]

SHELLY = "Has a tortoise called Shelly"
TABLES = (ChatMessage._meta.db_table, ConversationMemory._meta.db_table)


def search(client, persona, q: str = "tortoise", **headers: str):
    url = f"/api/v1/personas/{persona.pk}/memories/search/"
    response = client.get(url, {"q": q, "k": 5}, **headers)
    assert response.status_code in (200, 304), response.content
    return response


def found(client, persona, q: str = "tortoise") -> list[str]:
    return [item["content"] for item in search(client, persona, q).json()]


def reads_the_pair(queries: CaptureQueriesContext) -> bool:
    """Whether any query read the pair's messages or memories (a search, not a cache hit)."""
    return any(table in query["sql"] for query in queries for table in TABLES)


@pytest.fixture
def conversation(user, luna):
    conversation = ConversationFactory(user=user, persona=luna)
    ChatMessageFactory(conversation=conversation, content="My tortoise Speedy eats lettuce")
    return conversation


def test_a_repeated_search_is_answered_from_the_cache_and_conditionally(
    auth_api_client, luna, conversation, shared_cache
):
    first = search(auth_api_client, luna)
    assert [item["content"] for item in first.json()] == ["My tortoise Speedy eats lettuce"]
    with CaptureQueriesContext(connection) as queries:
        again = search(auth_api_client, luna)
    assert not reads_the_pair(queries)
    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"]
    unchanged = search(auth_api_client, luna, HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    # Another query is another read.
    assert found(auth_api_client, luna, "lettuce") == ["My tortoise Speedy eats lettuce"]


def test_a_message_sent_shows_in_the_next_search(auth_api_client, luna, conversation, shared_cache):
    assert found(auth_api_client, luna, "porridge") == []
    sent = auth_api_client.post(
        "/api/v1/chat/messages/",
        {"message": "Speedy also likes porridge", "conversation": conversation.pk},
        format="json",
    )
    assert sent.status_code == 201, sent.content
    assert "Speedy also likes porridge" in found(auth_api_client, luna, "porridge")


def test_a_deleted_message_leaves_the_next_search(
    auth_api_client, luna, conversation, shared_cache
):
    message = conversation.messages.get()
    assert found(auth_api_client, luna) == [message.content]
    assert auth_api_client.delete(f"/api/v1/chat/messages/{message.pk}/").status_code == 204
    assert found(auth_api_client, luna) == []


def _create(client, memory, luna):
    return client.post(
        f"/api/v1/personas/{luna.pk}/memories/",
        {"content": SHELLY},
        format="json",
    )


def _edit(client, memory, luna):
    return client.patch(f"/api/v1/memories/{memory.pk}/", {"content": SHELLY}, format="json")


def _pin(client, memory, luna):
    # A pinned memory fills the results even without the query's words.
    return client.patch(f"/api/v1/memories/{memory.pk}/", {"pinned": True}, format="json")


def _delete(client, memory, luna):
    return client.delete(f"/api/v1/memories/{memory.pk}/")


def _forget_all(client, memory, luna):
    return client.delete(f"/api/v1/personas/{luna.pk}/memories/")


@pytest.mark.parametrize(
    ("write", "content", "wanted", "before", "after"),
    [
        (_create, "Likes rain", SHELLY, False, True),
        (_edit, "Likes rain", SHELLY, False, True),
        (_pin, "Likes rain", "Likes rain", False, True),
        (_delete, SHELLY, SHELLY, True, False),
        (_forget_all, SHELLY, SHELLY, True, False),
    ],
    ids=["create", "edit", "pin", "delete", "forget all"],
)
def test_each_memory_write_shows_in_the_next_search(
    auth_api_client, user, luna, shared_cache, write, content, wanted, before, after
):
    """The pair holds a memory of `content`; a search for Shelly finds `wanted` or not."""
    memory = MemoryFactory(user=user, persona=luna, content=content)
    assert (wanted in found(auth_api_client, luna, "shelly")) is before
    response = write(auth_api_client, memory, luna)
    assert response.status_code < 400, response.content
    assert (wanted in found(auth_api_client, luna, "shelly")) is after


def test_a_name_the_user_takes_leaves_the_query(
    auth_api_client, user, luna, conversation, shared_cache
):
    """Recall leaves the pair's names out of a query, so a new name is a new search."""
    assert found(auth_api_client, luna, "speedy") == ["My tortoise Speedy eats lettuce"]
    user.display_name = "Speedy"
    user.save()
    assert found(auth_api_client, luna, "speedy") == []


def test_a_persona_renamed_leaves_the_query(auth_api_client, user, shared_cache):
    shell = PersonaFactory(owner=user, name="Shell")
    conversation = ConversationFactory(user=user, persona=shell)
    ChatMessageFactory(conversation=conversation, content="Speedy hides in the garden")
    assert found(auth_api_client, shell, "speedy") == ["Speedy hides in the garden"]
    renamed = auth_api_client.patch(
        f"/api/v1/personas/{shell.pk}/", {"name": "Speedy"}, format="json"
    )
    assert renamed.status_code == 200, renamed.content
    assert found(auth_api_client, shell, "speedy") == []


def test_another_users_search_is_their_own(
    auth_api_client, api_client, other_user, luna, conversation, shared_cache
):
    assert found(auth_api_client, luna) == ["My tortoise Speedy eats lettuce"]
    api_client.force_authenticate(other_user)
    assert found(api_client, luna) == []


def test_with_a_cache_of_each_process_every_search_reads_afresh(
    auth_api_client, luna, conversation
):
    """`make run`'s default cache: the task worker, a process of its own, could not make a
    cached search stale when it writes a memory, so none is kept."""
    search(auth_api_client, luna)
    with CaptureQueriesContext(connection) as queries:
        search(auth_api_client, luna)
    assert reads_the_pair(queries)
