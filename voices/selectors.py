"""Reads of voices: presets, a user's own cloned voices, and the voice a persona speaks with."""

from django.conf import settings
from django.db.models import QuerySet, Sum

from mybella.core.errors import NotFound
from mybella.providers.speech import VoiceChoice, VoiceSettings
from mybella.users.models import User
from personas.models import PersonaProfile
from voices.models import CustomVoice, SpeechClip, VoicePreset

# Presets ---------------------------------------------------------------------------------


def preset_list() -> QuerySet[VoicePreset]:
    """Return the presets users may choose from, by name."""
    return VoicePreset.objects.filter(is_active=True)


def presets_of(*, provider: str) -> dict[str, VoicePreset]:
    """Return every preset of `provider` (offered or not), by the provider's voice id."""
    return {p.provider_voice_id: p for p in VoicePreset.objects.filter(provider=provider)}


def presets_in_use() -> QuerySet[VoicePreset]:
    """Return the presets some persona speaks with, each once."""
    return VoicePreset.objects.filter(personas__isnull=False).distinct()


# Cloned voices ---------------------------------------------------------------------------


def custom_voice_list(*, user: User | None) -> QuerySet[CustomVoice]:
    """Return the voices `user` cloned, newest first (none for anonymous callers)."""
    if user is None or not user.is_authenticated:
        return CustomVoice.objects.none()
    return CustomVoice.objects.filter(owner=user)


def custom_voice_get(*, user: User | None, pk: object) -> CustomVoice:
    """Return the voice `pk` of `user`'s; raise NotFound when there is none, or it is
    someone else's."""
    voice = custom_voice_list(user=user).filter(pk=pk).first()
    if voice is None:
        raise NotFound
    return voice


def custom_voice_status(*, pk: int) -> str | None:
    """Return the cloning status of voice `pk`, or None when it no longer exists."""
    return CustomVoice.objects.filter(pk=pk).values_list("status", flat=True).first()


def custom_voice_lock(*, pk: int) -> CustomVoice | None:
    """Return voice `pk` locked for update until the transaction ends, or None.

    Only for services, inside `transaction.atomic()`: the lock is what makes a cloning
    task safe to run twice.
    """
    return CustomVoice.objects.select_for_update().filter(pk=pk).first()


def cloned_provider_ids() -> set[str]:
    """Return the provider's ids of every user's cloned voices (whoever owns them)."""
    voices = CustomVoice.objects.exclude(provider_voice_id="")
    return set(voices.values_list("provider_voice_id", flat=True))


# A persona's voice -----------------------------------------------------------------------


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
        return VoiceChoice("custom", custom.provider_voice_id, custom.name, labels=labels)
    if preset is not None:
        return preset_voice(preset)
    default = VoicePreset.objects.filter(provider_voice_id=settings.DEFAULT_VOICE_ID).first()
    return VoiceChoice(
        "default", settings.DEFAULT_VOICE_ID, labels=default.labels if default else {}
    )


def preset_voice(preset: VoicePreset) -> VoiceChoice:
    """Return `preset` as the engines take a voice."""
    return VoiceChoice("preset", preset.provider_voice_id, preset.name, labels=preset.labels)


def voice_settings_for_persona(persona: PersonaProfile) -> VoiceSettings:
    """Return how `persona`'s voice is shaped."""
    return VoiceSettings(
        stability=persona.voice_stability,
        similarity=persona.voice_similarity,
        style=persona.voice_style,
        speed=persona.voice_speed,
        model_id=persona.voice_model_id,
    )


# Speech ----------------------------------------------------------------------------------


def speech_clip_get(*, key: str, owner: User | None) -> SpeechClip | None:
    """Return the cached clip stored under `key` for `owner` (None: a shared clip), if any."""
    return SpeechClip.objects.filter(key=key, owner=owner).first()


def speech_clip_list(*, owner: User) -> QuerySet[SpeechClip]:
    """Return `owner`'s own speech clips (shared ones have no owner and are not among them)."""
    return SpeechClip.objects.filter(owner=owner)


def speech_cache_bytes() -> int:
    """Return how many bytes of speech the cache holds."""
    return SpeechClip.objects.aggregate(total=Sum("size"))["total"] or 0


def speech_clips_least_recently_used(*, exclude: int | None = None) -> QuerySet[SpeechClip]:
    """Return the cached clips, least recently used first (without clip `exclude`)."""
    return SpeechClip.objects.exclude(pk=exclude).order_by("last_used_at", "id")
