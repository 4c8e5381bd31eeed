"""voices's part of exporting and deleting an account (`mybella.users.hooks`).

Imported once, from the app's `AppConfig.ready()`.
"""

import logging
from typing import Any

from mybella.users.hooks import AccountHook, account_hooks, export_rows
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.selectors import persona_list_owned
from voices.models import CustomVoice, PersonaVoice, SpeechClip
from voices.selectors import PERSONA_VOICE_RELATED, custom_voice_list, persona_voice_of
from voices.services import custom_voice_delete_all, speech_clips_delete

logger = logging.getLogger(__name__)


def export(user: User) -> dict[str, Any]:
    """Return the user's cloned voices (never their samples) and their personas' voices."""
    personas = persona_list_owned(user=user).select_related(*PERSONA_VOICE_RELATED)
    return {
        "custom_voices": export_rows(
            custom_voice_list(user=user), "id", "name", "status", "format", "duration", "created_at"
        ),
        "persona_voices": [_persona_voice(persona) for persona in personas],
    }


def _persona_voice(persona: PersonaProfile) -> dict[str, Any]:
    voice = persona_voice_of(persona)  # the defaults when it has no voice row
    return {
        "persona_id": persona.pk,
        "voice_preset_id": voice.preset_id,
        "voice_preset": voice.preset.name if voice.preset_id else None,
        "custom_voice_id": voice.custom_voice_id,
        "stability": voice.stability,
        "similarity": voice.similarity,
        "style": voice.style,
        "speed": voice.speed,
        "model_id": voice.model_id,
    }


def delete(user: User) -> None:
    """Delete the user's speech and voices the way a user deleting one voice does.

    Speech clips and samples go once the deletion is committed; each clone at ElevenLabs is
    released by a retried task (`custom_voice_delete`), so the provider being down never
    keeps the account.
    """
    speech_clips_delete(owner=user)
    custom_voice_delete_all(user=user)


account_hooks.register(
    AccountHook(
        name="voices",
        models=(CustomVoice, SpeechClip, PersonaVoice),
        export=export,
        delete=delete,
    )
)
