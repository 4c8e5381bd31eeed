"""GET /api/v1/chat/messages/{id}/audio/: a reply spoken in its persona's voice."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from chat.models import ChatMessage
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from personas.tests.factories import PersonaFactory
from voices.models import SpeechClip
from voices.services import NOT_A_REPLY
from voices.tests.factories import PersonaVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db
Role, Status = ChatMessage.Role, ChatMessage.Status


def audio_url(message) -> str:
    return f"/api/v1/chat/messages/{message.pk}/audio/"


def reply_of(user, content="Hello there. How are you?", **kwargs) -> ChatMessage:
    conversation = ConversationFactory(
        user=user, persona=kwargs.pop("persona", None) or PersonaFactory(owner=user)
    )
    return ChatMessageFactory(
        conversation=conversation, content=content, **{"role": Role.ASSISTANT, **kwargs}
    )


def test_a_reply_is_spoken_in_its_personas_voice_and_cached(auth_api_client, user, fake_elevenlabs):
    preset = VoicePresetFactory(provider_voice_id="premade0001")
    persona = PersonaVoiceFactory(persona=PersonaFactory(owner=user), preset=preset).persona
    message = reply_of(user, "Hello there. How are you?", persona=persona)
    first = auth_api_client.get(audio_url(message), HTTP_ACCEPT="audio/*")
    assert first.status_code == 200
    assert (first["Content-Type"], first["X-Speech-Cache"]) == ("audio/mpeg", "miss")
    _, path, _, body, _ = fake_elevenlabs.requests[-1]
    assert (path, body["text"]) == ("/v1/text-to-speech/premade0001", "Hello there. How are you?")
    second = auth_api_client.get(audio_url(message))
    assert (second.status_code, second["X-Speech-Cache"]) == (200, "hit")
    assert b"".join(second.streaming_content) == b"".join(first.streaming_content)
    assert fake_elevenlabs.tts_calls() == 1
    assert SpeechClip.objects.get().owner == user


def test_another_users_message_is_404(auth_api_client, other_user, fake_elevenlabs):
    message = reply_of(other_user)
    response = auth_api_client.get(audio_url(message))
    assert response.status_code == 404
    assert fake_elevenlabs.tts_calls() == 0


def test_anonymous_is_refused(user, fake_elevenlabs):
    assert APIClient().get(audio_url(reply_of(user))).status_code in (401, 403)


@pytest.mark.parametrize(
    ("role", "status", "content"),
    [
        (Role.USER, Status.OK, "My own words."),
        (Role.ASSISTANT, Status.PENDING, "Half a"),
        (Role.ASSISTANT, Status.FAILED, ""),
        (Role.ASSISTANT, Status.OK, "   "),
    ],
)
def test_only_written_replies_are_spoken(
    auth_api_client, user, fake_elevenlabs, role, status, content
):
    message = reply_of(user, content, role=role, status=status)
    response = auth_api_client.get(audio_url(message))
    assert response.status_code == 400
    assert NOT_A_REPLY in str(response.json())
    assert fake_elevenlabs.tts_calls() == 0


def test_a_long_reply_is_cut_after_a_whole_sentence(
    auth_api_client, user, settings, fake_elevenlabs
):
    settings.SPEECH_MAX_CHARS = 30
    message = reply_of(user, "*Smiles* One sentence. Another one here. And a third.")
    assert auth_api_client.get(audio_url(message)).status_code == 200
    assert fake_elevenlabs.requests[-1][3]["text"] == "Smiles One sentence."


def test_without_an_engine_it_is_503(auth_api_client, user):
    response = auth_api_client.get(audio_url(reply_of(user)), HTTP_ACCEPT="audio/*")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"


def test_message_audio_is_throttled_as_speech(auth_api_client, user, fake_elevenlabs, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "speech", "2/min")
    message = reply_of(user)
    codes = [auth_api_client.get(audio_url(message)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_espeak_speaks_a_system_personas_reply(auth_api_client, user, espeak):
    message = ChatMessageFactory(
        conversation=ConversationFactory(user=user), role=Role.ASSISTANT, content="Hi. Bye."
    )
    response = auth_api_client.get(audio_url(message))
    assert (response.status_code, response["Content-Type"]) == (200, "audio/wav")
