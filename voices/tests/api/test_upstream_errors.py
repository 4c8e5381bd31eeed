"""ElevenLabs failing under the voices API: JSON with its status, Retry-After when known.

The views let SpeechError (an UpstreamError) through to the core API handler; these pin
the answer to the letter, whatever the client accepts.
"""

import pytest

from personas.tests.factories import PersonaFactory
from voices.models import CustomVoice, SpeechClip
from voices.tests.factories import CustomVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db

BUSY = "ElevenLabs is busy right now; try again in a few seconds."
QUOTA = "The ElevenLabs quota is used up; try again when it renews."


@pytest.mark.parametrize("accept", ["application/json", "audio/*"])
@pytest.mark.parametrize("stream", [False, True])
def test_speak_when_elevenlabs_is_busy(auth_api_client, user, fake_elevenlabs, accept, stream):
    persona = PersonaFactory(owner=user)
    fake_elevenlabs.fail_next("system_busy", headers={"Retry-After": "12"})
    response = auth_api_client.post(
        f"/api/v1/personas/{persona.pk}/speak/",
        {"text": "Hi", "stream": stream},
        format="json",
        HTTP_ACCEPT=accept,
    )
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "12"
    assert response.json() == {"detail": BUSY}
    assert not SpeechClip.objects.exists()


def test_preview_when_the_quota_is_used_up(auth_api_client, fake_elevenlabs):
    """Without a Retry-After from ElevenLabs, a used-up quota says to wait an hour."""
    preset = VoicePresetFactory(provider_voice_id="premade0001")
    fake_elevenlabs.fail_next("quota_exceeded")
    response = auth_api_client.get(
        f"/api/v1/voices/presets/{preset.pk}/preview/", HTTP_ACCEPT="audio/*"
    )
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "3600"
    assert response.json() == {"detail": QUOTA}


def test_delete_when_elevenlabs_fails_is_204(
    auth_api_client, user, fake_elevenlabs, django_capture_on_commit_callbacks
):
    """Deleting a voice never fails because of ElevenLabs: its copy there is retried later."""
    voice = CustomVoiceFactory(owner=user, provider_voice_id="premade0000")
    fake_elevenlabs.fail_next("server_error", times=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api_client.delete(f"/api/v1/voices/custom/{voice.pk}/")
    assert response.status_code == 204
    assert not CustomVoice.objects.filter(pk=voice.pk).exists()
