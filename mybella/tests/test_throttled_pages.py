"""Every page that uploads, imports, downloads a card or asks a model counts in its API scope.

Each test gives the scope a budget of one, spends it (through the API twin where there is
one, so the count is shown to be shared), and checks that the page's next request answers
429 with Retry-After and changes nothing.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.throttling import ScopedRateThrottle

from chat.models import ChatMessage, Conversation
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from memory.models import ConversationMemory
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes
from voices.models import CustomVoice
from voices.tests.audio_files import wav_bytes
from voices.tests.factories import CustomVoiceFactory

pytestmark = pytest.mark.django_db

CARD = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Carded"}}


@pytest.fixture
def budget_of_one(monkeypatch):
    """Give the named scopes one use a minute."""

    def set_budget(*scopes: str) -> None:
        for scope in scopes:
            monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, scope, "1/min")

    return set_budget


def _refused(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Try again in" in response.content.decode()


def _persona_form(name: str, avatar: bool) -> dict:
    data = {
        "name": name,
        "tagline": "Stargazer",
        "bio": "Loves telescopes.",
        "traits": "curious",
        "communication_style": "playful",
        "greeting": "Look up!",
    }
    if avatar:
        data["avatar"] = SimpleUploadedFile("me.png", image_bytes("PNG", (64, 64)))
    return data


def test_creating_a_persona_with_an_avatar_counts_as_an_upload(signed_in, user, budget_of_one):
    budget_of_one("uploads")
    create = reverse("personas:create")
    assert signed_in.post(create, _persona_form("Nova", avatar=True)).status_code == 302
    _refused(signed_in.post(create, _persona_form("Luna", avatar=True)))
    assert not PersonaProfile.objects.filter(owner=user, name="Luna").exists()
    # Without a file it is no upload: still allowed.
    assert signed_in.post(create, _persona_form("Mira", avatar=False)).status_code == 302


def test_editing_a_persona_with_an_avatar_counts_as_an_upload(
    signed_in, user, auth_api_client, budget_of_one
):
    budget_of_one("uploads")
    persona = PersonaFactory(owner=user, name="Nova")
    assert auth_api_client.post("/api/v1/personas/import/", CARD, format="json").status_code == 201
    edit = reverse("personas:edit", args=[persona.pk])
    _refused(signed_in.post(edit, _persona_form("Renamed", avatar=True)))
    persona.refresh_from_db()
    assert (persona.name, persona.avatar.name or "") == ("Nova", "")
    assert signed_in.post(edit, _persona_form("Renamed", avatar=False)).status_code == 302


def test_importing_a_card_on_the_page_counts_as_an_upload(
    signed_in, user, auth_api_client, budget_of_one
):
    budget_of_one("uploads")
    assert auth_api_client.post("/api/v1/personas/import/", CARD, format="json").status_code == 201
    upload = SimpleUploadedFile("c.json", json.dumps(CARD).encode())
    _refused(signed_in.post(reverse("personas:import"), {"card": upload}))
    assert PersonaProfile.objects.filter(owner=user, name="Carded").count() == 1


def test_card_downloads_count_as_uploads_on_the_page_and_the_api(
    signed_in, user, auth_api_client, budget_of_one
):
    budget_of_one("uploads")
    persona = PersonaFactory(owner=user, name="Nova")
    card = f"/api/v1/personas/{persona.pk}/card/"
    assert auth_api_client.get(card, {"format": "png"}).status_code == 200
    assert auth_api_client.get(card, {"format": "png"}).status_code == 429
    _refused(signed_in.get(reverse("personas:export", args=[persona.pk]), {"format": "png"}))


def test_uploading_a_voice_sample_on_the_page_counts_as_an_upload(signed_in, user, budget_of_one):
    budget_of_one("uploads")
    upload = reverse("voices:upload")
    refused = SimpleUploadedFile("notes.wav", b"just text\n" * 200, content_type="audio/wav")
    assert signed_in.post(upload, {"name": "Bad", "sample": refused}).status_code == 400
    sample = SimpleUploadedFile("me.wav", wav_bytes(12), content_type="audio/wav")
    _refused(signed_in.post(upload, {"name": "Me", "sample": sample}))
    assert not CustomVoice.objects.filter(owner=user).exists()


def test_retrying_a_voice_on_the_page_counts_as_an_upload(
    signed_in, user, budget_of_one, fake_elevenlabs, django_capture_on_commit_callbacks
):
    budget_of_one("uploads")
    first, second = (
        CustomVoiceFactory(owner=user, provider_voice_id="", status="failed", error="x")
        for _ in range(2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_in.post(reverse("voices:retry", args=[first.pk])).status_code == 302
        _refused(signed_in.post(reverse("voices:retry", args=[second.pk])))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (CustomVoice.Status.READY, CustomVoice.Status.FAILED)


def _failed_reply(conversation) -> ChatMessage:
    asked = ChatMessageFactory(conversation=conversation, content="tell me about tides")
    return ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content="",
        status=ChatMessage.Status.FAILED,
        error="The model server had a problem.",
        reply_to=asked,
    )


def test_retrying_a_reply_on_the_page_counts_as_a_chat_message(signed_in, user, budget_of_one):
    budget_of_one("chat")
    conversation = ConversationFactory(user=user)
    first, second = _failed_reply(conversation), _failed_reply(conversation)
    assert signed_in.post(reverse("chat:message-retry", args=[first.pk])).status_code == 200
    _refused(signed_in.post(reverse("chat:message-retry", args=[second.pk])))
    second.refresh_from_db()
    assert (second.status, second.content) == (ChatMessage.Status.FAILED, "")


def test_starting_conversations_is_throttled(user, auth_api_client, budget_of_one):
    budget_of_one("conversations")
    persona = PersonaProfile.objects.get(slug="isabella")
    url = f"/api/v1/personas/{persona.pk}/conversations/"
    assert auth_api_client.post(url, {}, format="json").status_code == 201
    response = auth_api_client.post(url, {}, format="json")
    assert response.status_code == 429
    assert "Retry-After" in response
    assert Conversation.objects.filter(user=user).count() == 1
    assert auth_api_client.get(url).status_code == 200  # listing is not counted


def test_adding_memories_is_throttled_on_the_page_and_the_api(
    signed_in, user, auth_api_client, budget_of_one
):
    budget_of_one("memory")
    persona = PersonaProfile.objects.get(slug="isabella")
    memory = {"content": "Allergic to peanuts", "kind": "fact", "importance": 5}
    url = f"/api/v1/personas/{persona.pk}/memories/"
    assert auth_api_client.post(url, memory, format="json").status_code == 201
    assert auth_api_client.post(url, memory, format="json").status_code == 429
    _refused(signed_in.post(reverse("memory:add", args=[persona.pk]), memory))
    assert ConversationMemory.objects.filter(user=user).count() == 1
    assert auth_api_client.get(url).status_code == 200  # listing is not counted


def test_changing_memories_counts_in_the_same_scope(
    signed_in, user, auth_api_client, budget_of_one
):
    """A changed content is embedded again: the edits count like the additions."""
    budget_of_one("memory")
    persona = PersonaProfile.objects.get(slug="isabella")
    memory = ConversationMemory.objects.create(user=user, persona=persona, content="Has a cat")
    detail = f"/api/v1/memories/{memory.pk}/"
    assert auth_api_client.patch(detail, {"content": "Has two cats"}).status_code == 200
    assert auth_api_client.patch(detail, {"content": "Has three cats"}).status_code == 429
    changed = {"content": "Has a dog", "kind": "fact", "importance": 5}
    _refused(signed_in.post(reverse("memory:edit", args=[memory.pk]), changed))
    memory.refresh_from_db()
    assert memory.content == "Has two cats"
    assert auth_api_client.get(detail).status_code == 200


def test_searches_are_throttled_on_the_page_and_the_api(
    signed_in, user, auth_api_client, budget_of_one
):
    """A search reads the full-text index: memory searches and conversation searches add up."""
    budget_of_one("search")
    persona = PersonaProfile.objects.get(slug="isabella")
    search = f"/api/v1/personas/{persona.pk}/memories/search/"
    assert auth_api_client.get(search, {"q": "Lisbon"}).status_code == 200
    assert auth_api_client.get(search, {"q": "Lisbon"}).status_code == 429
    page = reverse("chat:conversation-list")
    _refused(signed_in.get(page, {"persona": persona.pk, "q": "Lisbon"}))
    _refused(signed_in.get(reverse("chat:page"), {"persona": persona.pk, "q": "Lisbon"}))
    # The list itself, without a search, is not counted.
    assert signed_in.get(page, {"persona": persona.pk}).status_code == 200
