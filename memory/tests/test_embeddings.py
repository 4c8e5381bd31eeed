"""With a model that offers embeddings, memories store them and recall uses them."""

import pytest

from memory.models import ConversationMemory
from memory.recall import recall
from memory.services import memory_create, memory_update
from mybella.tests.fakes.fake_llm import fake_vector

pytestmark = pytest.mark.django_db


def test_memories_get_embeddings_from_the_model(
    user, luna, fake_llm, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        memory = memory_create(user=user, persona=luna, content="Plays the cello")
    memory.refresh_from_db()
    assert memory.embedding == fake_vector("Plays the cello")
    with django_capture_on_commit_callbacks(execute=True):
        memory_update(memory=memory, content="Plays the viola")
    memory.refresh_from_db()
    assert memory.embedding == fake_vector("Plays the viola")
    embed_calls = [body for path, body, _ in fake_llm.requests if path == "/v1/embeddings"]
    assert [call["input"] for call in embed_calls] == [["Plays the cello"], ["Plays the viola"]]


def test_a_server_answering_per_token_vectors_still_gives_memories_embeddings(
    user, luna, fake_llm, django_capture_on_commit_callbacks
):
    """llama.cpp's per-token answer is mean-pooled into the memory's one vector."""
    fake_llm.embed_per_token()
    with django_capture_on_commit_callbacks(execute=True):
        memory = memory_create(user=user, persona=luna, content="Plays the cello")
    memory.refresh_from_db()
    words = [fake_vector(word) for word in ["Plays", "the", "cello"]]
    assert memory.embedding == pytest.approx(
        [sum(column) / 3 for column in zip(*words, strict=True)]
    )


def test_offline_engine_stores_no_embeddings(user, luna, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        memory = memory_create(user=user, persona=luna, content="Plays the cello")
    memory.refresh_from_db()
    assert memory.embedding is None


def test_recall_finds_a_close_memory_with_no_shared_words(user, other_user, luna):
    query = "string instrument hobbies"
    close = ConversationMemory.objects.create(
        user=user, persona=luna, content="Plays the cello", embedding=fake_vector(query)
    )
    ConversationMemory.objects.create(
        user=other_user, persona=luna, content="Plays the violin", embedding=fake_vector(query)
    )
    far = [-x for x in fake_vector(query)]
    ConversationMemory.objects.create(
        user=user, persona=luna, content="Hates olives", embedding=far
    )
    assert recall(user=user, persona=luna, query=query) == []
    found = recall(user=user, persona=luna, query=query, query_embedding=fake_vector(query))
    assert [item.id for item in found] == [close.id]


def test_the_prompt_recalls_by_embedding(auth_api_client, user, luna, fake_llm):
    ConversationMemory.objects.create(
        user=user,
        persona=luna,
        content="Keeps bees on the roof",
        embedding=fake_vector("anything sweet lately?"),
    )
    auth_api_client.post(
        "/api/v1/chat/messages/",
        {"message": "anything sweet lately?", "persona": luna.pk},
        format="json",
    )
    chat = [body for path, body, _ in fake_llm.requests if path == "/v1/chat/completions"][-1]
    assert "Keeps bees on the roof" in chat["messages"][0]["content"]


def test_an_embedding_failure_does_not_fail_the_reply(auth_api_client, user, luna, fake_llm):
    fake_llm.fail_next(500)  # the query embedding, asked for first
    response = auth_api_client.post(
        "/api/v1/chat/messages/", {"message": "hello", "persona": luna.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["assistant_message"]["content"] == fake_llm.reply_text
