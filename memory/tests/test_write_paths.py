"""Every page and API view of the memory app that writes goes through a memory service."""

import pytest
from django.urls import reverse

from chat.tests.factories import ChatMessageFactory, ConversationFactory
from memory import services
from memory.cache import memory_version
from memory.extraction import MemoryOp
from mybella.core.cache import version
from mybella.core.services import service_calls

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory(user, luna):
    return services.memory_create(user=user, persona=luna, content="Lives in Porto")


def _page(client, url, data):
    return client.post(url, data)


def _api(method):
    def call(client, url, data):
        return getattr(client, method)(url, data, format="json")

    return call


# (name, how to call it, url, body): every writing view of the app, pages and API.
WRITES = [
    (
        "page add",
        _page,
        lambda m: reverse("memory:add", args=[m.persona_id]),
        {"content": "Has a cat", "kind": "fact", "importance": "5"},
    ),
    (
        "page edit",
        _page,
        lambda m: reverse("memory:edit", args=[m.pk]),
        {"content": "Lives in Faro", "kind": "fact", "importance": "5"},
    ),
    ("page pin", _page, lambda m: reverse("memory:pin", args=[m.pk]), {"pinned": "on"}),
    ("page delete", _page, lambda m: reverse("memory:delete", args=[m.pk]), {}),
    ("page forget all", _page, lambda m: reverse("memory:forget_all", args=[m.persona_id]), {}),
    (
        "page remember",
        _page,
        lambda m: reverse("memory:remember", args=[m.persona_id]),
        {"remember": "off"},
    ),
    (
        "page preferences",
        _page,
        lambda m: reverse("memory:preferences", args=[m.persona_id]),
        {"preferred_name": "Robin", "reply_length": "", "tone": "", "language": ""},
    ),
    (
        "api create",
        _api("post"),
        lambda m: f"/api/v1/personas/{m.persona_id}/memories/",
        {"content": "Has a cat"},
    ),
    (
        "api forget all",
        _api("delete"),
        lambda m: f"/api/v1/personas/{m.persona_id}/memories/",
        None,
    ),
    ("api update", _api("patch"), lambda m: f"/api/v1/memories/{m.pk}/", {"pinned": True}),
    ("api delete", _api("delete"), lambda m: f"/api/v1/memories/{m.pk}/", None),
    (
        "api preference",
        _api("put"),
        lambda m: f"/api/v1/personas/{m.persona_id}/preferences/",
        {"key": "tone", "value": "dry"},
    ),
    (
        "api preferences",
        _api("put"),
        lambda m: f"/api/v1/personas/{m.persona_id}/preferences/",
        {"tone": "dry", "language": "pt"},
    ),
    (
        "api memory settings",
        _api("put"),
        lambda m: f"/api/v1/personas/{m.persona_id}/memory-settings/",
        {"remember": False},
    ),
]


@pytest.mark.parametrize(("_name", "call", "url", "data"), WRITES, ids=[w[0] for w in WRITES])
def test_each_writing_view_calls_a_service(
    client, auth_api_client, user, memory, _name, call, url, data
):
    client.force_login(user)
    http = client if call is _page else auth_api_client
    before = service_calls()
    response = call(http, url(memory), data)
    assert response.status_code < 400, response.content
    assert service_calls() > before


# What a search shows (memories) changes with these; preferences and the remember switch don't.
NOT_SEARCHED = {
    "page remember",
    "page preferences",
    "api preference",
    "api preferences",
    "api memory settings",
}
MEMORY_WRITES = [w for w in WRITES if w[0] not in NOT_SEARCHED]


# Really committed: the versions change when the writes commit.
committed = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("system_personas")]


@pytest.mark.parametrize(
    ("_name", "call", "url", "data"), MEMORY_WRITES, ids=[w[0] for w in MEMORY_WRITES]
)
@committed[0]
@committed[1]
def test_each_memory_write_makes_the_writers_searches_stale_at_commit(
    client,
    auth_api_client,
    user,
    other_user,
    memory,
    _name,
    call,
    url,
    data,
):
    client.force_login(user)
    http = client if call is _page else auth_api_client
    before, others = version(memory_version(user.pk)), version(memory_version(other_user.pk))
    response = call(http, url(memory), data)
    assert response.status_code < 400, response.content
    assert version(memory_version(user.pk)) != before
    assert version(memory_version(other_user.pk)) == others


@committed[0]
@committed[1]
def test_what_extraction_writes_makes_the_pairs_searches_stale(user, luna, memory):
    """One heard again (a source added), a new one, one superseding another."""
    message = ChatMessageFactory(conversation=ConversationFactory(user=user, persona=luna))
    for op in (
        MemoryOp(op="update", memory_id=memory.pk, content="lives in  Porto."),
        MemoryOp(op="add", content="Plays the cello"),
        MemoryOp(op="add", content="Lives in Lisbon"),
    ):
        before = version(memory_version(user.pk))
        services.memory_apply_ops(
            user=user, persona=luna, ops=[op], actor="model", source_message_ids=[message.pk]
        )
        assert version(memory_version(user.pk)) != before, op
    memory.refresh_from_db()
    assert (memory.importance, memory.superseded_by.content) == (6, "Lives in Lisbon")
