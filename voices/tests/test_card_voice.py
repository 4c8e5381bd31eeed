"""A persona's voice travels with its Character Card: preset, ElevenLabs id, settings."""

import json

import pytest

from personas import services as persona_services
from personas.tests.api.test_uploads import v2_card
from personas.tests.factories import PersonaFactory
from voices import selectors
from voices.card_voice import BLOCK
from voices.models import CustomVoice, PersonaVoice, VoicePreset
from voices.tests.factories import CustomVoiceFactory, PersonaVoiceFactory

pytestmark = pytest.mark.django_db

BELLA = "EXAVITQu4vr4xnSDxMaL"


def exported(persona, fmt: str = "json") -> dict:
    content, _type, _name = persona_services.persona_export_card(persona=persona, fmt=fmt)
    return json.loads(content)


def imported(user, card: dict):
    return persona_services.persona_import_card(owner=user, data=json.dumps(card).encode())


def test_export_carries_the_preset_its_voice_id_and_the_settings(user):
    persona = PersonaFactory(owner=user)
    PersonaVoiceFactory(
        persona=persona,
        preset=VoicePreset.objects.get(provider_voice_id=BELLA),
        stability=0.3,
        similarity=0.9,
        style=0.2,
        speed=1.1,
        model_id="eleven_turbo_v2_5",
    )
    block = exported(persona)["data"]["extensions"][BLOCK]
    assert block == {
        "version": 1,
        "preset": {"provider": "elevenlabs", "voice_id": BELLA, "name": "Bella"},
        "settings": {
            "stability": 0.3,
            "similarity": 0.9,
            "style": 0.2,
            "speed": 1.1,
            "model_id": "eleven_turbo_v2_5",
        },
    }


def test_a_cloned_voice_never_travels_only_its_name(user):
    persona = PersonaFactory(owner=user)
    clone = CustomVoiceFactory(owner=user, name="Grandma", status="ready")
    PersonaVoiceFactory(persona=persona, preset=None, custom_voice=clone)
    block = exported(persona)["data"]["extensions"][BLOCK]
    assert block["custom_voice_name"] == "Grandma"
    assert clone.provider_voice_id not in json.dumps(block)
    assert "preset" not in block


def test_a_persona_with_the_default_voice_writes_no_block(user):
    assert BLOCK not in exported(PersonaFactory(owner=user))["data"]["extensions"]


def test_export_then_import_gives_the_same_voice(user, other_user):
    """Round trip through JSON and PNG: the importer's persona speaks the same way."""
    persona = PersonaFactory(owner=user, name="Traveller")
    PersonaVoiceFactory(
        persona=persona,
        preset=VoicePreset.objects.get(provider_voice_id=BELLA),
        speed=0.8,
        stability=0.35,
    )
    for fmt in ("json", "png"):
        content, _type, _name = persona_services.persona_export_card(persona=persona, fmt=fmt)
        copy = persona_services.persona_import_card(owner=other_user, data=content)
        voice = PersonaVoice.objects.get(persona=copy)
        assert (voice.preset.provider_voice_id, voice.speed, voice.stability) == (BELLA, 0.8, 0.35)
        assert voice.custom_voice is None
        copy.refresh_from_db()
        assert BLOCK not in (copy.extensions.get("extensions") or {})  # applied, not stored


def test_import_applies_only_what_exists_here(user):
    """An unknown preset, settings out of range or of the wrong type are left out; the
    card still imports with what is usable."""
    card = v2_card(name="Stranger")
    card["data"]["extensions"][BLOCK] = {
        "preset": {"provider": "elevenlabs", "voice_id": "not-here", "name": "Nobody"},
        "settings": {"speed": 9, "stability": "high", "style": 0.4, "model_id": "Bad Model!"},
    }
    persona = imported(user, card)
    voice = selectors.persona_voice_of(persona)
    assert (voice.preset_id, voice.speed, voice.stability, voice.style) == (None, 1.0, 0.5, 0.4)
    assert voice.model_id == "eleven_multilingual_v2"


def test_import_uses_the_importers_own_ready_voice_of_the_hinted_name(user):
    mine = CustomVoiceFactory(owner=user, name="Grandma", status="ready")
    card = v2_card(name="Family")
    card["data"]["extensions"][BLOCK] = {"custom_voice_name": "grandma"}
    assert selectors.persona_voice_of(imported(user, card)).custom_voice == mine

    mine.status, mine.provider_voice_id = CustomVoice.Status.WAITING, ""
    mine.save()
    card["data"]["name"] = "Family two"
    assert selectors.persona_voice_of(imported(user, card)).custom_voice is None


@pytest.mark.parametrize("block", [None, "Bella", [1, 2], {"preset": "Bella", "settings": 3}])
def test_a_malformed_block_imports_the_persona_without_a_voice(user, block):
    card = v2_card(name="Odd")
    card["data"]["extensions"][BLOCK] = block
    persona = imported(user, card)
    assert selectors.persona_voice_of(persona)._state.adding
