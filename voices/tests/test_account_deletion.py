"""Deleting an account deletes its cloned voices at ElevenLabs, its speech and its files here."""

import pytest
from django.db import transaction

from mybella.users.services import user_delete
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from voices import services
from voices.models import SpeechClip
from voices.tests.factories import CustomVoiceFactory

pytestmark = pytest.mark.django_db


def test_account_deletion_removes_voices_everywhere(
    user, fake_elevenlabs, settings, django_capture_on_commit_callbacks
):
    voice = CustomVoiceFactory(owner=user, provider_voice_id="clonedvoice123")
    sample = settings.PRIVATE_MEDIA_ROOT / voice.sample.name
    assert sample.exists()
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user)
    deletes = [path for method, path, *_ in fake_elevenlabs.requests if method == "DELETE"]
    assert deletes == ["/v1/voices/clonedvoice123"]
    assert not sample.exists()


def test_account_deletion_goes_on_when_elevenlabs_fails(
    user, fake_elevenlabs, queued_tasks, django_capture_on_commit_callbacks
):
    """ElevenLabs down: the account goes at once, the clone's deletion there waits in a task."""
    CustomVoiceFactory(owner=user, provider_voice_id="clonedvoice123")
    fake_elevenlabs.fail_next(500, times=5)
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user)
    assert not type(user).objects.filter(pk=user.pk).exists()
    assert fake_elevenlabs.requests == []  # nobody waited for ElevenLabs
    queued = queued_tasks("voices.tasks.delete_provider_voice")
    assert [kwargs["args"] for kwargs in queued] == [["clonedvoice123"]]


def test_account_deletion_removes_its_speech_clips_and_their_files(
    user, other_user, espeak, django_capture_on_commit_callbacks
):
    """The user's own speech goes, rows and files; shared greetings and others' speech stay."""
    isabella = PersonaProfile.objects.get(slug="isabella")
    mine = [
        services.speech_for_persona(isabella, "My secret", user=user),
        services.speech_for_persona(
            PersonaFactory(owner=user, greeting="Hey, it's me."), user=user
        ),
    ]
    kept = [
        services.speech_for_persona(isabella, user=user),  # the greeting everyone hears
        services.speech_for_persona(isabella, "My secret", user=other_user),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user)
    assert not SpeechClip.objects.filter(pk__in=[clip.pk for clip in mine]).exists()
    assert not any(clip.audio.storage.exists(clip.audio.name) for clip in mine)
    assert SpeechClip.objects.filter(pk__in=[clip.pk for clip in kept]).count() == 2
    assert all(clip.audio.storage.exists(clip.audio.name) for clip in kept)


def _delete_then_fail(user) -> None:
    with transaction.atomic():
        user_delete(user=user)
        raise RuntimeError("rolled back")


def test_speech_files_stay_when_the_deletion_is_rolled_back(
    user, espeak, django_capture_on_commit_callbacks
):
    """Files go only once the account's deletion is committed."""
    clip = services.speech_for_persona(PersonaFactory(owner=user), "Hello", user=user)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        _delete_then_fail(user)
    assert SpeechClip.objects.filter(pk=clip.pk).exists()
    assert clip.audio.storage.exists(clip.audio.name)
