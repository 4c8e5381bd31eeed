"""A persona's voice shows in the cached persona list: each change to it makes the list stale."""

import pytest

from personas.tests.factories import PersonaFactory
from voices.models import VoicePreset
from voices.tests.factories import CustomVoiceFactory, PersonaVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/personas/"


def shown(client, name: str) -> dict:
    return next(p for p in client.get(LIST).json()["results"] if p["name"] == name)


def test_setting_a_voice_shows_in_the_next_list(auth_api_client, user):
    mine = PersonaFactory(owner=user, name="Mine")
    preset = VoicePreset.objects.filter(is_active=True).first()
    assert shown(auth_api_client, "Mine")["voice_preset"] is None
    response = auth_api_client.put(
        f"{LIST}{mine.pk}/voice/", {"voice_preset": preset.pk, "speed": 1.1}, format="json"
    )
    assert response.status_code == 200, response.content
    after = shown(auth_api_client, "Mine")
    assert (after["voice_preset"], after["voice_speed"]) == (preset.pk, 1.1)


def test_deleting_a_preset_shows_in_the_next_list(auth_api_client, user):
    preset = VoicePresetFactory()
    mine = PersonaFactory(owner=user, name="Mine")
    PersonaVoiceFactory(persona=mine, preset=preset)
    assert shown(auth_api_client, "Mine")["voice_preset"] == preset.pk
    preset.delete()  # the persona's voice becomes NULL in SQL, without a save
    assert shown(auth_api_client, "Mine")["voice_preset"] is None


def test_deleting_a_clone_shows_in_the_next_list(auth_api_client, user):
    clone = CustomVoiceFactory(owner=user)
    mine = PersonaFactory(owner=user, name="Mine")
    PersonaVoiceFactory(persona=mine, custom_voice=clone)
    assert shown(auth_api_client, "Mine")["custom_voice"] == clone.pk
    clone.delete()
    assert shown(auth_api_client, "Mine")["custom_voice"] is None
