"""Speech engines: ElevenLabs through its SDK over real HTTP, and espeak-ng for real."""

import io
import socket
import wave

import mutagen
import pytest
from django.core.exceptions import ImproperlyConfigured
from mutagen.wave import WAVE

from mybella.providers.speech import (
    EspeakEngine,
    SpeechError,
    VoiceChoice,
    VoiceSettings,
    cloning_engine,
    get_engine,
    speech_available,
)
from mybella.providers.speech.elevenlabs import ElevenLabsEngine
from mybella.providers.speech.espeak import FEMALE_VARIANTS, MALE_VARIANTS, PRESET_VOICES
from mybella.tests.fakes.fake_elevenlabs import fake_mp3

RACHEL = VoiceChoice("default", "21m00Tcm4TlvDq8ikWAM")


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    """Return a silent mono 16-bit WAV lasting `seconds`: a voice sample to upload."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def last_request(fake, path_part: str):
    return next(r for r in reversed(fake.requests) if path_part in r[1])


# Choosing an engine ---------------------------------------------------------------------


def test_auto_choice_prefers_elevenlabs_then_espeak_then_none(settings, monkeypatch):
    """With SPEECH_ENGINE empty: a key means ElevenLabs, else espeak-ng if present, else none."""
    settings.SPEECH_ENGINE = ""
    settings.ELEVENLABS_API_KEY = "key"
    assert isinstance(get_engine(), ElevenLabsEngine)
    settings.ELEVENLABS_API_KEY = ""
    settings.ESPEAK_BINARY = "/bin/true"
    assert isinstance(get_engine(), EspeakEngine)
    settings.ESPEAK_BINARY = "/no/such/espeak-ng"
    assert get_engine() is None


def test_explicit_choice_wins(settings):
    """SPEECH_ENGINE names the engine; "none" turns speech off; nonsense is a config error."""
    settings.ELEVENLABS_API_KEY = "key"
    settings.SPEECH_ENGINE = "none"
    assert get_engine() is None
    settings.SPEECH_ENGINE = "espeak"
    settings.ESPEAK_BINARY = "/bin/true"
    assert isinstance(get_engine(), EspeakEngine)
    settings.SPEECH_ENGINE = "polly"
    with pytest.raises(ImproperlyConfigured):
        get_engine()


def test_speech_available_agrees_with_get_engine(settings):
    """Speech is available exactly when some engine would speak, without making one."""
    cases = [
        ("", "key", "/no/such/espeak-ng", True),
        ("", "", "/bin/true", True),
        ("", "", "/no/such/espeak-ng", False),
        ("espeak", "key", "/no/such/espeak-ng", False),
        ("elevenlabs", "", "/no/such/espeak-ng", True),
        ("none", "key", "/bin/true", False),
    ]
    for engine, key, binary, available in cases:
        settings.SPEECH_ENGINE, settings.ELEVENLABS_API_KEY = engine, key
        settings.ESPEAK_BINARY = binary
        assert speech_available() is available, (engine, key, binary)
        assert (get_engine() is not None) is available, (engine, key, binary)
    settings.SPEECH_ENGINE = "polly"
    with pytest.raises(ImproperlyConfigured):
        speech_available()


def test_cloning_needs_a_key(settings):
    """Only ElevenLabs clones, whatever engine speaks."""
    settings.ELEVENLABS_API_KEY = ""
    assert cloning_engine() is None
    settings.ELEVENLABS_API_KEY = "key"
    assert isinstance(cloning_engine(), ElevenLabsEngine)


# ElevenLabs over HTTP -------------------------------------------------------------------


def test_synthesize_sends_text_model_and_settings(fake_elevenlabs):
    """convert() posts the text, model and voice settings and returns the MP3 bytes."""
    shape = VoiceSettings(stability=0.3, similarity=0.9, style=0.2, speed=1.1, model_id="m1")
    audio = ElevenLabsEngine().synthesize("Hello there", RACHEL, shape)
    assert audio.content_type == "audio/mpeg"
    assert audio.content == fake_mp3("Hello there")
    assert mutagen.File(io.BytesIO(audio.content)) is not None
    method, path, query, body, headers = last_request(fake_elevenlabs, "text-to-speech")
    assert (method, path) == ("POST", "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM")
    assert query["output_format"] == "mp3_44100_128"
    assert headers["xi-api-key"] == "test-eleven-key"
    assert body["text"] == "Hello there"
    assert body["model_id"] == "m1"
    assert body["voice_settings"] == {
        "stability": 0.3,
        "similarity_boost": 0.9,
        "style": 0.2,
        "speed": 1.1,
        "use_speaker_boost": True,
    }


def test_stream_pulls_the_first_chunk_before_returning(fake_elevenlabs):
    """stream() has sent the request by the time it returns; the chunks add up to the audio."""
    content_type, chunks = ElevenLabsEngine().stream("Streaming words", RACHEL, VoiceSettings())
    assert fake_elevenlabs.counts["POST /v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream"] == 1
    assert content_type == "audio/mpeg"
    assert b"".join(chunks) == fake_mp3("Streaming words")


def test_stream_errors_raise_before_any_audio(fake_elevenlabs):
    """A failing stream raises SpeechError from stream() itself, not from the iterator."""
    fake_elevenlabs.fail_next("system_busy")
    with pytest.raises(SpeechError) as caught:
        ElevenLabsEngine().stream("Hi", RACHEL, VoiceSettings())
    assert caught.value.status_code == 429


def test_clone_uploads_name_and_sample_once(fake_elevenlabs):
    """ivc.create sends a multipart form with the name and the file; the id comes back."""
    sample = wav_bytes(11)
    voice_id = ElevenLabsEngine().clone("Bella's voice", sample, "sample.wav", "audio/wav")
    assert voice_id == "cloned0001"
    [(_, name, files)] = fake_elevenlabs.cloned
    assert name == "Bella's voice"
    assert files == [("sample.wav", sample, "audio/wav")]


def test_clone_is_not_retried_by_the_sdk(fake_elevenlabs):
    """The SDK's own retry (which drops the name) is off: one 429 is one request."""
    fake_elevenlabs.fail_next("too_many_concurrent_requests")
    with pytest.raises(SpeechError) as caught:
        ElevenLabsEngine().clone("V", wav_bytes(11), "sample.wav", "audio/wav")
    assert caught.value.retryable
    assert fake_elevenlabs.counts["POST /v1/voices/add"] == 1


def test_delete_voice_and_a_missing_one(fake_elevenlabs):
    """Deleting works; a voice already gone counts as deleted."""
    engine = ElevenLabsEngine()
    voice_id = engine.clone("V", wav_bytes(11), "sample.wav", "audio/wav")
    engine.delete_voice(voice_id)
    assert voice_id not in fake_elevenlabs.voices
    engine.delete_voice(voice_id)
    assert fake_elevenlabs.counts[f"DELETE /v1/voices/{voice_id}"] == 2


def test_list_voices_follows_the_pages(fake_elevenlabs, monkeypatch):
    """list_voices() pages through GET /v2/voices with next_page_token until has_more is off."""
    monkeypatch.setattr("mybella.providers.speech.elevenlabs.PAGE_SIZE", 2)
    fake_elevenlabs.add_voices(3)
    voices = list(ElevenLabsEngine().list_voices())
    assert len(voices) == len(fake_elevenlabs.voices) == 7
    assert len({v["voice_id"] for v in voices}) == 7
    assert fake_elevenlabs.counts["GET /v2/voices"] == 4
    tokens = [q.get("next_page_token") for m, p, q, *_ in fake_elevenlabs.requests]
    assert tokens == [None, "2", "4", "6"]
    first = voices[0]
    assert first["labels"] == {"gender": "female", "accent": "american"}
    assert first["category"] == "premade"
    assert first["preview_url"].startswith("https://")


@pytest.mark.parametrize(
    ("error", "status", "retry_after", "retryable", "words"),
    [
        ("invalid_api_key", 502, None, False, "rejected the API key"),
        ("quota_exceeded", 429, 3600, False, "quota"),
        ("too_many_concurrent_requests", 429, 5, True, "busy"),
        ("system_busy", 429, 5, True, "busy"),
        ("voice_not_found", 502, None, False, "doesn't know this voice"),
        ("unprocessable", 502, None, False, "too noisy"),
        ("server_error", 502, None, True, "had a problem"),
    ],
)
def test_errors_are_mapped(fake_elevenlabs, error, status, retry_after, retryable, words):
    """Each ElevenLabs error becomes a SpeechError with the status the API answers."""
    fake_elevenlabs.fail_next(error)
    with pytest.raises(SpeechError) as caught:
        ElevenLabsEngine().synthesize("Hi", RACHEL, VoiceSettings())
    assert caught.value.status_code == status
    assert caught.value.retry_after == retry_after
    assert caught.value.retryable is retryable
    assert words in caught.value.message
    assert fake_elevenlabs.tts_calls() == 1  # never retried by the SDK


def test_retry_after_header_is_passed_on(fake_elevenlabs):
    """A Retry-After from ElevenLabs becomes the hint."""
    fake_elevenlabs.fail_next("system_busy", headers={"Retry-After": "12"})
    with pytest.raises(SpeechError) as caught:
        ElevenLabsEngine().synthesize("Hi", RACHEL, VoiceSettings())
    assert caught.value.retry_after == 12


def test_a_wrong_key_is_rejected(fake_elevenlabs, settings):
    """The server's own 401 for a wrong key is the same 502."""
    settings.ELEVENLABS_API_KEY = "wrong"
    with pytest.raises(SpeechError, match="rejected the API key"):
        ElevenLabsEngine().synthesize("Hi", RACHEL, VoiceSettings())


def test_unknown_voice(fake_elevenlabs):
    """A voice ElevenLabs doesn't have is a 502 saying so."""
    with pytest.raises(SpeechError) as caught:
        ElevenLabsEngine().synthesize("Hi", VoiceChoice("preset", "nope"), VoiceSettings())
    assert (caught.value.status_code, caught.value.reason) == (502, "voice_not_found")


def test_a_stall_is_a_timeout(fake_elevenlabs, settings):
    """No answer within ELEVENLABS_TIMEOUT is a 504, for speech and for cloning."""
    settings.ELEVENLABS_TIMEOUT = 0.3
    fake_elevenlabs.stall_next(1.5)
    with pytest.raises(SpeechError) as caught:
        ElevenLabsEngine().synthesize("Hi", RACHEL, VoiceSettings())
    assert (caught.value.status_code, caught.value.retryable) == (504, True)
    fake_elevenlabs.stall_next(1.5)
    with pytest.raises(SpeechError) as caught:
        ElevenLabsEngine().clone("V", wav_bytes(11), "sample.wav", "audio/wav")
    assert caught.value.status_code == 504


def test_connection_refused(settings):
    """Nothing listening is a 504 too."""
    settings.ELEVENLABS_API_KEY = "key"
    settings.ELEVENLABS_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(SpeechError) as caught:
        ElevenLabsEngine().synthesize("Hi", RACHEL, VoiceSettings())
    assert caught.value.status_code == 504
    with pytest.raises(SpeechError):
        list(ElevenLabsEngine().list_voices())


# espeak-ng ------------------------------------------------------------------------------


def test_espeak_writes_a_wav_mutagen_reads(espeak):
    """espeak-ng speaks into a real WAV file of sensible length."""
    audio = EspeakEngine().synthesize(
        "--help me, I am a voice test.", VoiceChoice("preset", "x"), VoiceSettings()
    )
    assert audio.content_type == "audio/wav"
    assert audio.content[:4] == b"RIFF"
    wav = mutagen.File(io.BytesIO(audio.content))
    assert isinstance(wav, WAVE)
    assert 1 < wav.info.length < 10


def test_espeak_speed_changes_the_length(espeak):
    """A faster voice speed makes shorter audio."""
    engine, voice, text = EspeakEngine(), VoiceChoice("preset", "x"), "One two three four five six."
    slow = engine.synthesize(text, voice, VoiceSettings(speed=0.7))
    fast = engine.synthesize(text, voice, VoiceSettings(speed=1.2))
    assert WAVE(io.BytesIO(fast.content)).info.length < WAVE(io.BytesIO(slow.content)).info.length


@pytest.mark.parametrize(
    ("labels", "language", "variants"),
    [
        ({"gender": "female", "accent": "american"}, "en-us", FEMALE_VARIANTS),
        ({"gender": "male", "accent": "british"}, "en-gb", MALE_VARIANTS),
        ({}, "en-us", ("",)),
    ],
)
def test_espeak_variant_follows_the_labels(labels, language, variants):
    """A voice not among the classics: women get a female variant, men a male one; British
    accents en-gb."""
    spoken = EspeakEngine().voice(VoiceChoice("preset", "not-a-classic", labels=labels))
    base, _plus, variant = spoken.variant.partition("+")
    assert base == language
    assert variant in variants


def test_espeak_voices_with_the_same_labels_still_differ():
    """Two unknown voices of the same gender get different pitches or variants by their id."""
    labels = {"gender": "female", "accent": "american"}
    engine = EspeakEngine()
    spoken = {
        engine.voice_key(VoiceChoice("preset", f"voice-{i}", labels=labels)) for i in range(6)
    }
    assert len(spoken) > 1


def test_each_classic_preset_has_its_own_espeak_voice():
    """The nine presets speak with nine different espeak-ng arguments offline."""
    engine = EspeakEngine()
    arguments = {
        tuple(engine.arguments(VoiceChoice("preset", voice_id), VoiceSettings()))
        for voice_id in PRESET_VOICES
    }
    assert len(PRESET_VOICES) == 9
    assert len(arguments) == 9
    assert len({engine.voice_key(VoiceChoice("preset", v)) for v in PRESET_VOICES}) == 9


def test_espeak_arguments_carry_variant_pitch_and_speed():
    """`-v en-us+f3 -p 58 -s 165` style, and the persona's speed scales the pace."""
    engine = EspeakEngine()
    assert engine.arguments(RACHEL, VoiceSettings()) == ["-v", "en-us+f3", "-p", "58", "-s", "165"]
    assert engine.arguments(RACHEL, VoiceSettings(speed=1.2))[-1] == "198"


def test_the_presets_sound_different_offline(espeak):
    """Really spoken, the nine presets make nine different WAVs of the same line."""
    engine, text = EspeakEngine(), "Hello there."
    audio = {
        engine.synthesize(text, VoiceChoice("preset", voice_id), VoiceSettings()).content
        for voice_id in PRESET_VOICES
    }
    assert len(audio) == 9


def test_espeak_failure_is_a_speech_error(settings, tmp_path):
    """A broken espeak-ng binary is a 502, not a crash."""
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    settings.ESPEAK_BINARY = str(broken)
    with pytest.raises(SpeechError) as caught:
        EspeakEngine().synthesize("Hi", RACHEL, VoiceSettings())
    assert caught.value.status_code == 502
