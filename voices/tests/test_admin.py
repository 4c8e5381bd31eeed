"""Staff curate presets in the admin and only look at users' voices and speech clips."""

import pytest
from django.urls import reverse

from personas.tests.factories import PersonaFactory, SystemPersonaFactory
from voices.models import VoicePreset
from voices.services.speech import _store
from voices.tests.factories import CustomVoiceFactory, PersonaVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db

PRESETS = reverse("admin:voices_voicepreset_changelist")


def test_presets_changelist_search_and_filters(admin_client, django_assert_max_num_queries):
    VoicePresetFactory(name="Quokka", labels={"gender": "neutral"}, is_active=False)
    with django_assert_max_num_queries(10):
        response = admin_client.get(PRESETS)
    html = response.content.decode()
    assert response.status_code == 200 and "Rachel" in html and "Quokka" in html
    assert "Quokka" not in admin_client.get(PRESETS, {"q": "rach"}).content.decode()
    women = admin_client.get(PRESETS, {"gender": "female"}).content.decode()
    assert "Bella" in women and "Adam" not in women
    retired = admin_client.get(PRESETS, {"is_active__exact": "0"}).content.decode()
    assert "Quokka" in retired and "Rachel" not in retired
    legacy = admin_client.get(PRESETS, {"is_legacy__exact": "1"}).content.decode()
    assert "Rachel" in legacy and "Adam" not in legacy


def test_presets_changelist_shows_which_personas_use_each(
    admin_client, user, django_assert_max_num_queries
):
    """Each preset's row names the personas speaking with it (a user's with its owner), in
    a fixed number of queries however many there are."""
    adam = VoicePreset.objects.get(name="Adam")
    quiet = VoicePresetFactory(name="Quiet")
    for name in ("Echo", "Ember", "Ash"):
        PersonaVoiceFactory(persona=PersonaFactory(owner=user, name=name), preset=adam)
    PersonaVoiceFactory(persona=SystemPersonaFactory(name="Narrator"), preset=adam)
    with django_assert_max_num_queries(10):
        html = admin_client.get(PRESETS, {"q": "adam"}).content.decode()
    assert f"Ash ({user}), Echo ({user}), Ember ({user})" in html
    assert "Narrator" in html
    row = admin_client.get(PRESETS, {"q": "quiet"}).content.decode()
    assert quiet.name in row and '<td class="field-used_by">—</td>' in row


@pytest.mark.parametrize(("action", "active"), [("deactivate", False), ("activate", True)])
def test_activate_and_deactivate(admin_client, action, active):
    preset = VoicePresetFactory(is_active=not active)
    response = admin_client.post(
        PRESETS, {"action": action, "_selected_action": [preset.pk]}, follow=True
    )
    assert response.status_code == 200
    preset.refresh_from_db()
    assert preset.is_active is active


def test_custom_voices_are_read_only_without_the_sample(admin_client):
    voice = CustomVoiceFactory()
    changelist = admin_client.get(reverse("admin:voices_customvoice_changelist"))
    assert changelist.status_code == 200 and voice.name in changelist.content.decode()
    page = admin_client.get(reverse("admin:voices_customvoice_change", args=[voice.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert voice.sample.name not in html and "voice-samples" not in html
    assert 'name="_save"' not in html
    assert admin_client.get(reverse("admin:voices_customvoice_add")).status_code == 403
    response = admin_client.post(reverse("admin:voices_customvoice_delete", args=[voice.pk]))
    assert response.status_code == 403


def test_speech_clips_are_read_only(admin_client):
    clip = _store("k" * 64, "espeak", b"RIFF", "audio/wav")
    changelist = admin_client.get(reverse("admin:voices_speechclip_changelist"))
    assert changelist.status_code == 200 and clip.key in changelist.content.decode()
    assert admin_client.get(reverse("admin:voices_speechclip_add")).status_code == 403


def test_preset_edit(admin_client):
    preset = VoicePreset.objects.get(name="Adam")
    page = admin_client.get(reverse("admin:voices_voicepreset_change", args=[preset.pk]))
    assert page.status_code == 200


def test_preset_save(admin_client):
    preset = VoicePresetFactory()
    response = admin_client.post(
        reverse("admin:voices_voicepreset_change", args=[preset.pk]),
        {
            "provider": "elevenlabs",
            "provider_voice_id": preset.provider_voice_id,
            "name": "Renamed",
            "description": "",
            "labels": '{"gender": "female"}',
            "preview_url": "storage.example/p.mp3",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    preset.refresh_from_db()
    assert (preset.name, preset.labels, preset.preview_url) == (
        "Renamed",
        {"gender": "female"},
        "https://storage.example/p.mp3",
    )
