"""voices's part of exporting and deleting an account (`mybella.users.hooks`).

Imported once, from the app's `AppConfig.ready()`.
"""

import logging
from typing import Any

from mybella.providers.speech import SpeechError, cloning_engine
from mybella.users.hooks import AccountHook, account_hooks, delete_files_on_commit, export_rows
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.selectors import persona_list_owned
from voices.models import CustomVoice, SpeechClip
from voices.selectors import custom_voice_list, voice_settings_for_persona
from voices.services import speech_clips_delete

logger = logging.getLogger(__name__)


def export(user: User) -> dict[str, Any]:
    """Return the user's cloned voices (never their samples) and their personas' voices."""
    personas = persona_list_owned(user=user).select_related("voice_preset")
    return {
        "custom_voices": export_rows(
            custom_voice_list(user=user), "id", "name", "status", "format", "duration", "created_at"
        ),
        "persona_voices": [_persona_voice(persona) for persona in personas],
    }


def _persona_voice(persona: PersonaProfile) -> dict[str, Any]:
    shape = voice_settings_for_persona(persona)
    return {
        "persona_id": persona.pk,
        "voice_preset_id": persona.voice_preset_id,
        "voice_preset": persona.voice_preset.name if persona.voice_preset_id else None,
        "custom_voice_id": persona.custom_voice_id,
        "stability": shape.stability,
        "similarity": shape.similarity,
        "style": shape.style,
        "speed": shape.speed,
        "model_id": shape.model_id,
    }


def delete(user: User) -> None:
    """Delete the user's speech, the samples of their voices, and their clones at ElevenLabs.

    Speech clips and samples go once the deletion is committed. The clones are deleted at
    the provider here and now; a failure there is logged and never keeps the account.
    """
    speech_clips_delete(owner=user)
    voices = custom_voice_list(user=user)
    delete_files_on_commit(voice.sample for voice in voices.only("sample"))
    _delete_cloned_voices(
        list(voices.exclude(provider_voice_id="").values_list("provider_voice_id", flat=True))
    )


def _delete_cloned_voices(provider_voice_ids: list[str]) -> None:
    """Delete voices at ElevenLabs; log those that could not be, for staff to remove by hand."""
    if not provider_voice_ids:
        return
    engine = cloning_engine()
    for provider_voice_id in provider_voice_ids:
        if engine is None:
            logger.warning(
                "Account deleted without ELEVENLABS_API_KEY; provider voice %s stays.",
                provider_voice_id,
            )
            continue
        try:
            engine.delete_voice(provider_voice_id)
        except SpeechError as error:
            logger.warning("Could not delete voice %s at ElevenLabs: %s", provider_voice_id, error)


account_hooks.register(
    AccountHook(name="voices", models=(CustomVoice, SpeechClip), export=export, delete=delete)
)
