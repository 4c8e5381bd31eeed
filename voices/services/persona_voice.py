"""Writes of a persona's voice: its preset, its cloned voice and how it is shaped."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from mybella.core.errors import NotFound
from mybella.core.services import model_update, service
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.services import persona_ensure_editable
from voices import rules, selectors
from voices.models import CustomVoice, PersonaVoice, VoicePreset

UNSET: Any = object()
VOICE_SETTING_FIELDS = (*rules.VOICE_SETTINGS, "model_id")


def _check_custom_voice(persona: PersonaProfile, voice: CustomVoice) -> None:
    """Refuse a cloned voice on anything but its owner's own persona, or one that failed."""
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
def persona_voice_set(
    *,
    persona: PersonaProfile,
    user: User,
    preset: VoicePreset | None = UNSET,
    custom_voice: CustomVoice | None = UNSET,
    custom_voice_id: int | None = UNSET,
    **voice_settings: Any,
) -> PersonaVoice:
    """Choose a persona's preset, cloned voice and voice settings; what isn't given stays.

    Only the persona's editor may (staff for system personas). The cloned voice is given
    as a row or by id (`custom_voice_id`, looked up among `user`'s own voices); a persona
    may only use its owner's voices (anyone else's is NotFound), and never one whose
    cloning failed. A preset no longer offered may stay but not be newly chosen. Nothing
    is written when nothing changes, nor a row made for a persona left at the defaults.
    """
    persona_ensure_editable(persona=persona, user=user)
    unknown = set(voice_settings) - set(VOICE_SETTING_FIELDS)
    if unknown:
        raise TypeError(f"persona_voice_set() got unexpected settings: {sorted(unknown)}")
    if custom_voice is not UNSET and custom_voice_id is not UNSET:
        raise TypeError("persona_voice_set() takes custom_voice or custom_voice_id, not both.")
    if custom_voice_id is not UNSET:
        custom_voice = (
            None
            if custom_voice_id is None
            else selectors.custom_voice_get(user=user, pk=custom_voice_id)
        )
    voice = selectors.persona_voice_of(persona)
    data: dict[str, Any] = dict(voice_settings)
    if preset is not UNSET:
        if preset is not None and not preset.is_active and preset.pk != voice.preset_id:
            raise ValidationError({"voice_preset": _("This voice preset is no longer offered.")})
        data["preset"] = preset
    if custom_voice is not UNSET:
        if custom_voice is not None:
            _check_custom_voice(persona, custom_voice)
        data["custom_voice"] = custom_voice
    if voice._state.adding:
        # No row yet: make one only when something differs from the defaults.
        for name, value in data.items():
            setattr(voice, name, value)
        if _differs_from_defaults(voice):
            voice.full_clean(exclude=["persona"])
            voice.save()
        return voice
    voice, _changed = model_update(instance=voice, fields=data.keys(), data=data)
    return voice


def persona_voice_set_from_input(
    *, persona: PersonaProfile, user: User, data: Mapping[str, Any]
) -> PersonaVoice:
    """Call `persona_voice_set` with the voice input of the API and the page, whose keys
    are `voice_preset`, `custom_voice` (an id) and the settings' names."""
    changes = dict(data)
    preset = changes.pop("voice_preset", UNSET)
    custom_voice_id = changes.pop("custom_voice", UNSET)
    return persona_voice_set(
        persona=persona, user=user, preset=preset, custom_voice_id=custom_voice_id, **changes
    )


def _chosen_fields() -> list[str]:
    """Return the columns of what was chosen for a voice (not its persona, not its dates)."""
    return [
        field.attname
        for field in PersonaVoice._meta.concrete_fields
        if field.name not in {"persona", "created_at", "updated_at"}
    ]


def _differs_from_defaults(voice: PersonaVoice) -> bool:
    """Return whether `voice` says anything a persona without a voice row would not."""
    blank = PersonaVoice()
    return any(getattr(voice, name) != getattr(blank, name) for name in _chosen_fields())


@service
@transaction.atomic
def persona_voice_copy(*, source: PersonaProfile, target: PersonaProfile) -> PersonaVoice | None:
    """Give `target` the voice of `source` (a duplicated persona); nothing when it has none."""
    voice = selectors.persona_voice_of(source)
    if voice._state.adding:
        return None
    copy = PersonaVoice(persona=target, **{name: getattr(voice, name) for name in _chosen_fields()})
    if not target.is_custom:
        copy.custom_voice = None  # a cloned voice stays with its owner's own persona
    copy.save()
    return copy
