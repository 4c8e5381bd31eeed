"""A persona's voice moves from the persona's columns to `PersonaVoice`, and back."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("personas", "0004_persona_field_limits")
AFTER = ("personas", "0006_remove_voice")


def test_voice_columns_move_to_persona_voice_and_back(migrator):
    old = migrator.apply_initial_migration([BEFORE, ("voices", "0004_move_private_files")])
    User = old.apps.get_model("users", "User")
    Persona = old.apps.get_model("personas", "PersonaProfile")
    CustomVoice = old.apps.get_model("voices", "CustomVoice")
    Preset = old.apps.get_model("voices", "VoicePreset")
    owner = User.objects.create(username="alice")
    clone = CustomVoice.objects.create(
        owner=owner,
        name="Me",
        sample="voice-samples/x.wav",
        format="wav",
        content_type="audio/wav",
        duration=12,
        size=11,
        sha256="0" * 64,
        status="ready",
        provider_voice_id="c1",
    )
    adam = Preset.objects.get(name="Adam")
    shaped = Persona.objects.create(
        name="Shaped",
        slug="shaped",
        is_custom=True,
        owner=owner,
        voice_preset=adam,
        custom_voice=clone,
        voice_stability=0.3,
        voice_similarity=0.9,
        voice_style=0.2,
        voice_speed=1.1,
        voice_model_id="eleven_turbo_v2_5",
    )
    plain = Persona.objects.create(name="Plain", slug="plain", is_custom=True, owner=owner)
    bella = Persona.objects.get(slug="isabella").voice_preset_id

    new = migrator.apply_tested_migration(AFTER)
    PersonaVoice = new.apps.get_model("voices", "PersonaVoice")
    voice = PersonaVoice.objects.get(persona_id=shaped.pk)
    assert (voice.preset_id, voice.custom_voice_id) == (adam.pk, clone.pk)
    assert (voice.stability, voice.similarity, voice.style, voice.speed, voice.model_id) == (
        0.3,
        0.9,
        0.2,
        1.1,
        "eleven_turbo_v2_5",
    )
    assert not PersonaVoice.objects.filter(persona_id=plain.pk).exists()  # all defaults
    isabella = new.apps.get_model("personas", "PersonaProfile").objects.get(slug="isabella")
    assert PersonaVoice.objects.get(persona_id=isabella.pk).preset_id == bella
    PersonaVoice.objects.filter(persona_id=shaped.pk).update(speed=0.8)  # changed since

    back = migrator.apply_tested_migration([BEFORE, ("voices", "0004_move_private_files")])
    Persona = back.apps.get_model("personas", "PersonaProfile")
    restored = Persona.objects.get(pk=shaped.pk)
    assert (restored.voice_preset_id, restored.custom_voice_id) == (adam.pk, clone.pk)
    assert (restored.voice_stability, restored.voice_speed, restored.voice_model_id) == (
        0.3,
        0.8,
        "eleven_turbo_v2_5",
    )
    assert Persona.objects.get(pk=plain.pk).voice_speed == 1.0
    assert Persona.objects.get(slug="isabella").voice_preset_id == bella
