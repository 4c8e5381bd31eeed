"""Deleting an account deletes its cloned voices at ElevenLabs and its files here."""

import pytest

from mybella.users.services import user_delete
from voices.tests.factories import CustomVoiceFactory

pytestmark = pytest.mark.django_db


def test_account_deletion_removes_voices_everywhere(
    user, fake_elevenlabs, settings, django_capture_on_commit_callbacks
):
    voice = CustomVoiceFactory(owner=user, provider_voice_id="clonedvoice123")
    sample = settings.MEDIA_ROOT / voice.sample.name
    assert sample.exists()
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user)
    deletes = [path for method, path, *_ in fake_elevenlabs.requests if method == "DELETE"]
    assert deletes == ["/v1/voices/clonedvoice123"]
    assert not sample.exists()


def test_account_deletion_goes_on_when_elevenlabs_fails(user, fake_elevenlabs):
    CustomVoiceFactory(owner=user, provider_voice_id="clonedvoice123")
    fake_elevenlabs.fail_next(500, times=5)
    user_delete(user=user)
    assert not type(user).objects.filter(pk=user.pk).exists()
    assert [m for m, *_ in fake_elevenlabs.requests] == ["DELETE"]  # tried once, no retries
