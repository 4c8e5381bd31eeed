"""A summary is written by MyBella from a stretch of conversation, never given as a kind.

A "summary" without the stretch it covers would reach no prompt: prompts take summaries by
the stretch they cover, and recent memories leave summaries out.
"""

import pytest
from django.core.exceptions import ValidationError

from memory import services
from memory.extraction.ops import MemoryOp
from memory.models import ConversationMemory, MemoryEvent

pytestmark = pytest.mark.django_db

SUMMARY = ConversationMemory.Kind.SUMMARY


@pytest.fixture
def isabella():
    from personas.models import PersonaProfile

    return PersonaProfile.objects.get(slug="isabella")


def _memories_url(persona):
    return f"/api/v1/personas/{persona.pk}/memories/"


def test_the_api_refuses_to_add_a_summary(auth_api_client, user, isabella):
    response = auth_api_client.post(
        _memories_url(isabella),
        {"content": "We talked about Porto all evening", "kind": "summary"},
        format="json",
    )
    assert response.status_code == 400
    assert "kind" in response.json()
    assert not ConversationMemory.objects.filter(user=user).exists()


def test_the_page_refuses_to_add_a_summary(client, user, isabella):
    client.force_login(user)
    response = client.post(
        f"/users/memory/personas/{isabella.pk}/add/",
        {"content": "We talked about Porto all evening", "kind": "summary", "importance": 5},
    )
    assert response.status_code == 400
    assert "Summaries are written by MyBella" in response.content.decode()
    assert not ConversationMemory.objects.filter(user=user).exists()


def test_a_memory_cant_become_a_summary(auth_api_client, user, isabella):
    memory = services.memory_create(user=user, persona=isabella, content="I live in Lisbon now")
    response = auth_api_client.patch(f"/api/v1/memories/{memory.pk}/", {"kind": "summary"})
    assert response.status_code == 400
    memory.refresh_from_db()
    assert memory.kind == ConversationMemory.Kind.FACT


def test_a_summary_keeps_its_kind_but_can_be_corrected(user, isabella):
    summary = services.memory_create(
        user=user,
        persona=isabella,
        content="We talked about Porto all evening",
        kind=SUMMARY,
        actor=MemoryEvent.Actor.EXTRACTOR,
    )
    with pytest.raises(ValidationError):
        services.memory_update(memory=summary, kind=ConversationMemory.Kind.FACT)
    summary.refresh_from_db()
    assert summary.kind == SUMMARY
    services.memory_update(memory=summary, content="We talked about Porto and Lisbon", kind=SUMMARY)
    summary.refresh_from_db()
    assert summary.content == "We talked about Porto and Lisbon"


def test_a_model_proposing_a_summary_kind_stores_a_fact(user, isabella):
    changed = services.memory_apply_ops(
        user=user,
        persona=isabella,
        ops=[MemoryOp("add", "The user has a cat called Zebulon", kind="summary")],
        actor=MemoryEvent.Actor.MODEL,
    )
    assert [memory.kind for memory in changed] == [ConversationMemory.Kind.FACT]
