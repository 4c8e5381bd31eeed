"""Voices that failed only for want of an ElevenLabs key wait for one; and back."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("voices", "0005_personavoice")
AFTER = ("voices", "0006_waiting_for_a_key")
NO_KEY = "Voice cloning needs an ElevenLabs API key."


def _voice(CustomVoice, owner, name: str, error: str):
    return CustomVoice.objects.create(
        owner=owner,
        name=name,
        sample=f"voice-samples/{name}.wav",
        format="wav",
        content_type="audio/wav",
        duration=12,
        size=11,
        sha256="0" * 64,
        status="failed",
        error=error,
    )


def test_keyless_failures_wait_and_go_back(migrator):
    old = migrator.apply_initial_migration(BEFORE)
    owner = old.apps.get_model("users", "User").objects.create(username="alice")
    CustomVoice = old.apps.get_model("voices", "CustomVoice")
    keyless = _voice(CustomVoice, owner, "keyless", NO_KEY)
    noisy = _voice(CustomVoice, owner, "noisy", "Too noisy.")

    new = migrator.apply_tested_migration(AFTER)
    CustomVoice = new.apps.get_model("voices", "CustomVoice")
    assert CustomVoice.objects.get(pk=keyless.pk).status == "waiting"
    assert CustomVoice.objects.get(pk=keyless.pk).error == ""
    assert (
        CustomVoice.objects.get(pk=noisy.pk).status,
        CustomVoice.objects.get(pk=noisy.pk).error,
    ) == ("failed", "Too noisy.")

    again = migrator.apply_tested_migration(BEFORE)
    CustomVoice = again.apps.get_model("voices", "CustomVoice")
    back = CustomVoice.objects.get(pk=keyless.pk)
    assert (back.status, back.error) == ("failed", NO_KEY)
    migrator.reset()
