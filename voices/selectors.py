"""Reads of voices: presets, a user's own cloned voices, and the voice a persona speaks with."""

from django.conf import settings
from django.db.models import QuerySet

from mybella.providers.speech import VoiceChoice, VoiceSettings
from mybella.users.models import User
from personas.models import PersonaProfile
from voices.models import CustomVoice, SpeechClip, VoicePreset


def preset_list() -> QuerySet[VoicePreset]:
    """Return the presets users may choose from, by name."""
    return VoicePreset.objects.filter(is_active=True)


def custom_voice_list(*, user: User | None) -> QuerySet[CustomVoice]:
    """Return the voices `user` cloned, newest first (none for anonymous callers)."""
    if user is None or not user.is_authenticated:
        return CustomVoice.objects.none()
    return CustomVoice.objects.filter(owner=user)


def voice_for_persona(persona: PersonaProfile) -> VoiceChoice:
    """Return the voice `persona` speaks with now.

    Its custom voice when that is ready and belongs to the persona's owner, else its preset
    when active, else the default voice (DEFAULT_VOICE_ID). A custom voice still cloning,
    or one that failed, leaves the persona speaking with its preset meanwhile.
    """
    preset = persona.voice_preset if persona.voice_preset_id else None
    if preset is not None and not preset.is_active:
        preset = None
    custom = persona.custom_voice if persona.custom_voice_id else None
    if (
        custom is not None
        and custom.status == CustomVoice.Status.READY
        and custom.provider_voice_id
        and persona.is_custom
        and custom.owner_id == persona.owner_id
    ):
        # espeak-ng has no clone of the voice; the preset's labels still say who speaks.
        labels = preset.labels if preset is not None else {}
        return VoiceChoice("custom", custom.provider_voice_id, custom_voice=custom, labels=labels)
    if preset is not None:
        return VoiceChoice("preset", preset.provider_voice_id, preset=preset, labels=preset.labels)
    default = VoicePreset.objects.filter(provider_voice_id=settings.DEFAULT_VOICE_ID).first()
    return VoiceChoice(
        "default", settings.DEFAULT_VOICE_ID, labels=default.labels if default else {}
    )


def voice_settings_for_persona(persona: PersonaProfile) -> VoiceSettings:
    """Return how `persona`'s voice is shaped."""
    return VoiceSettings(
        stability=persona.voice_stability,
        similarity=persona.voice_similarity,
        style=persona.voice_style,
        speed=persona.voice_speed,
        model_id=persona.voice_model_id,
    )


def speech_clip_get(*, key: str, owner: User | None) -> SpeechClip | None:
    """Return the cached clip stored under `key` for `owner` (None: a shared clip), if any."""
    return SpeechClip.objects.filter(key=key, owner=owner).first()
