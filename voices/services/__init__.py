"""Writes of voices: cloned voices, a persona's voice, speech and its cache, presets.

The modules of this package hold the services; import them from here.
"""

from voices.services.custom_voices import (
    NO_KEY,
    custom_voice_claim,
    custom_voice_create,
    custom_voice_delete,
    custom_voice_delete_all,
    custom_voice_finish,
    custom_voice_provider_delete,
    custom_voice_retry,
)
from voices.services.persona_voice import (
    UNSET,
    VOICE_SETTING_FIELDS,
    persona_voice_copy,
    persona_voice_set,
    persona_voice_set_from_input,
)
from voices.services.presets import (
    SyncResult,
    preset_delete,
    preset_save,
    preset_set_active,
    preset_sync,
)
from voices.services.speech import (
    NO_ENGINE,
    NOT_A_REPLY,
    Speech,
    default_line,
    preset_preview,
    preset_preview_text,
    speech_cache_trim,
    speech_clips_delete,
    speech_for_message,
    speech_for_persona,
    speech_key,
    speech_stream,
    speech_stream_for_persona,
    speech_synthesize,
    speech_text_for_persona,
)

__all__ = [
    "NOT_A_REPLY",
    "NO_ENGINE",
    "NO_KEY",
    "UNSET",
    "VOICE_SETTING_FIELDS",
    "Speech",
    "SyncResult",
    "custom_voice_claim",
    "custom_voice_create",
    "custom_voice_delete",
    "custom_voice_delete_all",
    "custom_voice_finish",
    "custom_voice_provider_delete",
    "custom_voice_retry",
    "default_line",
    "persona_voice_copy",
    "persona_voice_set",
    "persona_voice_set_from_input",
    "preset_delete",
    "preset_preview",
    "preset_preview_text",
    "preset_save",
    "preset_set_active",
    "preset_sync",
    "speech_cache_trim",
    "speech_clips_delete",
    "speech_for_message",
    "speech_for_persona",
    "speech_key",
    "speech_stream",
    "speech_stream_for_persona",
    "speech_synthesize",
    "speech_text_for_persona",
]
