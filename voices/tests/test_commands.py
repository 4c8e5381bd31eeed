"""manage.py sync_voices and trim_speech_cache."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from personas.tests.factories import PersonaFactory
from voices.models import SpeechClip, VoicePreset
from voices.services.speech import _store
from voices.tests.factories import CustomVoiceFactory, PersonaVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sync_without_a_key_says_so():
    assert "ELEVENLABS_API_KEY is not set" in run("sync_voices")


def test_sync_pages_through_the_voices(fake_elevenlabs, monkeypatch):
    """Every page is read; new voices become presets, known ones are updated."""
    monkeypatch.setattr("mybella.providers.speech.elevenlabs.PAGE_SIZE", 2)
    fake_elevenlabs.add_voices(4, labels={"gender": "male"})
    fake_elevenlabs.voices["21m00Tcm4TlvDq8ikWAM"]["description"] = "Rachel, renewed."
    before = VoicePreset.objects.count()
    output = run("sync_voices")
    assert fake_elevenlabs.counts["GET /v2/voices"] == 4  # 8 voices, 2 a page
    assert VoicePreset.objects.count() == before + 7
    assert VoicePreset.objects.get(provider_voice_id="21m00Tcm4TlvDq8ikWAM").description == (
        "Rachel, renewed."
    )
    extra = VoicePreset.objects.get(provider_voice_id="extra0004")
    assert (extra.labels, extra.is_active) == ({"gender": "male"}, True)
    assert "7 new, 1 updated" in output


def test_sync_withdraws_missing_presets_unless_in_use(fake_elevenlabs):
    """Presets ElevenLabs no longer lists are withdrawn, except those a persona speaks with."""
    run("sync_voices")
    active = set(
        VoicePreset.objects.filter(is_active=True).values_list("provider_voice_id", flat=True)
    )
    # The classic voices the system personas use stay; Rachel is still listed; the rest go.
    assert active == {
        "21m00Tcm4TlvDq8ikWAM",
        "premade0000",
        "premade0001",
        "premade0002",
        "EXAVITQu4vr4xnSDxMaL",
        "ErXwobaYiN019PkySvjV",
        "MF3mGyEYCl7XYWbV9V6O",
        "AZnzlk1XvdvUeBnXmlld",
        "yoZ06aMxZJJ28mfd3POQ",
        "pNInz6obpgDQGcFmaJgB",
    }
    assert not VoicePreset.objects.get(provider_voice_id="TxGEqnHWrfWFTfGW9XjX").is_active  # Josh


def test_sync_skips_cloned_voices_and_keeps_staff_choices(fake_elevenlabs):
    """Users' clones never become presets; a preset staff withdrew stays withdrawn."""
    clone = CustomVoiceFactory(provider_voice_id="premade0001")
    fake_elevenlabs.add_voices(1, category="cloned")
    VoicePresetFactory(provider_voice_id="premade0000", is_active=False)
    run("sync_voices")
    ids = set(VoicePreset.objects.values_list("provider_voice_id", flat=True))
    assert clone.provider_voice_id not in ids and "extra0004" not in ids
    assert not VoicePreset.objects.get(provider_voice_id="premade0000").is_active


def test_sync_failure_changes_nothing(fake_elevenlabs, monkeypatch):
    """A page that fails rolls the whole sync back, and the command fails saying why."""
    monkeypatch.setattr("mybella.providers.speech.elevenlabs.PAGE_SIZE", 2)
    before = list(VoicePreset.objects.values_list("provider_voice_id", "is_active", "name"))
    fake_elevenlabs.fail_next("server_error", after=1)
    with pytest.raises(CommandError, match="had a problem"):
        run("sync_voices")
    assert fake_elevenlabs.counts["GET /v2/voices"] == 2
    assert list(VoicePreset.objects.values_list("provider_voice_id", "is_active", "name")) == before


def test_trim_speech_cache(settings):
    for i in range(3):
        _store(f"k{i}", "espeak", b"x" * 100, "audio/wav")
    assert "Deleted 2 speech clips (200 bytes)" in run("trim_speech_cache", "--max-bytes", "150")
    assert SpeechClip.objects.count() == 1
    settings.SPEECH_CACHE_MAX_BYTES = 0
    assert "Deleted 1 speech clips" in run("trim_speech_cache")


def test_persona_using_a_withdrawn_preset_speaks_with_the_default(fake_elevenlabs):
    from voices.selectors import voice_for_persona

    persona = PersonaVoiceFactory(
        persona=PersonaFactory(), preset=VoicePresetFactory(is_active=False)
    ).persona
    assert voice_for_persona(persona).kind == "default"
