"""The /users/voices/ page through Django's test client."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from voices.models import CustomVoice
from voices.tests.audio_files import wav_bytes
from voices.tests.factories import CustomVoiceFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("voices:page")


def test_login_required(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_lists_only_the_users_voices(signed_in, user, other_user, django_assert_max_num_queries):
    CustomVoiceFactory(owner=user, name="Mine")
    CustomVoiceFactory(
        owner=user,
        name="Broken",
        status=CustomVoice.Status.FAILED,
        provider_voice_id="",
        error="The sample is too noisy.",
    )
    CustomVoiceFactory(owner=other_user, name="Theirs")
    with django_assert_max_num_queries(6):
        response = signed_in.get(PAGE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Mine" in html and "Broken" in html and "The sample is too noisy." in html
    assert "Theirs" not in html
    assert 'aria-current="page">Voices' in html
    assert "ElevenLabs" in html


def test_upload_without_javascript_creates_the_voice(
    signed_in, user, django_capture_on_commit_callbacks
):
    sample = SimpleUploadedFile("me.wav", wav_bytes(12), content_type="audio/wav")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("voices:upload"), {"name": "Me", "sample": sample})
    assert response.status_code == 302
    voice = CustomVoice.objects.get(owner=user)
    assert voice.name == "Me" and voice.format == "wav"
    # No ElevenLabs key in tests: the voice waits for one, and the page says so.
    assert (voice.status, voice.error) == (CustomVoice.Status.WAITING, "")
    page = signed_in.get(response.url).content.decode()
    assert "it is cloned once the server has an ElevenLabs key" in page


def test_upload_of_a_renamed_text_file_is_refused(signed_in, user, settings):
    sample = SimpleUploadedFile("notes.wav", b"just some text\n" * 200, content_type="audio/wav")
    response = signed_in.post(reverse("voices:upload"), {"name": "Me", "sample": sample})
    assert response.status_code == 400
    assert "not an audio file we can read" in response.content.decode()
    assert not CustomVoice.objects.exists()
    for root in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT):
        samples = root / "voice-samples"
        assert not samples.exists() or not any(samples.iterdir())


def test_upload_needs_a_name(signed_in):
    sample = SimpleUploadedFile("me.wav", wav_bytes(12), content_type="audio/wav")
    response = signed_in.post(reverse("voices:upload"), {"name": "", "sample": sample})
    assert response.status_code == 400
    assert not CustomVoice.objects.exists()


def test_delete_own_voice(signed_in, user):
    voice = CustomVoiceFactory(owner=user, provider_voice_id="", status="failed")
    response = signed_in.post(reverse("voices:delete", args=[voice.pk]))
    assert response.status_code == 302
    assert not CustomVoice.objects.filter(pk=voice.pk).exists()


def test_delete_and_retry_of_another_users_voice_are_404(signed_in, other_user):
    theirs = CustomVoiceFactory(owner=other_user, provider_voice_id="", status="failed")
    assert signed_in.post(reverse("voices:delete", args=[theirs.pk])).status_code == 404
    assert signed_in.post(reverse("voices:retry", args=[theirs.pk])).status_code == 404
    assert CustomVoice.objects.filter(pk=theirs.pk).exists()


def test_retry_of_a_failed_voice_queues_it_again(
    signed_in, user, fake_elevenlabs, django_capture_on_commit_callbacks
):
    voice = CustomVoiceFactory(
        owner=user, provider_voice_id="", status=CustomVoice.Status.FAILED, error="x"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("voices:retry", args=[voice.pk]))
    assert response.status_code == 302
    voice.refresh_from_db()
    assert (voice.status, voice.error) == (CustomVoice.Status.READY, "")


def test_retry_without_a_key_changes_nothing(signed_in, user):
    """Retrying can't work without a key: the page says why and the voice stays failed."""
    voice = CustomVoiceFactory(
        owner=user, provider_voice_id="", status=CustomVoice.Status.FAILED, error="x"
    )
    response = signed_in.post(reverse("voices:retry", args=[voice.pk]), follow=True)
    assert "needs an ElevenLabs API key" in response.content.decode()
    voice.refresh_from_db()
    assert (voice.status, voice.error) == (CustomVoice.Status.FAILED, "x")


def test_the_page_says_before_upload_that_cloning_needs_a_key(signed_in, user, settings):
    """Without a key the upload form says so and no Retry is offered; with one, neither."""
    CustomVoiceFactory(owner=user, name="Broken", provider_voice_id="", status="failed")
    html = signed_in.get(reverse("voices:page")).content.decode()
    assert "data-no-key-notice" in html
    assert "Cloning needs an ElevenLabs API key" in html
    assert re.search(r"data-retry-form\s+hidden", html)
    settings.ELEVENLABS_API_KEY = "a-key"
    html = signed_in.get(reverse("voices:page")).content.decode()
    assert "data-no-key-notice" not in html
    assert not re.search(r"data-retry-form\s+hidden", html)


def test_without_a_key_the_page_says_what_cloning_needs_once(signed_in):
    """The explainer at the top leaves the key to the upload section's notice."""
    html = signed_in.get(reverse("voices:page")).content.decode()
    assert html.count("ElevenLabs") == 1
    assert "Until a voice is cloned, personas speak with their preset voice" in html


def test_a_waiting_voice_says_what_it_waits_for(signed_in, user):
    voice = CustomVoiceFactory(owner=user, provider_voice_id="", status="waiting")
    html = signed_in.get(reverse("voices:row", args=[voice.pk])).content.decode()
    assert "Waiting for a key" in html and "data-voice-waiting" in html
    assert "hx-get" not in html  # settled: it doesn't poll


def test_get_on_post_only_urls_is_405(signed_in, user):
    voice = CustomVoiceFactory(owner=user)
    assert signed_in.get(reverse("voices:delete", args=[voice.pk])).status_code == 405


def test_delete_while_elevenlabs_fails_deletes_the_voice(
    signed_in, user, fake_elevenlabs, django_capture_on_commit_callbacks
):
    """The page deletes the voice whatever ElevenLabs says; its copy there is retried later."""
    voice = CustomVoiceFactory(owner=user, provider_voice_id="premade0000")
    fake_elevenlabs.fail_next("server_error", times=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("voices:delete", args=[voice.pk]), follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert not CustomVoice.objects.filter(pk=voice.pk).exists()
    assert f"“{voice.name}” was deleted." in response.content.decode()


def test_the_sample_help_follows_the_settings(signed_in, settings):
    settings.VOICE_SAMPLE_MAX_SECONDS = 120
    settings.VOICE_SAMPLE_MAX_BYTES = 5 * 2**20
    html = signed_in.get(PAGE).content.decode()
    assert "10 seconds to 2 minutes of one person speaking clearly" in html
    assert "up to 5 MB." in html


def test_a_name_longer_than_80_is_refused_on_the_page(signed_in):
    sample = SimpleUploadedFile("me.wav", wav_bytes(12), content_type="audio/wav")
    response = signed_in.post(reverse("voices:upload"), {"name": "x" * 81, "sample": sample})
    assert response.status_code == 400
    assert "at most 80 characters" in response.content.decode()
    assert not CustomVoice.objects.exists()
