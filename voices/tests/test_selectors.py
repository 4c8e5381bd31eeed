"""Which voice a persona speaks with, and the scoped reads of voices."""

import dataclasses

import pytest

from mybella.core.errors import NotFound
from mybella.providers.speech.espeak import PRESET_VOICES
from personas.tests.factories import PersonaFactory, SystemPersonaFactory
from voices import selectors
from voices.models import CustomVoice, VoicePreset
from voices.tests.factories import CustomVoiceFactory, PersonaVoiceFactory, VoicePresetFactory

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
    # Someone else's voice only gets here by a bug; it must still not be used.
    voice = PersonaVoiceFactory(
        persona=persona,
        custom_voice=_custom_voice(custom, persona.owner),
        preset=None
        if preset == "none"
        else VoicePresetFactory(provider_voice_id="p1", is_active=preset == "active"),
    )
    choice = selectors.voice_for_persona(persona)
    if custom == "ready":
        assert (choice.kind, choice.provider_voice_id) == ("custom", "mine")
        assert choice.name == voice.custom_voice.name
    elif preset == "active":
        assert (choice.kind, choice.provider_voice_id) == ("preset", "p1")
        assert choice.name == voice.preset.name
    else:
        assert (choice.kind, choice.provider_voice_id) == ("default", RACHEL)
        assert choice.name == "Default"
    # Plain data for the engines (which import no app): no model rows inside.
    assert all(isinstance(getattr(choice, f.name), str | dict) for f in dataclasses.fields(choice))


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
    choice = selectors.voice_for_persona(SystemPersonaFactory.build())
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
    persona = PersonaFactory()
    PersonaVoiceFactory(
        persona=persona,
        preset=VoicePresetFactory(labels={"gender": "female"}),
        custom_voice=CustomVoiceFactory(owner=persona.owner),
    )
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


def test_custom_voice_get_is_scoped(user, other_user, django_assert_num_queries):
    """One of the caller's voices by id; anyone else's, or none, is NotFound."""
    mine, theirs = CustomVoiceFactory(owner=user), CustomVoiceFactory(owner=other_user)
    with django_assert_num_queries(1):
        assert selectors.custom_voice_get(user=user, pk=mine.pk) == mine
    for pk in (theirs.pk, 999_999):
        with pytest.raises(NotFound):
            selectors.custom_voice_get(user=user, pk=pk)
    with pytest.raises(NotFound):
        selectors.custom_voice_get(user=None, pk=mine.pk)


def test_what_a_preset_sync_reads(django_assert_num_queries):
    """Cloned voices' provider ids, a provider's presets, and the presets personas use."""
    CustomVoiceFactory(provider_voice_id="clone1")
    CustomVoiceFactory(status=CustomVoice.Status.PENDING, provider_voice_id="")
    used, unused = VoicePresetFactory(), VoicePresetFactory(provider="other")
    PersonaVoiceFactory(persona=PersonaFactory(), preset=used)
    PersonaVoiceFactory(persona=PersonaFactory(), preset=used)
    with django_assert_num_queries(1):
        assert selectors.cloned_provider_ids() == {"clone1"}
    with django_assert_num_queries(1):
        presets = selectors.presets_of(provider="elevenlabs")
    assert presets[used.provider_voice_id] == used and unused.provider_voice_id not in presets
    in_use = list(selectors.presets_in_use())
    assert in_use.count(used) == 1 and unused not in in_use
    assert {p.name for p in in_use} >= {"Bella"}  # the system personas' presets


@pytest.mark.django_db
def test_every_stored_classic_preset_has_its_own_espeak_voice():
    """The presets the migration loads are the ones espeak-ng gives distinct voices."""
    stored = set(VoicePreset.objects.values_list("provider_voice_id", flat=True))
    assert len(stored) == 9
    assert stored <= set(PRESET_VOICES)
