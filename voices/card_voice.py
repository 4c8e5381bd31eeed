"""The persona's voice as a block of its Character Card (`personas.card_hooks`).

An export writes `data.extensions.mybella_voice`: the preset (its provider and ElevenLabs
`voice_id`, and its name), the voice settings, and the name of the cloned voice the
persona speaks with, if any, as a hint only: a cloned voice never travels. An import
applies what exists here: the preset with that voice id when it is offered, the settings
within their ranges, and the importer's own ready voice of the hinted name. Anything else
in the block is left out rather than refusing the card. Imported once, from the app's
`AppConfig.ready()`.
"""

import re
from collections.abc import Mapping
from typing import Any

from mybella.users.models import User
from personas.card_hooks import CardExtension, card_extensions
from personas.models import PersonaProfile
from voices import rules, selectors
from voices.models import CustomVoice
from voices.services import persona_voice_set

BLOCK = "mybella_voice"
VERSION = 1


def export_voice(persona: PersonaProfile) -> dict[str, Any] | None:
    """Return the card block of `persona`'s voice, or None when it has the defaults."""
    voice = selectors.persona_voice_of(persona)
    if voice._state.adding:
        return None
    block: dict[str, Any] = {
        "version": VERSION,
        "settings": {name: getattr(voice, name) for name in (*rules.VOICE_SETTINGS, "model_id")},
    }
    if voice.preset_id:
        block["preset"] = {
            "provider": voice.preset.provider,
            "voice_id": voice.preset.provider_voice_id,
            "name": voice.preset.name,
        }
    if voice.custom_voice_id:
        block["custom_voice_name"] = voice.custom_voice.name
    return block


def _settings_from(block: Mapping[str, Any]) -> dict[str, Any]:
    """Return the block's settings that are numbers within their ranges, and its model id
    when it is one."""
    given = block.get("settings")
    if not isinstance(given, Mapping):
        return {}
    chosen: dict[str, Any] = {}
    for name, (low, high, _default) in rules.VOICE_SETTINGS.items():
        value = given.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
            chosen[name] = float(value)
    model_id = given.get("model_id")
    if (
        isinstance(model_id, str)
        and len(model_id) <= rules.MODEL_ID_MAX_CHARS
        and re.match(rules.MODEL_ID_PATTERN, model_id)
    ):
        chosen["model_id"] = model_id
    return chosen


def apply_voice(*, persona: PersonaProfile, user: User, block: object) -> None:
    """Give the persona just imported the voice of a card's block, where it exists here."""
    if not isinstance(block, Mapping):
        return
    choice: dict[str, Any] = _settings_from(block)
    preset = block.get("preset")
    if isinstance(preset, Mapping) and isinstance(preset.get("voice_id"), str):
        provider = preset.get("provider") if isinstance(preset.get("provider"), str) else None
        found = selectors.preset_offered(voice_id=preset["voice_id"], provider=provider)
        if found is not None:
            choice["preset"] = found
    hint = block.get("custom_voice_name")
    if isinstance(hint, str) and hint.strip():
        own = selectors.custom_voice_named(user=user, name=hint.strip())
        if own is not None and own.status == CustomVoice.Status.READY:
            choice["custom_voice"] = own
    if choice:
        persona_voice_set(persona=persona, user=user, **choice)


VOICE_CARD_BLOCK = card_extensions.register(
    CardExtension(name=BLOCK, export=export_voice, apply=apply_voice)
)
