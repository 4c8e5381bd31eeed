"""A voice's two partials (a row of the voices page, an option of the persona modal).

The pages fetch them instead of building the markup in the script; while a voice is
waiting or cloning, its partial polls itself, and a settled one stops the polling.
"""

import pytest
from django.urls import reverse

from voices.models import CustomVoice
from voices.tests.factories import CustomVoiceFactory

pytestmark = pytest.mark.django_db

PARTIALS = ["voices:row", "voices:option"]


@pytest.mark.parametrize("name", PARTIALS)
def test_a_settled_voice_renders_without_polling(signed_in, user, name):
    """A ready voice's partial shows its status and carries no hx-get: polling stops."""
    voice = CustomVoiceFactory(owner=user, name="Calm voice")
    response = signed_in.get(reverse(name, args=[voice.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-voice-id="{voice.pk}"' in html
    assert 'data-status="ready"' in html
    assert "Calm voice" in html and ">Ready<" in html
    assert "hx-get" not in html and "hx-trigger" not in html


@pytest.mark.parametrize("status", [CustomVoice.Status.PENDING, CustomVoice.Status.CLONING])
@pytest.mark.parametrize("name", PARTIALS)
def test_a_voice_being_cloned_polls_itself(signed_in, user, name, status):
    """Waiting or cloning, the partial asks for itself again every 2 s and swaps itself."""
    voice = CustomVoiceFactory(owner=user, status=status, provider_voice_id="")
    url = reverse(name, args=[voice.pk])
    html = signed_in.get(url).content.decode()
    assert f'hx-get="{url}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert 'hx-swap="outerHTML"' in html


def test_a_failed_voice_row_offers_retry_and_shows_why(signed_in, user, settings):
    """With a key, a failed voice offers Retry (without one, Retry can't work: hidden)."""
    voice = CustomVoiceFactory(
        owner=user, status=CustomVoice.Status.FAILED, provider_voice_id="", error="Too noisy."
    )
    html = signed_in.get(reverse("voices:row", args=[voice.pk])).content.decode()
    assert "Too noisy." in html
    assert reverse("voices:retry", args=[voice.pk]) in html
    assert "data-retry-form hidden" in html
    settings.ELEVENLABS_API_KEY = "a-key"
    html = signed_in.get(reverse("voices:row", args=[voice.pk])).content.decode()
    assert "data-retry-form >" in html or "data-retry-form>" in html  # not hidden


def test_the_option_is_checked_when_chosen(signed_in, user):
    """`?chosen=` the voice's id checks its radio; a voice not ready stays disabled."""
    voice = CustomVoiceFactory(owner=user)
    url = reverse("voices:option", args=[voice.pk])
    assert "checked" in signed_in.get(url, {"chosen": voice.pk}).content.decode()
    assert "checked" not in signed_in.get(url).content.decode()
    waiting = CustomVoiceFactory(owner=user, status=CustomVoice.Status.PENDING)
    html = signed_in.get(reverse("voices:option", args=[waiting.pk])).content.decode()
    assert "disabled" in html


@pytest.mark.parametrize("name", PARTIALS)
def test_another_users_voice_is_not_found(signed_in, other_user, name):
    voice = CustomVoiceFactory(owner=other_user)
    assert signed_in.get(reverse(name, args=[voice.pk])).status_code == 404
    assert signed_in.get(reverse(name, args=[999999])).status_code == 404


@pytest.mark.parametrize("name", PARTIALS)
def test_anonymous_is_sent_to_login(client, user, name):
    voice = CustomVoiceFactory(owner=user)
    response = client.get(reverse(name, args=[voice.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("name", PARTIALS)
def test_partials_are_read_only(signed_in, user, name):
    voice = CustomVoiceFactory(owner=user)
    assert signed_in.post(reverse(name, args=[voice.pk])).status_code == 405


@pytest.mark.parametrize("name", PARTIALS)
def test_partial_query_count(signed_in, user, name, django_assert_max_num_queries):
    """A partial costs the session, the user and the voice: no more."""
    voice = CustomVoiceFactory(owner=user)
    with django_assert_max_num_queries(3):
        assert signed_in.get(reverse(name, args=[voice.pk])).status_code == 200
