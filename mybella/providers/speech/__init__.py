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
    "cloning_available",
    "cloning_engine",
    "get_engine",
    "speech_available",
]

CHOICES = {"elevenlabs", "espeak", "none"}


def _chosen() -> str:
    """Return the engine the settings ask for: "elevenlabs", "espeak" or "none".

    SPEECH_ENGINE "elevenlabs", "espeak" or "none" decides; when it is empty, use ElevenLabs
    if ELEVENLABS_API_KEY is set, else espeak-ng if it is installed, else nothing. espeak-ng
    asked for but not installed is nothing too.
    """
    choice = settings.SPEECH_ENGINE.strip().lower()
    if choice and choice not in CHOICES:
        raise ImproperlyConfigured(
            f"SPEECH_ENGINE must be 'elevenlabs', 'espeak', 'none' or empty, "
            f"not {settings.SPEECH_ENGINE!r}."
        )
    if not choice:
        choice = "elevenlabs" if settings.ELEVENLABS_API_KEY else "espeak"
    if choice == "espeak" and not espeak_binary():
        return "none"
    return choice


def get_engine() -> SpeechEngine | None:
    """Return the speech engine the settings ask for, or None when there is none."""
    choice = _chosen()
    if choice == "elevenlabs":
        # Imported here so servers without ElevenLabs never pay for loading the SDK.
        from mybella.providers.speech.elevenlabs import ElevenLabsEngine

        return ElevenLabsEngine()
    if choice == "espeak":
        return EspeakEngine()
    return None


def speech_available() -> bool:
    """Return whether the server speaks at all, without making an engine."""
    return _chosen() != "none"


def cloning_engine() -> SpeechEngine | None:
    """Return the engine that clones voices (ElevenLabs), or None without an API key."""
    if not settings.ELEVENLABS_API_KEY:
        return None
    from mybella.providers.speech.elevenlabs import ElevenLabsEngine

    return ElevenLabsEngine()


def cloning_available() -> bool:
    """Return whether voices can be cloned here (an ElevenLabs key is set), without an engine."""
    return bool(settings.ELEVENLABS_API_KEY)
