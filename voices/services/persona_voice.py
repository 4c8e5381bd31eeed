"""Writes of a persona's voice: its preset, its cloned voice and how it is shaped."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from mybella.core.errors import NotFound
from mybella.core.services import model_update, service
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.services import persona_ensure_editable
from voices import selectors
from voices.models import CustomVoice, VoicePreset

UNSET: Any = object()
VOICE_SETTING_FIELDS = {
    "stability": "voice_stability",
    "similarity": "voice_similarity",
    "style": "voice_style",
    "speed": "voice_speed",
    "model_id": "voice_model_id",
}


def _check_custom_voice(persona: PersonaProfile, voice: CustomVoice) -> None:
    if not persona.is_custom:
        raise ValidationError(
            {"custom_voice": _("Only a user's own persona can use a cloned voice.")}
        )
    if voice.owner_id != persona.owner_id:
        raise NotFound  # anyone else's voice does not exist for this persona
    if voice.status == CustomVoice.Status.FAILED:
        raise ValidationError(
            {"custom_voice": _("This voice failed to clone; try it again first.")}
        )


@service
@transaction.atomic
def persona_set_voice(
    *,
    persona: PersonaProfile,
    user: User,
    preset: VoicePreset | None = UNSET,
    custom_voice: CustomVoice | None = UNSET,
    custom_voice_id: int | None = UNSET,
    **voice_settings: Any,
) -> PersonaProfile:
    """Choose a persona's preset, cloned voice and voice settings; what isn't given stays.

    Only the persona's editor may (staff for system personas). The cloned voice is given
    as a row or by id (`custom_voice_id`, looked up among `user`'s own voices); a persona
    may only use its owner's voices (anyone else's is NotFound), and never one whose
    cloning failed. A preset no longer offered may stay but not be newly chosen. Nothing
    is written when nothing changes.
    """
    persona_ensure_editable(persona=persona, user=user)
    unknown = set(voice_settings) - set(VOICE_SETTING_FIELDS)
    if unknown:
        raise TypeError(f"persona_set_voice() got unexpected settings: {sorted(unknown)}")
    if custom_voice is not UNSET and custom_voice_id is not UNSET:
        raise TypeError("persona_set_voice() takes custom_voice or custom_voice_id, not both.")
    if custom_voice_id is not UNSET:
        custom_voice = (
            None
            if custom_voice_id is None
            else selectors.custom_voice_get(user=user, pk=custom_voice_id)
        )
    data: dict[str, Any] = {}
    if preset is not UNSET:
        if preset is not None and not preset.is_active and preset.pk != persona.voice_preset_id:
            raise ValidationError({"voice_preset": _("This voice preset is no longer offered.")})
        data["voice_preset"] = preset
    if custom_voice is not UNSET:
        if custom_voice is not None:
            _check_custom_voice(persona, custom_voice)
        data["custom_voice"] = custom_voice
    for name, value in voice_settings.items():
        data[VOICE_SETTING_FIELDS[name]] = value
    persona, _changed = model_update(instance=persona, fields=data.keys(), data=data)
    return persona
