"""The voices API: presets, cloned voices, a persona's voice and speech."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from voices.models import CustomVoice, PersonaVoice, SpeechClip
from voices.services import NO_ENGINE
from voices.tests.audio_files import encoded, wav_bytes
from voices.tests.factories import CustomVoiceFactory, PersonaVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db
Status = CustomVoice.Status
PRESETS = "/api/v1/voices/presets/"
CUSTOM = "/api/v1/voices/custom/"


def media_files(settings) -> list[str]:
    """Return the files stored for the test, public and private."""
    roots = [Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT)]
    return [str(p) for root in roots for p in root.rglob("*") if p.is_file()]


def speak_url(persona) -> str:
    return f"/api/v1/personas/{persona.pk}/speak/"


def voice_url(persona) -> str:
    return f"/api/v1/personas/{persona.pk}/voice/"


def audio_of(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def client_for():
    def _client(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _client


@pytest.fixture
def post_sample(auth_api_client, django_capture_on_commit_callbacks):
    def _post(data: bytes, filename: str = "voice.wav", name: str = "My voice"):
        with django_capture_on_commit_callbacks(execute=True):
            return auth_api_client.post(
                CUSTOM,
                {"name": name, "sample": SimpleUploadedFile(filename, data)},
                format="multipart",
            )

    return _post


# Presets --------------------------------------------------------------------------------


def test_presets_list_with_filters(auth_api_client, django_assert_max_num_queries):
    VoicePresetFactory(name="Retired", is_active=False)
    for i in range(10):
        VoicePresetFactory(name=f"Extra {i}")
    with django_assert_max_num_queries(2):
        response = auth_api_client.get(PRESETS, {"page_size": 100})
    assert response.status_code == 200
    names = [p["name"] for p in response.json()["results"]]
    assert "Retired" not in names and "Bella" in names and len(names) == 19
    bella = next(p for p in response.json()["results"] if p["name"] == "Bella")
    assert set(bella) == {
        "id",
        "name",
        "provider",
        "voice_id",
        "description",
        "labels",
        "preview_url",
        "is_legacy",
    }
    assert (bella["provider"], bella["voice_id"]) == ("elevenlabs", "EXAVITQu4vr4xnSDxMaL")
    women = auth_api_client.get(PRESETS, {"gender": "female", "page_size": 100}).json()
    assert {p["name"] for p in women["results"]} == {"Rachel", "Bella", "Elli", "Domi"}
    assert auth_api_client.get(PRESETS, {"search": "dom"}).json()["count"] == 1


def test_presets_refuse_a_gender_they_do_not_know(auth_api_client):
    """An unknown gender is a 400 naming the choices, as an unknown persona kind is."""
    response = auth_api_client.get(PRESETS, {"gender": "bogus"})
    assert response.status_code == 400
    assert response.json() == {
        "gender": ["Select a valid choice. bogus is not one of the available choices."]
    }
    VoicePresetFactory(name="Quokka", labels={"gender": "neutral"})
    neutral = auth_api_client.get(PRESETS, {"gender": "neutral"})
    assert [p["name"] for p in neutral.json()["results"]] == ["Quokka"]


@pytest.mark.parametrize("value", ["bogus", "1", "yes", ""])
def test_presets_refuse_a_legacy_value_other_than_true_or_false(auth_api_client, value):
    """`?legacy=` filters by true or false; another word is a 400, not every preset."""
    response = auth_api_client.get(PRESETS, {"legacy": value})
    if value == "":
        assert response.status_code == 200  # an empty parameter filters nothing, as gender's
        return
    assert response.status_code == 400
    assert "legacy" in response.json()


def test_presets_filter_by_legacy(auth_api_client):
    VoicePresetFactory(name="Oldie", is_legacy=True)
    VoicePresetFactory(name="Newbie", is_legacy=False)
    legacy = auth_api_client.get(PRESETS, {"legacy": "true", "search": "ie"}).json()["results"]
    current = auth_api_client.get(PRESETS, {"legacy": "false", "search": "ie"}).json()["results"]
    assert [p["name"] for p in legacy] == ["Oldie"]
    assert [p["name"] for p in current] == ["Newbie"]


def test_presets_need_a_login(api_client):
    assert api_client.get(PRESETS).status_code in (401, 403)


def test_preview_with_espeak_is_cached(auth_api_client, espeak):
    bella = PersonaProfile.objects.get(slug="isabella").voice.preset
    first = auth_api_client.get(f"{PRESETS}{bella.pk}/preview/", HTTP_ACCEPT="audio/*")
    assert first.status_code == 200
    assert first["Content-Type"] == "audio/wav"
    assert (first["X-Speech-Cache"], first["X-Speech-Engine"]) == ("miss", "espeak")
    assert audio_of(first)[:4] == b"RIFF"
    second = auth_api_client.get(f"{PRESETS}{bella.pk}/preview/")
    assert second["X-Speech-Cache"] == "hit"


def test_preview_with_elevenlabs_uses_the_preset_voice(auth_api_client, fake_elevenlabs):
    preset = VoicePresetFactory(provider_voice_id="premade0001")
    response = auth_api_client.get(f"{PRESETS}{preset.pk}/preview/")
    assert response.status_code == 200 and response["Content-Type"] == "audio/mpeg"
    assert fake_elevenlabs.counts["POST /v1/text-to-speech/premade0001"] == 1


def test_preview_of_an_inactive_preset_is_404(auth_api_client, espeak):
    preset = VoicePresetFactory(is_active=False)
    assert auth_api_client.get(f"{PRESETS}{preset.pk}/preview/").status_code == 404


def test_preview_without_an_engine_is_503_json(auth_api_client):
    bella = PersonaProfile.objects.get(slug="isabella").voice.preset
    response = auth_api_client.get(f"{PRESETS}{bella.pk}/preview/", HTTP_ACCEPT="audio/mpeg")
    assert response.status_code == 503
    assert response.json() == {"detail": NO_ENGINE}


# Cloned voices --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "filename"),
    [("wav", "a.wav"), ("mp3", "a.mp3"), ("ogg", "a.ogg"), ("flac", "a.flac"), ("m4a", "a.m4a")],
)
def test_upload_each_format(post_sample, fake_elevenlabs, user, fmt, filename):
    response = post_sample(encoded(fmt), filename)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["format"], body["error"]) == ("pending", fmt, "")
    assert body["sample_url"].endswith(f"/api/v1/voices/custom/{body['id']}/sample/")
    voice = CustomVoice.objects.get()  # cloned once the upload's transaction committed
    assert (voice.owner, voice.status, voice.provider_voice_id) == (user, "ready", "cloned0001")


def test_upload_without_a_key_waits_for_one(post_sample, queued_tasks):
    """No key: the voice is kept as waiting, not failed, and nothing is queued."""
    response = post_sample(wav_bytes(12))
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["error"]) == ("waiting", "")
    voice = CustomVoice.objects.get()
    assert (voice.status, voice.error) == ("waiting", "")
    assert queued_tasks("voices.tasks.clone_custom_voice") == []


def test_retry_without_a_key_is_refused(client_for, user):
    """A failed voice can't be retried where retrying can't work: a 400 saying why."""
    voice = CustomVoiceFactory(owner=user, status="failed", provider_voice_id="", error="x")
    response = client_for(user).post(f"/api/v1/voices/custom/{voice.pk}/retry/")
    assert response.status_code == 400
    assert "needs an ElevenLabs API key" in str(response.json())
    voice.refresh_from_db()
    assert (voice.status, voice.error) == ("failed", "x")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"hello, this is text\n" * 50, "notes.mp3", "not an audio file we can read"),
        (wav_bytes(12)[:-1000], "voice.wav", "cut off"),
        (b"", "voice.wav", "The file is empty."),
        (wav_bytes(4), "voice.wav", "The sample is 4 seconds long; it needs at least 10."),
        (wav_bytes(12), "voice.mp3", "The file says .mp3 but it is a WAV file."),
        (wav_bytes(12) + b"<?php system($_GET['c']); ?>", "voice.wav", "something other"),
    ],
)
def test_refused_uploads_are_400_and_store_nothing(post_sample, settings, data, filename, message):
    response = post_sample(data, filename)
    assert response.status_code == 400
    assert message in response.json()["sample"][0]
    assert media_files(settings) == []
    assert not CustomVoice.objects.exists()


def test_too_long_and_too_large(post_sample, settings):
    settings.VOICE_SAMPLE_MAX_SECONDS = 15
    response = post_sample(wav_bytes(16))
    assert "it can be at most 15" in response.json()["sample"][0]
    settings.VOICE_SAMPLE_MAX_BYTES = 100_000
    response = post_sample(wav_bytes(12))
    assert response.status_code == 400
    assert "larger than" in response.json()["sample"][0]
    assert media_files(settings) == [] and not CustomVoice.objects.exists()


def test_missing_fields_and_duplicate_names(post_sample, auth_api_client):
    assert auth_api_client.post(CUSTOM, {"name": "x"}, format="multipart").status_code == 400
    assert post_sample(wav_bytes(12), name="Mine").status_code == 201
    response = post_sample(wav_bytes(12), name="MINE")
    assert response.status_code == 400
    assert "already have a voice named" in response.json()["name"][0]


def test_list_is_mine_only(auth_api_client, user, other_user, django_assert_max_num_queries):
    for _ in range(4):
        CustomVoiceFactory(owner=user)
    theirs = CustomVoiceFactory(owner=other_user)
    with django_assert_max_num_queries(2):
        response = auth_api_client.get(CUSTOM)
    ids = [v["id"] for v in response.json()["results"]]
    assert len(ids) == 4 and theirs.pk not in ids


def test_someone_elses_voice_is_404_everywhere(auth_api_client, other_user, settings):
    theirs = CustomVoiceFactory(owner=other_user, status=Status.FAILED, provider_voice_id="")
    base = f"{CUSTOM}{theirs.pk}/"
    assert auth_api_client.get(base).status_code == 404
    assert auth_api_client.get(f"{base}sample/").status_code == 404
    assert auth_api_client.post(f"{base}retry/").status_code == 404
    assert auth_api_client.delete(base).status_code == 404
    assert CustomVoice.objects.filter(pk=theirs.pk).exists()


def test_sample_download_headers(auth_api_client, user):
    data = encoded("wav")
    voice = CustomVoiceFactory(owner=user, name="Grandma's Voice")
    voice.sample.save("x.wav", SimpleUploadedFile("x.wav", data))
    response = auth_api_client.get(f"{CUSTOM}{voice.pk}/sample/", HTTP_ACCEPT="audio/wav")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="grandmas-voice-sample.wav"'
    assert audio_of(response) == data


def test_retry_and_delete(
    auth_api_client, user, fake_elevenlabs, django_capture_on_commit_callbacks
):
    voice = CustomVoiceFactory(owner=user, status=Status.FAILED, provider_voice_id="")
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api_client.post(f"{CUSTOM}{voice.pk}/retry/")
    assert (response.status_code, response.json()["status"]) == (200, "pending")
    voice.refresh_from_db()
    assert voice.status == "ready"
    assert auth_api_client.post(f"{CUSTOM}{voice.pk}/retry/").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_api_client.delete(f"{CUSTOM}{voice.pk}/").status_code == 204
    assert fake_elevenlabs.counts["DELETE /v1/voices/cloned0001"] == 1


def test_delete_while_elevenlabs_times_out_is_204(
    auth_api_client, user, fake_elevenlabs, settings, django_capture_on_commit_callbacks
):
    """D10: the voice goes here whatever ElevenLabs does; its copy there is deleted later."""
    voice = CustomVoiceFactory(owner=user, provider_voice_id="premade0000")
    settings.ELEVENLABS_TIMEOUT = 0.3
    fake_elevenlabs.stall_next(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api_client.delete(f"{CUSTOM}{voice.pk}/")
    assert response.status_code == 204
    assert not CustomVoice.objects.filter(pk=voice.pk).exists()
    # The immediate task backend of the tests ran the deletion and its retry at once.
    assert fake_elevenlabs.counts["DELETE /v1/voices/premade0000"] == 2
    assert "premade0000" not in fake_elevenlabs.voices


# A persona's voice ----------------------------------------------------------------------


def test_get_and_put_a_personas_voice(auth_api_client, user):
    persona = PersonaFactory(owner=user)
    preset = VoicePresetFactory()
    clone = CustomVoiceFactory(owner=user, status=Status.PENDING, provider_voice_id="")
    response = auth_api_client.put(
        voice_url(persona),
        {"voice_preset": preset.pk, "custom_voice": clone.pk, "stability": 0.2, "speed": 1.1},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["voice_preset"], body["custom_voice"], body["stability"], body["speed"]) == (
        preset.pk,
        clone.pk,
        0.2,
        1.1,
    )
    # The clone isn't ready: the persona speaks with its preset meanwhile.
    assert body["speaking_with"] == {"kind": "preset", "name": preset.name}
    CustomVoice.objects.filter(pk=clone.pk).update(status=Status.READY, provider_voice_id="c1")
    body = auth_api_client.get(voice_url(persona)).json()
    assert body["speaking_with"] == {"kind": "custom", "name": clone.name}


def test_put_someone_elses_clone_is_404(auth_api_client, user, other_user):
    persona = PersonaFactory(owner=user)
    theirs = CustomVoiceFactory(owner=other_user)
    response = auth_api_client.put(voice_url(persona), {"custom_voice": theirs.pk}, format="json")
    assert response.status_code == 404
    assert not PersonaVoice.objects.filter(persona=persona).exists()


def test_put_a_failed_clone_is_400(auth_api_client, user):
    """Like the page, the API refuses a voice whose cloning failed (it used to take one)."""
    persona = PersonaFactory(owner=user)
    failed = CustomVoiceFactory(owner=user, status=Status.FAILED, provider_voice_id="")
    response = auth_api_client.put(voice_url(persona), {"custom_voice": failed.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"custom_voice": ["This voice failed to clone; try it again first."]}
    assert not PersonaVoice.objects.filter(persona=persona).exists()


def test_persona_voice_queries(auth_api_client, user, django_assert_max_num_queries):
    """The persona is read once, with its preset and cloned voice."""
    clone = CustomVoiceFactory(owner=user)
    persona = PersonaFactory(owner=user)
    PersonaVoiceFactory(persona=persona, preset=VoicePresetFactory(), custom_voice=clone)
    with django_assert_max_num_queries(1):
        assert auth_api_client.get(voice_url(persona)).status_code == 200
    # The persona, the cloned voice, then model_update validating the persona's constraints
    # (each in a savepoint) and the one UPDATE.
    with django_assert_max_num_queries(20):
        response = auth_api_client.put(
            voice_url(persona), {"custom_voice": clone.pk, "speed": 0.9}, format="json"
        )
    assert response.status_code == 200, response.json()


def test_put_on_someone_elses_persona_is_404(auth_api_client, other_user):
    theirs = PersonaFactory(owner=other_user)
    assert auth_api_client.put(voice_url(theirs), {"speed": 1.0}, format="json").status_code == 404
    assert auth_api_client.get(voice_url(theirs)).status_code == 404
    assert auth_api_client.post(speak_url(theirs), {}, format="json").status_code == 404


def test_system_personas_staff_only(auth_api_client, client_for, staff_user):
    isabella = PersonaProfile.objects.get(slug="isabella")
    assert (
        auth_api_client.put(voice_url(isabella), {"speed": 0.9}, format="json").status_code == 403
    )
    staff = client_for(staff_user)
    assert staff.put(voice_url(isabella), {"speed": 0.9}, format="json").status_code == 200
    clone = CustomVoiceFactory(owner=staff_user)
    response = staff.put(voice_url(isabella), {"custom_voice": clone.pk}, format="json")
    assert response.status_code == 400
    assert "Only a user's own persona" in response.json()["custom_voice"][0]


@pytest.mark.parametrize(
    "payload",
    [
        {"stability": 1.5},
        {"speed": 0.5},
        {"style": -0.1},
        {"model_id": "bad model!"},
        {"voice_preset": 999_999},
    ],
)
def test_put_validates(auth_api_client, user, payload):
    persona = PersonaFactory(owner=user)
    assert auth_api_client.put(voice_url(persona), payload, format="json").status_code == 400


# Speaking -------------------------------------------------------------------------------


def test_speak_with_elevenlabs_and_the_cache(auth_api_client, user, fake_elevenlabs):
    persona = PersonaFactory(owner=user, greeting="Hi, lovely to see you.")
    first = auth_api_client.post(speak_url(persona), {}, format="json")
    assert first.status_code == 200
    assert (first["Content-Type"], first["X-Speech-Cache"]) == ("audio/mpeg", "miss")
    audio = audio_of(first)
    _, path, _, body, _ = fake_elevenlabs.requests[-1]
    assert body["text"] == "Hi, lovely to see you."
    assert path == "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM"  # no preset: the default voice
    second = auth_api_client.post(speak_url(persona), {"text": ""}, format="json")
    assert (second["X-Speech-Cache"], audio_of(second)) == ("hit", audio)
    assert fake_elevenlabs.tts_calls() == 1
    other = auth_api_client.post(speak_url(persona), {"text": "Something else"}, format="json")
    assert other["X-Speech-Cache"] == "miss"
    assert fake_elevenlabs.tts_calls() == 2


def test_speak_streams_when_asked(auth_api_client, user, fake_elevenlabs):
    persona = PersonaFactory(owner=user)
    response = auth_api_client.post(
        speak_url(persona), {"text": "Stream me", "stream": True}, format="json"
    )
    assert response.status_code == 200 and response.streaming
    assert len(audio_of(response)) > 0
    assert fake_elevenlabs.counts["POST /v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream"] == 1
    assert SpeechClip.objects.count() == 1


def test_speak_with_a_ready_clone(auth_api_client, user, fake_elevenlabs):
    clone = CustomVoiceFactory(owner=user, provider_voice_id="premade0002")
    persona = PersonaVoiceFactory(persona=PersonaFactory(owner=user), custom_voice=clone).persona
    assert auth_api_client.post(speak_url(persona), {}, format="json").status_code == 200
    assert fake_elevenlabs.counts["POST /v1/text-to-speech/premade0002"] == 1


def test_speak_system_persona_with_espeak(auth_api_client, espeak):
    isabella = PersonaProfile.objects.get(slug="isabella")
    response = auth_api_client.post(speak_url(isabella), {"text": "Hello!"}, format="json")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"


def test_speak_without_an_engine_is_503(auth_api_client):
    isabella = PersonaProfile.objects.get(slug="isabella")
    response = auth_api_client.post(speak_url(isabella), {}, format="json")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "No speech engine is available on the server; the page will use your "
        "browser's voice."
    }


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        ("invalid_api_key", 502),
        ("quota_exceeded", 429),
        ("system_busy", 429),
        ("server_error", 502),
    ],
)
def test_speak_engine_failures_are_json(auth_api_client, user, fake_elevenlabs, failure, status):
    persona = PersonaFactory(owner=user)
    fake_elevenlabs.fail_next(failure)
    response = auth_api_client.post(speak_url(persona), {"text": "Hi"}, format="json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    if status == 429:
        assert int(response["Retry-After"]) > 0
    assert not SpeechClip.objects.exists()


def test_speak_stream_failure_before_audio_is_json(auth_api_client, user, fake_elevenlabs):
    persona = PersonaFactory(owner=user)
    fake_elevenlabs.fail_next("voice_not_found")
    response = auth_api_client.post(speak_url(persona), {"stream": True}, format="json")
    assert response.status_code == 502
    assert "doesn't know this voice" in response.json()["detail"]


def test_speak_text_limit(auth_api_client, user, settings, espeak):
    settings.SPEECH_MAX_CHARS = 10
    persona = PersonaFactory(owner=user)
    response = auth_api_client.post(speak_url(persona), {"text": "x" * 11}, format="json")
    assert response.status_code == 400
    assert "limited to 10 characters" in response.json()["text"][0]


def test_speak_is_throttled(auth_api_client, user, espeak, monkeypatch):
    """Speech has its own scoped rate ("speech", THROTTLE_SPEECH)."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "speech", "2/min")
    persona = PersonaFactory(owner=user)
    codes = [
        auth_api_client.post(speak_url(persona), {"text": "Hi"}, format="json").status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_only_the_greeting_is_shared_between_users(
    auth_api_client, client_for, other_user, fake_elevenlabs
):
    """Whether a text was cached would tell who said what, so users share greetings only."""
    fake_elevenlabs.voices["EXAVITQu4vr4xnSDxMaL"] = fake_elevenlabs.voices["premade0000"]
    isabella = PersonaProfile.objects.get(slug="isabella")
    bob = client_for(other_user)
    for client in (auth_api_client, bob):
        response = client.post(speak_url(isabella), {"text": "My secret"}, format="json")
        assert response["X-Speech-Cache"] == "miss"
    assert (
        auth_api_client.post(speak_url(isabella), {"text": "My secret"}, format="json")[
            "X-Speech-Cache"
        ]
        == "hit"
    )
    assert auth_api_client.post(speak_url(isabella), {}, format="json")["X-Speech-Cache"] == "miss"
    assert bob.post(speak_url(isabella), {}, format="json")["X-Speech-Cache"] == "hit"
    assert fake_elevenlabs.tts_calls() == 3


def test_a_stream_breaking_off_ends_the_audio_quietly():
    """Once audio has started, an engine failure can only end it early, never a 500."""
    from mybella.providers.speech import SpeechError
    from voices.api.views import _logged

    def broken():
        yield b"first"
        raise SpeechError("ElevenLabs had a problem; try again in a moment.", 502)

    assert list(_logged(broken())) == [b"first"]


def test_a_sample_larger_than_the_memory_limit_goes_through(post_sample, settings):
    """Samples over FILE_UPLOAD_MAX_MEMORY_SIZE arrive as temporary files; same checks."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100_000
    response = post_sample(wav_bytes(60))
    assert response.status_code == 201
    assert CustomVoice.objects.get().size == len(wav_bytes(60))
