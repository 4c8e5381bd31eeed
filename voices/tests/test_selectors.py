"""Which voice a persona speaks with, and the scoped reads of voices."""

import pytest

from personas.tests.factories import PersonaFactory, SystemPersonaFactory
from voices import selectors
from voices.models import CustomVoice
from voices.tests.factories import CustomVoiceFactory, VoicePresetFactory

pytestmark = pytest.mark.django_db

RACHEL = "21m00Tcm4TlvDq8ikWAM"
CUSTOM = ["none", "ready", "pending", "cloning", "failed", "someone_elses_ready"]
PRESET = ["active", "inactive", "none"]


def _custom_voice(kind: str, owner) -> CustomVoice | None:
    if kind == "none":
        return None
    if kind == "someone_elses_ready":
        return CustomVoiceFactory(provider_voice_id="theirs")
    ready = kind == "ready"
    return CustomVoiceFactory(owner=owner, status=kind, provider_voice_id="mine" if ready else "")


@pytest.mark.parametrize("custom", CUSTOM)
@pytest.mark.parametrize("preset", PRESET)
def test_priority_custom_then_preset_then_default(custom, preset, settings):
    """Only a ready voice of the owner's wins; else an active preset; else the default."""
    settings.DEFAULT_VOICE_ID = RACHEL
    persona = PersonaFactory()
    persona.custom_voice = _custom_voice(custom, persona.owner)
    persona.voice_preset = (
        None
        if preset == "none"
        else VoicePresetFactory(provider_voice_id="p1", is_active=preset == "active")
    )
    persona.save()  # someone else's voice only gets here by a bug; it must still not be used
    choice = selectors.voice_for_persona(persona)
    if custom == "ready":
        assert (choice.kind, choice.provider_voice_id) == ("custom", "mine")
        assert choice.custom_voice == persona.custom_voice
    elif preset == "active":
        assert (choice.kind, choice.provider_voice_id) == ("preset", "p1")
        assert choice.preset == persona.voice_preset
    else:
        assert (choice.kind, choice.provider_voice_id) == ("default", RACHEL)
        assert choice.preset is None and choice.custom_voice is None


def test_default_voice_is_a_setting_and_lends_its_labels(settings):
    """The default voice comes from DEFAULT_VOICE_ID, with its preset's labels for espeak."""
    VoicePresetFactory(provider_voice_id="deep1", labels={"gender": "male"})
    settings.DEFAULT_VOICE_ID = "deep1"
    choice = selectors.voice_for_persona(PersonaFactory())
    assert (choice.kind, choice.provider_voice_id, choice.labels) == (
        "default",
        "deep1",
        {"gender": "male"},
    )
    assert choice.name == "Default"


def test_system_personas_speak_with_their_presets():
    """The classic presets the migration loaded are what the system personas use."""
    choice = selectors.voice_for_persona(SystemPersonaFactory.build(voice_preset=None))
    assert choice.kind == "default"
    from personas.models import PersonaProfile

    isabella = PersonaProfile.objects.get(slug="isabella")
    choice = selectors.voice_for_persona(isabella)
    assert (choice.kind, choice.name, choice.provider_voice_id) == (
        "preset",
        "Bella",
        "EXAVITQu4vr4xnSDxMaL",
    )


def test_custom_voice_keeps_the_preset_labels_for_espeak():
    """A ready clone speaks on espeak-ng with its persona's preset gender."""
    persona = PersonaFactory(voice_preset=VoicePresetFactory(labels={"gender": "female"}))
    persona.custom_voice = CustomVoiceFactory(owner=persona.owner)
    assert selectors.voice_for_persona(persona).labels == {"gender": "female"}


def test_custom_voice_list_is_scoped(user, other_user, django_assert_max_num_queries):
    """A user sees only their own voices; nobody's for an anonymous caller."""
    mine = [CustomVoiceFactory(owner=user) for _ in range(3)]
    CustomVoiceFactory(owner=other_user)
    with django_assert_max_num_queries(1):
        assert {v.pk for v in selectors.custom_voice_list(user=user)} == {v.pk for v in mine}
    assert list(selectors.custom_voice_list(user=None)) == []


def test_preset_list_hides_inactive_ones(django_assert_max_num_queries):
    VoicePresetFactory(name="Hidden", is_active=False)
    with django_assert_max_num_queries(1):
        names = [p.name for p in selectors.preset_list()]
    assert "Hidden" not in names
    assert {"Rachel", "Bella", "Adam"} <= set(names)
