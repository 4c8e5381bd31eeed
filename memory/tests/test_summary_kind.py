"""A summary is written by MyBella from a stretch of conversation, never given as a kind.

A "summary" without the stretch it covers would reach no prompt: prompts take summaries by
the stretch they cover, and recent memories leave summaries out.
"""

import re

import pytest
from django.core.exceptions import ValidationError
from drf_spectacular.generators import SchemaGenerator

from memory import services
from memory.extraction.ops import MemoryOp
from memory.models import ConversationMemory, MemoryEvent

pytestmark = pytest.mark.django_db

SUMMARY = ConversationMemory.Kind.SUMMARY


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
    assert "summary is not one of the available choices" in response.content.decode()
    assert not ConversationMemory.objects.filter(user=user).exists()


def _kind_options(html: str, select_id: str) -> list[str]:
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert select, f"no #{select_id} in the page"
    return re.findall(r'<option value="([^"]*)"', select.group(0))


def test_the_add_form_offers_no_summary_but_a_summarys_form_keeps_its_kind(client, user, isabella):
    """Only what the service accepts is offered; a summary is still corrected on the page."""
    summary = ConversationMemory.objects.create(
        user=user, persona=isabella, kind=SUMMARY, content="We talked about Porto"
    )
    client.force_login(user)
    html = client.get(f"/users/memory/?persona={isabella.pk}").content.decode()
    assert _kind_options(html, "add-kind") == ["fact", "preference", "event"]
    assert _kind_options(html, f"memory-{summary.pk}-kind") == ["summary"]
    response = client.post(
        f"/users/memory/{summary.pk}/edit/",
        {"content": "We talked about Porto and Lisbon", "kind": "summary", "importance": 5},
    )
    assert response.status_code == 302
    summary.refresh_from_db()
    assert (summary.kind, summary.content) == (SUMMARY, "We talked about Porto and Lisbon")


def test_the_schema_offers_no_summary_kind_to_write_but_shows_it_in_reads():
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]
    schemas = components["schemas"]

    def kinds(component):
        field = schemas[component]["properties"]["kind"]
        ref = field.get("$ref") or field["allOf"][0]["$ref"]
        return sorted(schemas[ref.rsplit("/", 1)[-1]]["enum"])

    people = ["event", "fact", "preference"]
    assert kinds("MemoryInputRequest") == kinds("PatchedMemoryInputRequest") == people
    assert kinds("Memory") == sorted([*people, "summary"])


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
