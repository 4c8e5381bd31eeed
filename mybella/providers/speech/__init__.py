"""Speech engines: ElevenLabs and espeak-ng behind one interface, chosen by settings."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mybella.providers.speech.base import (
    Audio,
    SpeechEngine,
    SpeechError,
    VoiceChoice,
    VoiceSettings,
)
from mybella.providers.speech.espeak import EspeakEngine, espeak_binary

__all__ = [
    "Audio",
    "EspeakEngine",
    "SpeechEngine",
    "SpeechError",
    "VoiceChoice",
    "VoiceSettings",
    "cloning_engine",
    "get_engine",
]

CHOICES = {"elevenlabs", "espeak", "none"}


def get_engine() -> SpeechEngine | None:
    """Return the speech engine the settings ask for, or None when there is none.

    SPEECH_ENGINE "elevenlabs", "espeak" or "none" decides; when it is empty, use ElevenLabs
    if ELEVENLABS_API_KEY is set, else espeak-ng if it is installed, else nothing.
    """
    choice = settings.SPEECH_ENGINE.strip().lower()
    if choice and choice not in CHOICES:
        raise ImproperlyConfigured(
            f"SPEECH_ENGINE must be 'elevenlabs', 'espeak', 'none' or empty, "
            f"not {settings.SPEECH_ENGINE!r}."
        )
    if not choice:
        if settings.ELEVENLABS_API_KEY:
            choice = "elevenlabs"
        else:
            choice = "espeak" if espeak_binary() else "none"
    if choice == "elevenlabs":
        from mybella.providers.speech.elevenlabs import ElevenLabsEngine

        return ElevenLabsEngine()
    if choice == "espeak" and espeak_binary():
        return EspeakEngine()
    return None


def cloning_engine() -> SpeechEngine | None:
    """Return the engine that clones voices (ElevenLabs), or None without an API key."""
    if not settings.ELEVENLABS_API_KEY:
        return None
    from mybella.providers.speech.elevenlabs import ElevenLabsEngine

    return ElevenLabsEngine()
