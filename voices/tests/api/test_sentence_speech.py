"""Speaking a streamed reply sentence by sentence: POST /api/v1/personas/{id}/speak/sentence/."""

import json

import pytest
from rest_framework.throttling import ScopedRateThrottle

from mybella.core.sentences import MAX_SENTENCE_CHARS
from mybella.tests.fakes.fake_elevenlabs import fake_mp3
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from voices.models import SpeechClip

pytestmark = pytest.mark.django_db

SEND = "/api/v1/chat/messages/"


def sentence_url(persona: PersonaProfile) -> str:
    return f"/api/v1/personas/{persona.pk}/speak/sentence/"


def speak_url(persona: PersonaProfile) -> str:
    return f"/api/v1/personas/{persona.pk}/speak/"


def test_the_first_audio_arrives_before_the_whole_is_made(auth_api_client, user, fake_elevenlabs):
    """ElevenLabs streams: the first chunk reaches the client while the rest is held back at
    ElevenLabs; the whole is cached once it has all gone out."""
    persona = PersonaFactory(owner=user)
    text = "This sentence is long enough to be synthesized in several chunks, " * 3
    text = text.strip()[:MAX_SENTENCE_CHARS]
    fake_elevenlabs.hold_stream()
    response = auth_api_client.post(sentence_url(persona), {"text": text}, format="json")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "audio/mpeg"
    assert response["X-Speech-Cache"] == "miss"
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first
    # Only the first chunk has left ElevenLabs: the audio is not whole yet.
    assert (fake_elevenlabs.chunks_sent, fake_elevenlabs.streams_finished) == (1, 0)
    assert not SpeechClip.objects.exists()
    fake_elevenlabs.release_stream()
    audio = first + b"".join(chunks)
    assert audio == fake_mp3(text)
    assert fake_elevenlabs.chunks_sent > 1
    assert fake_elevenlabs.counts["POST /v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream"] == 1
    clip = SpeechClip.objects.get()
    assert (clip.owner, clip.size) == (user, len(audio))
    again = auth_api_client.post(sentence_url(persona), {"text": text}, format="json")
    assert again["X-Speech-Cache"] == "hit"
    assert b"".join(again.streaming_content) == audio
    assert fake_elevenlabs.tts_calls() == 1


def test_a_sentence_with_espeak(auth_api_client, espeak):
    isabella = PersonaProfile.objects.get(slug="isabella")
    response = auth_api_client.post(sentence_url(isabella), {"text": "Hello!"}, format="json")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert b"".join(response.streaming_content).startswith(b"RIFF")


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "text"), ({"text": "  "}, "text"), ({"text": "x" * (MAX_SENTENCE_CHARS + 1)}, "text")],
)
def test_bad_sentences_are_a_400(auth_api_client, user, fake_elevenlabs, payload, field):
    persona = PersonaFactory(owner=user)
    response = auth_api_client.post(sentence_url(persona), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert fake_elevenlabs.tts_calls() == 0


def test_another_users_persona_is_a_404(auth_api_client, other_user, fake_elevenlabs):
    persona = PersonaFactory(owner=other_user)
    response = auth_api_client.post(sentence_url(persona), {"text": "Hi."}, format="json")
    assert response.status_code == 404
    assert fake_elevenlabs.tts_calls() == 0


def test_a_failure_before_the_audio_is_json(auth_api_client, user, fake_elevenlabs):
    persona = PersonaFactory(owner=user)
    fake_elevenlabs.fail_next("quota_exceeded")
    response = auth_api_client.post(sentence_url(persona), {"text": "Hi."}, format="json")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    assert not SpeechClip.objects.exists()


def test_without_an_engine_it_is_a_503(auth_api_client):
    isabella = PersonaProfile.objects.get(slug="isabella")
    response = auth_api_client.post(sentence_url(isabella), {"text": "Hi."}, format="json")
    assert response.status_code == 503
    assert "browser's voice" in response.json()["detail"]


def test_a_long_reply_spoken_by_sentence_leaves_speak_its_rate(
    auth_api_client, user, espeak, fake_llm, monkeypatch
):
    """Sentences have their own rate (THROTTLE_SPEECH_SENTENCES): speaking every sentence of
    a reply uses none of `speak`'s (THROTTLE_SPEECH), and theirs runs out on its own."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "speech", "2/min")
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "speech_sentence", "6/min")
    fake_llm.reply_text = "One. Two is here. Three is here. Four is here. Five is the end."
    persona = PersonaFactory(owner=user)
    stream = auth_api_client.post(
        SEND, {"message": "Tell me a story", "persona": persona.pk, "stream": True}, format="json"
    )
    body = b"".join(stream.streaming_content).decode()
    sentences = [
        block.split("data: ", 1)[1]
        for block in body.split("\n\n")
        if block.startswith("event: sentence")
    ]
    assert len(sentences) == 5
    codes = [
        auth_api_client.post(
            sentence_url(persona), {"text": json.loads(data)["text"]}, format="json"
        ).status_code
        for data in sentences
    ]
    assert codes == [200] * len(sentences)
    spoken = auth_api_client.post(speak_url(persona), {"text": "Hi"}, format="json")
    assert spoken.status_code == 200
    extra = [
        auth_api_client.post(sentence_url(persona), {"text": f"More {n}."}, format="json")
        for n in range(6 - len(sentences) + 1)
    ]
    assert extra[-1].status_code == 429
    assert all(r.status_code == 200 for r in extra[:-1])
