"""A number where the API takes text is a 400 that changes nothing, as a list or an object is:
DRF's CharField took it as its digits (a message "123", a persona named 123)."""

import pytest

from chat.models import Conversation
from chat.tests.factories import ConversationFactory, MemoryFactory
from memory.models import ConversationMemory
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def test_a_persona_named_by_a_number_is_400(auth_api_client, user):
    response = auth_api_client.post("/api/v1/personas/", {"name": 123}, format="json")
    assert response.status_code == 400
    assert response.json()["name"] == ["Not a valid string."]
    assert not PersonaProfile.objects.filter(owner=user).exists()


def test_a_trait_that_is_a_number_is_400(auth_api_client, user):
    mine = PersonaFactory(owner=user, traits=["kind"])
    response = auth_api_client.patch(
        f"/api/v1/personas/{mine.pk}/", {"traits": ["calm", 7]}, format="json"
    )
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.traits == ["kind"]


def test_a_conversation_titled_by_a_number_is_400(auth_api_client, user, luna):
    conversation = ConversationFactory(user=user, persona=luna, title="Dinner")
    response = auth_api_client.patch(
        f"/api/v1/conversations/{conversation.pk}/", {"title": 456}, format="json"
    )
    assert response.status_code == 400
    assert Conversation.objects.get(pk=conversation.pk).title == "Dinner"


def test_a_memory_that_is_a_number_is_400(auth_api_client, user, luna):
    memory = MemoryFactory(user=user, persona=luna, content="Likes tea")
    url = f"/api/v1/personas/{luna.pk}/memories/"
    assert auth_api_client.post(url, {"content": 123}, format="json").status_code == 400
    changed = auth_api_client.patch(
        f"/api/v1/memories/{memory.pk}/", {"content": 123}, format="json"
    )
    assert changed.status_code == 400
    assert list(ConversationMemory.objects.values_list("content", flat=True)) == ["Likes tea"]


def test_text_is_still_text(auth_api_client, user):
    response = auth_api_client.post("/api/v1/personas/", {"name": "Nova 7"}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "Nova 7"
