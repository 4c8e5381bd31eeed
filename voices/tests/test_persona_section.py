"""The persona's voice is a persona section: the page, the API and the admin save it with
the persona, in one transaction, through `persona_voice_set`."""

import re

import pytest
from django.urls import reverse

from personas import services as persona_services
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from personas.tests.test_admin import NO_LOREBOOK
from voices.models import CustomVoice, PersonaVoice, VoicePreset
from voices.tests.factories import CustomVoiceFactory, PersonaVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("personas:settings")
VOICE_KEYS = {
    "voice_preset",
    "custom_voice",
    "voice_stability",
    "voice_similarity",
    "voice_style",
    "voice_speed",
    "voice_model_id",
}


def form_data(**overrides) -> dict:
    return {
        "name": "Nova",
        "tagline": "Stargazer",
        "traits": "curious",
        "communication_style": "playful",
        **overrides,
    }


def voice_of(persona: PersonaProfile) -> PersonaVoice:
    return PersonaVoice.objects.get(persona=persona)


# ---------------------------------------------------------------- the page


def test_modal_offers_presets_and_only_own_voices(signed_in, user, other_user):
    CustomVoiceFactory(owner=user, name="My cloned voice")
    CustomVoiceFactory(owner=other_user, name="Their cloned voice")
    html = signed_in.get(PAGE).content.decode()
    assert "data-voice-section" in html
    assert "Rachel" in html and "Preview Rachel" in html
    assert 'data-fallback-text="Hi, I&#x27;m Rachel. This is how I sound."' in html
    assert "My cloned voice" in html
    assert "Their cloned voice" not in html
    assert "Test voice" in html


def test_modal_describes_each_preset_in_words_not_by_its_provider_id(signed_in, settings):
    """A preset shows its name and description, never ElevenLabs' id of the voice (the
    choice posts the preset's own id); without a key, the modal says cloning needs one."""
    VoicePresetFactory(name="Quiet", description="", provider_voice_id="quietVoiceId0001")
    html = signed_in.get(PAGE).content.decode()
    for preset in VoicePreset.objects.all():
        assert preset.provider_voice_id not in html, preset.name
    descriptions = re.findall(r'<span class="voice-description">([^<]*)</span>', html)
    assert "Calm young American woman, good for narration." in descriptions
    offered = VoicePreset.objects.filter(is_active=True).exclude(description="")
    assert len(descriptions) == offered.count()
    rachel = VoicePreset.objects.get(name="Rachel")
    assert f'name="voice_preset" value="{rachel.pk}"' in html
    assert "data-no-key-notice" in html
    settings.ELEVENLABS_API_KEY = "a-key"
    assert "data-no-key-notice" not in signed_in.get(PAGE).content.decode()


def test_page_fills_the_edit_modal_with_the_voice(signed_in, user):
    preset = VoicePreset.objects.get(name="Adam")
    persona = PersonaFactory(owner=user)
    PersonaVoiceFactory(persona=persona, preset=preset, speed=0.8)
    response = signed_in.get(PAGE)
    editable = response.context["editable"][persona.pk]
    assert (editable["voice_preset"], editable["voice_speed"]) == (preset.pk, 0.8)
    # What "Test voice" says in the browser when the server can't: the server's own line.
    assert editable["voice_test_line"] == persona.greeting


def test_create_saves_a_preset_and_voice_settings(signed_in, user):
    preset = VoicePreset.objects.get(name="Adam")
    data = form_data(voice_preset=preset.pk, custom_voice="", voice_speed="1.1")
    data["voice_stability"] = "0.8"
    response = signed_in.post(reverse("personas:create"), data)
    assert response.status_code == 302
    voice = voice_of(PersonaProfile.objects.get(owner=user, name="Nova"))
    assert (voice.preset, voice.custom_voice) == (preset, None)
    assert voice.speed == pytest.approx(1.1)
    assert voice.stability == pytest.approx(0.8)


def test_create_with_the_default_voice_makes_no_voice_row(signed_in, user):
    data = form_data(voice_preset="", custom_voice="", voice_speed="1.0", voice_stability="0.5")
    assert signed_in.post(reverse("personas:create"), data).status_code == 302
    assert not PersonaVoice.objects.filter(persona__owner=user).exists()


def test_edit_saves_own_ready_custom_voice(signed_in, user):
    persona = PersonaFactory(owner=user, name="Old")
    voice = CustomVoiceFactory(owner=user)
    response = signed_in.post(
        reverse("personas:edit", args=[persona.pk]), form_data(custom_voice=voice.pk)
    )
    assert response.status_code == 302
    assert voice_of(persona).custom_voice == voice


def test_edit_rejects_another_users_voice(signed_in, user, other_user):
    persona = PersonaFactory(owner=user, name="Old")
    theirs = CustomVoiceFactory(owner=other_user)
    response = signed_in.post(
        reverse("personas:edit", args=[persona.pk]),
        form_data(name="Changed", custom_voice=theirs.pk),
    )
    assert response.status_code == 400
    form = {section.name: form for section, form in response.context["section_forms"]}["voice"]
    assert "custom_voice" in form.errors
    persona.refresh_from_db()
    assert persona.name == "Old"
    assert not PersonaVoice.objects.filter(persona=persona).exists()


def test_a_failing_voice_rolls_back_the_persona_fields(signed_in, user):
    """The page's combined action: the voice service refuses a failed clone, after the
    persona's own fields were written in the same transaction; nothing is kept."""
    persona = PersonaFactory(owner=user, name="Old", tagline="Before")
    failed = CustomVoiceFactory(owner=user, status=CustomVoice.Status.FAILED)
    response = signed_in.post(
        reverse("personas:edit", args=[persona.pk]),
        form_data(name="New name", tagline="After", custom_voice=failed.pk),
    )
    assert response.status_code == 400
    form = {section.name: form for section, form in response.context["section_forms"]}["voice"]
    assert form.errors == {"custom_voice": ["This voice failed to clone; try it again first."]}
    persona.refresh_from_db()
    assert (persona.name, persona.tagline) == ("Old", "Before")
    assert not PersonaVoice.objects.filter(persona=persona).exists()


def test_edit_without_voice_fields_keeps_the_voice(signed_in, user):
    preset = VoicePreset.objects.get(name="Adam")
    persona = PersonaFactory(owner=user, name="Old")
    PersonaVoiceFactory(persona=persona, preset=preset, speed=0.8)
    signed_in.post(reverse("personas:edit", args=[persona.pk]), form_data())
    voice = voice_of(persona)
    assert voice.preset == preset
    assert voice.speed == pytest.approx(0.8)


def test_an_inactive_current_preset_survives_a_page_resave(signed_in, user):
    retired = VoicePresetFactory(name="Retired", is_active=False)
    persona = PersonaFactory(owner=user, name="Old")
    PersonaVoiceFactory(persona=persona, preset=retired)
    html = signed_in.get(PAGE).content.decode()
    assert "Retired" in html and "No longer offered" in html  # the modal can show it chosen
    response = signed_in.post(
        reverse("personas:edit", args=[persona.pk]),
        form_data(voice_preset=retired.pk, voice_speed="1.1"),
    )
    assert response.status_code == 302
    assert (voice_of(persona).preset, voice_of(persona).speed) == (retired, 1.1)
    other = PersonaFactory(owner=user, name="Other")
    refused = signed_in.post(
        reverse("personas:edit", args=[other.pk]), form_data(name="Other", voice_preset=retired.pk)
    )
    assert refused.status_code == 400  # not offered to a persona that did not have it


def test_out_of_range_speed_is_a_form_error(signed_in, user):
    response = signed_in.post(reverse("personas:create"), form_data(voice_speed="3"))
    assert response.status_code == 400
    form = {section.name: form for section, form in response.context["section_forms"]}["voice"]
    assert "voice_speed" in form.errors
    assert not PersonaProfile.objects.filter(owner=user).exists()


# ---------------------------------------------------------------- the persona API


def test_api_output_keys_are_unchanged(auth_api_client, user):
    persona = PersonaFactory(owner=user)
    body = auth_api_client.get(f"/api/v1/personas/{persona.pk}/").json()
    assert set(body) == {
        "id",
        "slug",
        "kind",
        "is_custom",
        "is_current",
        *PersonaProfile.EDITABLE_FIELDS,
        "avatar_url",
        "is_active",
        "created_at",
        "updated_at",
        "lorebook",
        *VOICE_KEYS,
    }
    assert {key: body[key] for key in VOICE_KEYS} == {
        "voice_preset": None,
        "custom_voice": None,
        "voice_stability": 0.5,
        "voice_similarity": 0.75,
        "voice_style": 0.0,
        "voice_speed": 1.0,
        "voice_model_id": "eleven_multilingual_v2",
    }


def test_api_create_takes_the_voice_nested(auth_api_client, user):
    preset = VoicePreset.objects.get(name="Adam")
    clone = CustomVoiceFactory(owner=user)
    response = auth_api_client.post(
        "/api/v1/personas/",
        {
            "name": "Nova",
            "voice": {"voice_preset": preset.pk, "custom_voice": clone.pk, "speed": 1.1},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["voice_preset"], body["custom_voice"], body["voice_speed"]) == (
        preset.pk,
        clone.pk,
        1.1,
    )
    voice = voice_of(PersonaProfile.objects.get(pk=body["id"]))
    assert (voice.preset, voice.custom_voice, voice.speed) == (preset, clone, 1.1)


def test_api_a_refused_voice_creates_no_persona(auth_api_client, user, other_user):
    failed = CustomVoiceFactory(owner=user, status=CustomVoice.Status.FAILED)
    response = auth_api_client.post(
        "/api/v1/personas/", {"name": "Nova", "voice": {"custom_voice": failed.pk}}, format="json"
    )
    assert response.status_code == 400
    theirs = CustomVoiceFactory(owner=other_user)
    response = auth_api_client.post(
        "/api/v1/personas/", {"name": "Nova", "voice": {"custom_voice": theirs.pk}}, format="json"
    )
    assert response.status_code == 404
    assert not PersonaProfile.objects.filter(owner=user).exists()


@pytest.mark.parametrize("pk", [2**63, 2**70, -1, 0])
def test_api_a_voice_id_beyond_any_row_is_404_not_500(auth_api_client, user, pk):
    response = auth_api_client.post(
        "/api/v1/personas/", {"name": "Nova", "voice": {"custom_voice": pk}}, format="json"
    )
    assert response.status_code in (400, 404)
    assert not PersonaProfile.objects.filter(owner=user).exists()


def test_api_update_saves_voice_and_fields_together(auth_api_client, user):
    persona = PersonaFactory(owner=user, tagline="Before")
    response = auth_api_client.patch(
        f"/api/v1/personas/{persona.pk}/",
        {"tagline": "After", "voice": {"stability": 0.2}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["voice_stability"] == 0.2
    out_of_range = auth_api_client.patch(
        f"/api/v1/personas/{persona.pk}/",
        {"tagline": "Again", "voice": {"speed": 3}},
        format="json",
    )
    assert out_of_range.status_code == 400
    persona.refresh_from_db()
    assert persona.tagline == "After"


def test_api_list_reads_voices_in_one_query(auth_api_client, user, django_assert_max_num_queries):
    for _ in range(5):
        PersonaVoiceFactory(persona=PersonaFactory(owner=user), preset=VoicePresetFactory())
    with django_assert_max_num_queries(6):
        response = auth_api_client.get("/api/v1/personas/")
    assert response.status_code == 200


# ---------------------------------------------------------------- duplicate and admin


def test_duplicate_copies_the_voice(staff_user):
    luna = PersonaProfile.objects.get(slug="luna")
    PersonaVoice.objects.filter(persona=luna).update(speed=0.9)
    copy = persona_services.persona_duplicate(persona=luna, user=staff_user)
    assert (voice_of(copy).preset, voice_of(copy).speed) == (voice_of(luna).preset, 0.9)


def test_staff_set_a_system_personas_voice_in_the_admin(admin_client):
    luna = PersonaProfile.objects.get(slug="luna")
    preset = VoicePreset.objects.get(name="Adam")
    url = reverse("admin:personas_personaprofile_change", args=[luna.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="voice_preset"' in page and 'name="custom_voice"' not in page
    data = {
        "name": luna.name,
        "slug": luna.slug,
        "is_active": "on",
        "position": luna.position,
        "traits": ", ".join(luna.traits),
        "communication_style": luna.communication_style,
        "extensions": "{}",
        "voice_preset": preset.pk,
        "voice_speed": "1.15",
        "voice_stability": "0.3",
        **NO_LOREBOOK,
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    voice = voice_of(luna)
    assert (voice.preset, voice.speed, voice.stability) == (preset, 1.15, 0.3)
    bad = admin_client.post(url, {**data, "voice_speed": "2"})
    assert bad.status_code == 200
    assert voice_of(luna).speed == 1.15


def test_the_cached_voice_picker_shows_a_new_or_changed_voice(signed_in, user):
    """The page's dialogs are rendered once, until a voice they offer changes."""
    assert "Fresh clone" not in signed_in.get(PAGE).content.decode()
    voice = CustomVoiceFactory(owner=user, name="Fresh clone", status=CustomVoice.Status.CLONING)
    html = signed_in.get(PAGE).content.decode()
    assert "Fresh clone" in html
    voice.name = "Renamed clone"
    voice.save()
    assert "Renamed clone" in signed_in.get(PAGE).content.decode()
    voice.delete()
    assert "Renamed clone" not in signed_in.get(PAGE).content.decode()
