"""Memories, recall, preferences and the remember switch through the API."""

import pytest

from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory.models import ConversationMemory, MemoryEvent, UserPreference
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db


def test_list_create_and_forget_all(auth_api_client, user, other_user, luna, isabella):
    MemoryFactory(user=user, persona=luna, content="Likes tea")
    MemoryFactory(user=user, persona=isabella, content="Likes coffee")
    MemoryFactory(user=other_user, persona=luna, content="Likes juice")
    url = f"/api/v1/personas/{luna.pk}/memories/"
    assert [m["content"] for m in auth_api_client.get(url).json()["results"]] == ["Likes tea"]
    created = auth_api_client.post(
        url, {"content": "Has a cat", "importance": 8, "pinned": True}, format="json"
    )
    assert created.status_code == 201
    assert auth_api_client.get(url).json()["results"][0]["content"] == "Has a cat"
    assert auth_api_client.delete(url).status_code == 204
    assert not ConversationMemory.objects.filter(user=user, persona=luna).exists()
    assert ConversationMemory.objects.filter(user=user, persona=isabella).exists()
    assert ConversationMemory.objects.filter(user=other_user, persona=luna).exists()


def test_memory_list_query_count(auth_api_client, user, luna, django_assert_max_num_queries):
    conversation = ConversationFactory(user=user, persona=luna)
    for _ in range(30):
        memory = MemoryFactory(user=user, persona=luna)
        memory.source_messages.add(ChatMessageFactory(conversation=conversation))
    with django_assert_max_num_queries(4):
        response = auth_api_client.get(f"/api/v1/personas/{luna.pk}/memories/")
    assert len(response.json()["results"][0]["source_message_ids"]) == 1


def test_edit_pin_and_delete_keep_history(auth_api_client, user, luna):
    memory = auth_api_client.post(
        f"/api/v1/personas/{luna.pk}/memories/", {"content": "Lives in Porto"}, format="json"
    ).json()
    url = f"/api/v1/memories/{memory['id']}/"
    changed = auth_api_client.patch(
        url, {"content": "Lives in Lisbon", "pinned": True}, format="json"
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["content"], body["pinned"]) == ("Lives in Lisbon", True)
    assert [(e["action"], e["content_before"], e["content_after"]) for e in body["history"]] == [
        ("updated", "Lives in Porto", "Lives in Lisbon"),
        ("created", "", "Lives in Porto"),
    ]
    assert auth_api_client.delete(url).status_code == 204
    assert MemoryEvent.objects.filter(
        user=user, action="deleted", content_before="Lives in Lisbon"
    ).exists()


def test_bad_memory_input(auth_api_client, user, luna):
    url = f"/api/v1/personas/{luna.pk}/memories/"
    for payload in [
        {},
        {"content": ""},
        {"content": "x", "importance": 11},
        {"content": "x", "kind": "gossip"},
    ]:
        assert auth_api_client.post(url, payload, format="json").status_code == 400
    assert not ConversationMemory.objects.exists()


def test_other_users_memory_is_404(auth_api_client, other_user, luna):
    theirs = MemoryFactory(user=other_user, persona=luna, content="secret")
    for method in ["get", "patch", "delete"]:
        response = getattr(auth_api_client, method)(
            f"/api/v1/memories/{theirs.pk}/", {"content": "x"}, format="json"
        )
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.content == "secret"


def test_search_returns_sources_of_this_pair_only(
    auth_api_client, user, other_user, luna, isabella
):
    conversation = ConversationFactory(user=user, persona=luna)
    source = ChatMessageFactory(conversation=conversation, content="I adore jasmine tea")
    memory = MemoryFactory(user=user, persona=luna, content="Loves jasmine tea")
    memory.source_messages.add(source)
    MemoryFactory(user=user, persona=isabella, content="Loves jasmine tea too")
    MemoryFactory(user=other_user, persona=luna, content="Loves jasmine tea as well")
    response = auth_api_client.get(f"/api/v1/personas/{luna.pk}/memories/search/?q=jasmine+tea&k=5")
    assert response.status_code == 200
    results = response.json()
    assert {r["content"] for r in results} == {"Loves jasmine tea", "I adore jasmine tea"}
    by_kind = {r["kind"]: r for r in results}
    assert by_kind["memory"]["source_message_ids"] == [source.pk]
    assert by_kind["message"]["source_message_ids"] == [source.pk]


def test_search_gives_each_result_its_date_and_a_message_its_neighbours(
    auth_api_client, user, luna
):
    conversation = ConversationFactory(user=user, persona=luna)
    question = ChatMessageFactory(conversation=conversation, content="Any pets?")
    said = ChatMessageFactory(
        conversation=conversation, role="assistant", content="A tortoise called Nils"
    )
    memory = MemoryFactory(user=user, persona=luna, content="Has a tortoise")
    memory.source_messages.add(said)
    bare = MemoryFactory(user=user, persona=luna, content="Tortoise fan")

    results = auth_api_client.get(
        f"/api/v1/personas/{luna.pk}/memories/search/?q=tortoise&k=5"
    ).json()

    by_id = {(r["kind"], r["id"]): r for r in results}
    message = by_id[("message", said.pk)]
    assert message["said_at"] == message["created_at"]
    assert message["context"] == [
        {
            "id": question.pk,
            "role": "user",
            "content": "Any pets?",
            "created_at": message["context"][0]["created_at"],
            "matches": False,
        }
    ]
    assert by_id[("memory", memory.pk)]["said_at"] == message["created_at"]
    assert by_id[("memory", memory.pk)]["context"] == []
    assert by_id[("memory", bare.pk)]["said_at"] is None


def test_search_needs_a_query(auth_api_client, luna):
    assert auth_api_client.get(f"/api/v1/personas/{luna.pk}/memories/search/").status_code == 400
    assert (
        auth_api_client.get(f"/api/v1/personas/{luna.pk}/memories/search/?q=x&k=0").status_code
        == 400
    )


def test_preferences(auth_api_client, user, luna, isabella):
    url = f"/api/v1/personas/{luna.pk}/preferences/"
    assert (
        auth_api_client.put(
            url, {"key": "preferred_name", "value": "Robin"}, format="json"
        ).status_code
        == 200
    )
    assert (
        auth_api_client.put(
            url, {"key": "reply_length", "value": "short"}, format="json"
        ).status_code
        == 200
    )
    assert (
        auth_api_client.put(
            url, {"key": "reply_length", "value": "epic"}, format="json"
        ).status_code
        == 400
    )
    assert (
        auth_api_client.put(url, {"key": "not a slug!", "value": "x"}, format="json").status_code
        == 400
    )
    assert {p["key"]: p["value"] for p in auth_api_client.get(url).json()} == {
        "preferred_name": "Robin",
        "reply_length": "short",
    }
    assert auth_api_client.get(f"/api/v1/personas/{isabella.pk}/preferences/").json() == []
    auth_api_client.put(url, {"key": "reply_length", "value": ""}, format="json")
    assert not UserPreference.objects.filter(key="reply_length").exists()


def test_remember_switch_stops_extraction_and_recall(
    auth_api_client, user, luna, django_capture_on_commit_callbacks
):
    url = f"/api/v1/personas/{luna.pk}/memory-settings/"
    assert auth_api_client.get(url).json() == {"remember": True}
    assert auth_api_client.put(url, {"remember": False}, format="json").json() == {
        "remember": False
    }
    with django_capture_on_commit_callbacks(execute=True):
        auth_api_client.post(
            "/api/v1/chat/messages/",
            {"message": "My name is Robin.", "persona": luna.pk},
            format="json",
        )
    assert not ConversationMemory.objects.filter(user=user, persona=luna).exists()
    auth_api_client.put(url, {"remember": True}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        auth_api_client.post(
            "/api/v1/chat/messages/",
            {"message": "I live in Lisbon.", "persona": luna.pk},
            format="json",
        )
    assert ConversationMemory.objects.filter(
        user=user, persona=luna, content__icontains="Lisbon"
    ).exists()


def test_export_holds_all_of_mine_and_nothing_else(auth_api_client, user, other_user, luna):
    auth_api_client.post(
        "/api/v1/chat/messages/", {"message": "hello from me", "persona": luna.pk}, format="json"
    )
    MemoryFactory(user=user, persona=luna, content="mine to keep")
    MemoryFactory(user=other_user, persona=luna, content="not mine")
    response = auth_api_client.get("/api/v1/me/export/")
    assert response.status_code == 200
    data = response.json()
    assert data["user"]["username"] == "alice"
    assert "hello from me" in [m["content"] for m in data["messages"]]
    assert [m["content"] for m in data["memories"]] == ["mine to keep"]
    assert b"not mine" not in response.content


# ---------------------------------------------------------------- one rule with the page


def test_an_unchanged_patch_records_no_event(auth_api_client, user, luna):
    """PATCHing a memory to what it already is changes nothing, as on the page."""
    memory = auth_api_client.post(
        f"/api/v1/personas/{luna.pk}/memories/",
        {"content": "Lives in Porto", "importance": 6},
        format="json",
    ).json()
    stored = ConversationMemory.objects.get(pk=memory["id"])
    response = auth_api_client.patch(
        f"/api/v1/memories/{memory['id']}/",
        {"content": "Lives in Porto", "importance": 6, "pinned": False},
        format="json",
    )
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["history"]] == ["created"]
    assert MemoryEvent.objects.filter(memory_id=memory["id"]).count() == 1
    assert ConversationMemory.objects.get(pk=memory["id"]).updated_at == stored.updated_at
    assert (
        auth_api_client.patch(f"/api/v1/memories/{memory['id']}/", {}, format="json").json()[
            "history"
        ]
        == response.json()["history"]
    )


def test_a_memory_of_an_invisible_persona_is_404(auth_api_client, user, luna):
    """A memory held by a persona the user can no longer see is a 404, as on the page."""
    memory = MemoryFactory(user=user, persona=luna, content="Likes jazz")
    url = f"/api/v1/memories/{memory.pk}/"
    assert auth_api_client.get(url).status_code == 200
    PersonaProfile.objects.filter(pk=luna.pk).update(is_active=False)
    for method in ["get", "patch", "delete"]:
        response = getattr(auth_api_client, method)(url, {"content": "changed"}, format="json")
        assert response.status_code == 404, method
        assert response.json() == {"detail": "Not found."}
    memory.refresh_from_db()
    assert memory.content == "Likes jazz"


def test_preferred_name_has_the_pages_limit(auth_api_client, user, luna):
    """The API refuses a preferred name the page's form refuses (over 100 characters)."""
    url = f"/api/v1/personas/{luna.pk}/preferences/"
    response = auth_api_client.put(
        url, {"key": "preferred_name", "value": "x" * 101}, format="json"
    )
    assert response.status_code == 400
    assert "value" in response.json()
    assert (
        auth_api_client.put(
            url, {"key": "preferred_name", "value": "x" * 100}, format="json"
        ).status_code
        == 200
    )


def test_preferences_as_a_mapping_are_all_or_nothing(auth_api_client, user, luna):
    """A mapping of preferences is stored at once, or not at all, with the refused key named."""
    url = f"/api/v1/personas/{luna.pk}/preferences/"
    response = auth_api_client.put(
        url, {"preferred_name": "Robin", "tone": "dry", "pets": "cats"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == auth_api_client.get(url).json()
    assert {p["key"]: p["value"] for p in response.json()} == {
        "preferred_name": "Robin",
        "tone": "dry",
        "pets": "cats",
    }
    response = auth_api_client.put(
        url, {"preferred_name": "", "tone": "warm", "reply_length": "epic"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"reply_length"}
    assert {p["key"]: p["value"] for p in auth_api_client.get(url).json()} == {
        "preferred_name": "Robin",
        "tone": "dry",
        "pets": "cats",
    }
    for body in [{}, {"tone": 3}, {"tone": None}, {"tone": ["dry"]}, ["tone"]]:
        assert auth_api_client.put(url, body, format="json").status_code == 400, body
    # A form's fields are a mapping too.
    response = auth_api_client.put(url, {"tone": "warm", "pets": ""}, format="multipart")
    assert response.status_code == 200
    assert {p["key"]: p["value"] for p in response.json()} == {
        "preferred_name": "Robin",
        "tone": "warm",
    }


@pytest.mark.parametrize("size", [2, 20])
def test_memory_detail_query_count(auth_api_client, user, luna, size, django_assert_num_queries):
    """A memory with its sources and history costs the same few queries, however many."""
    conversation = ConversationFactory(user=user, persona=luna)
    memory = MemoryFactory(user=user, persona=luna)
    memory.source_messages.add(
        *[ChatMessageFactory(conversation=conversation) for _ in range(size)]
    )
    for number in range(size):
        MemoryEvent.objects.create(
            memory=memory,
            user=user,
            persona=luna,
            action="updated",
            actor="user",
            content_after=str(number),
        )
    with django_assert_num_queries(3):
        response = auth_api_client.get(f"/api/v1/memories/{memory.pk}/")
    assert len(response.json()["source_message_ids"]) == size
    assert len(response.json()["history"]) == size
