"""The voices on offer show in the cached persona page: each change to them makes it stale,
a save (a signal) or an update in one statement (whose services say so)."""

import pytest
from django.urls import reverse

from personas.tests.factories import PersonaFactory
from personas.tests.test_cached_page import page
from voices.models import CustomVoice, VoicePreset
from voices.services import custom_voice_finish, preset_set_active
from voices.tests.factories import CustomVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db


def test_the_page_shows_voices_on_offer_changed_in_one_update(signed_in, user):
    clone = CustomVoiceFactory(owner=user, status=CustomVoice.Status.CLONING)
    preset = VoicePresetFactory(name="Withdrawn soon")
    html = page(signed_in)
    assert f'data-voice-id="{clone.pk}" data-status="cloning"' in html
    assert "Withdrawn soon" in html
    assert custom_voice_finish(voice_id=clone.pk, status=CustomVoice.Status.READY)
    preset_set_active(presets=VoicePreset.objects.filter(pk=preset.pk), active=False)
    html = page(signed_in)
    assert f'data-voice-id="{clone.pk}" data-status="ready"' in html
    assert "Withdrawn soon" not in html


def test_the_page_shows_a_new_clone_and_a_new_preset(signed_in, user):
    page(signed_in)
    clone = CustomVoiceFactory(owner=user, name="Fresh clone")
    VoicePresetFactory(name="Fresh preset")
    html = page(signed_in)
    assert f'data-voice-id="{clone.pk}"' in html and "Fresh preset" in html


def test_the_page_with_a_flash_message_shows_a_new_clone(signed_in, user):
    """With a flash message the page is rendered afresh, its dialogs cached on their own."""
    mine = PersonaFactory(owner=user, name="Mine")
    select = reverse("personas:select", args=[mine.pk])
    signed_in.post(select)
    assert 'class="messages"' in page(signed_in)
    clone = CustomVoiceFactory(owner=user)
    signed_in.post(select)
    html = page(signed_in)
    assert 'class="messages"' in html and f'data-voice-id="{clone.pk}"' in html
