"""An imported card in conversation: the greeting with names filled in, and the lorebook
entries the exact prompt sent to the model holds (only when mentioned, only the persona's)."""

import pytest

from chat.models import ChatMessage
from memory.models import UserPreference
from personas.models import LorebookEntry, PersonaProfile
from personas.tests.test_character_cards import import_card, seraphina_card

pytestmark = pytest.mark.django_db

SEND = "/api/v1/chat/messages/"


@pytest.fixture
def seraphina(auth_api_client) -> PersonaProfile:
    response = import_card(auth_api_client, seraphina_card())
    assert response.status_code == 201, response.json()
    return PersonaProfile.objects.get(pk=response.json()["id"])


def test_the_greeting_of_a_new_conversation_has_the_names_filled_in(
    auth_api_client, user, seraphina
):
    UserPreference.objects.create(user=user, persona=seraphina, key="preferred_name", value="Rin")
    response = auth_api_client.post(SEND, {"message": "Hello?", "persona": seraphina.pk})
    assert response.status_code == 201, response.json()
    greeting = ChatMessage.objects.get(persona=seraphina, provider="greeting")
    assert greeting.content == "*Seraphina smiles at Rin.* Welcome back, Rin. I am Seraphina."


def _system_prompt(llm) -> str:
    chats = [body for path, body, _headers in llm.requests if path == "/v1/chat/completions"]
    return chats[-1]["messages"][0]["content"]


def test_the_prompt_has_a_lorebook_entry_only_when_its_key_was_mentioned(
    auth_api_client, user, seraphina, llm
):
    """Keys match case-insensitively in the latest messages (the book's scan depth of 2);
    another persona's entries never reach the prompt."""
    other = PersonaProfile.objects.get(slug="luna")
    LorebookEntry.objects.create(persona=other, keys=["forest"], content="LUNA'S SECRET LORE")

    first = auth_api_client.post(SEND, {"message": "Hi there.", "persona": seraphina.pk})
    assert first.status_code == 201, first.json()
    system = _system_prompt(llm)
    assert "You are Seraphina; never speak for" in system
    assert "{{char}}" not in system and "{{user}}" not in system
    assert "ancient forest" not in system and "found" not in system

    conversation = first.json()["conversation"]
    payload = {"message": "Tell me about ELDORIA.", "persona": seraphina.pk}
    assert auth_api_client.post(SEND, {**payload, "conversation": conversation}).status_code == 201
    system = _system_prompt(llm)
    assert "Eldoria is an ancient forest that Seraphina has guarded for centuries." in system
    assert "The glade is where" not in system
    assert "LUNA'S SECRET LORE" not in system

    # Two user messages and a reply later the mention is past the scan depth.
    for text in ("Nice weather.", "What's for dinner?"):
        response = auth_api_client.post(
            SEND, {"message": text, "persona": seraphina.pk, "conversation": conversation}
        )
        assert response.status_code == 201
    assert "ancient forest" not in _system_prompt(llm)
