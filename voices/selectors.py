"""Reads of voices: presets, a user's own cloned voices, and the voice a persona speaks with."""

from django.conf import settings
from django.db.models import Q, QuerySet, Sum

from chat import selectors as chat_selectors
from chat.models import ChatMessage
from mybella.core.errors import NotFound
from mybella.providers.speech import VoiceChoice, VoiceSettings
from mybella.users.models import User
from personas.models import PersonaProfile
from voices.models import CustomVoice, PersonaVoice, SpeechClip, VoicePreset

# Presets ---------------------------------------------------------------------------------


def preset_list() -> QuerySet[VoicePreset]:
    """Return the presets users may choose from, by name."""
    return VoicePreset.objects.filter(is_active=True)


def presets_of(*, provider: str) -> dict[str, VoicePreset]:
    """Return every preset of `provider` (offered or not), by the provider's voice id."""
    return {p.provider_voice_id: p for p in VoicePreset.objects.filter(provider=provider)}


def preset_offered(*, voice_id: str, provider: str | None = None) -> VoicePreset | None:
    """Return the active preset with the provider's `voice_id` (of `provider`, if given)."""
    presets = preset_list().filter(provider_voice_id=voice_id)
    if provider:
        presets = presets.filter(provider=provider)
    return presets.first()


def presets_in_use() -> QuerySet[VoicePreset]:
    """Return the presets some persona speaks with, each once."""
    return VoicePreset.objects.filter(persona_voices__isnull=False).distinct()


def preset_choices(
    *, user: User | None, persona: PersonaProfile | None = None
) -> QuerySet[VoicePreset]:
    """Return the presets a persona's voice form offers: the active ones, and the ones
    already chosen (by `persona`, or when there is none, by any of `user`'s personas),
    which may stay though they are no longer offered."""
    if persona is not None:  # unsaved (a new system persona in the admin): none chosen
        chosen = VoicePreset.objects.filter(persona_voices__persona_id=persona.pk)
    elif user is not None and user.is_authenticated:
        chosen = VoicePreset.objects.filter(persona_voices__persona__owner=user)
    else:
        chosen = VoicePreset.objects.none()
    return VoicePreset.objects.filter(Q(is_active=True) | Q(pk__in=chosen.values("pk")))


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


def custom_voice_named(*, user: User | None, name: str) -> CustomVoice | None:
    """Return `user`'s voice called `name` (any case), or None."""
    return custom_voice_list(user=user).filter(name__iexact=name).first()


def custom_voice_status(*, pk: int) -> str | None:
    """Return the cloning status of voice `pk`, or None when it no longer exists."""
    return CustomVoice.objects.filter(pk=pk).values_list("status", flat=True).first()


def custom_voice_lock(*, pk: int) -> CustomVoice | None:
    """Return voice `pk` locked for update until the transaction ends, or None.

    Only for services, inside `transaction.atomic()`: the lock is what makes a cloning
    task safe to run twice.
    """
    return CustomVoice.objects.select_for_update().filter(pk=pk).first()


def custom_voices_waiting_lock() -> QuerySet[CustomVoice]:
    """Return every user's voices waiting for a key, oldest first, locked for update.

    Only for services, inside `transaction.atomic()`.
    """
    waiting = CustomVoice.objects.filter(status=CustomVoice.Status.WAITING)
    return waiting.select_for_update().order_by("created_at", "id")


def cloned_provider_ids() -> set[str]:
    """Return the provider's ids of every user's cloned voices (whoever owns them)."""
    voices = CustomVoice.objects.exclude(provider_voice_id="")
    return set(voices.values_list("provider_voice_id", flat=True))


# A persona's voice -----------------------------------------------------------------------

# What to select with a persona whose voice is read.
PERSONA_VOICE_RELATED = ("voice__preset", "voice__custom_voice")


def message_for_speech(*, user: User, pk: int) -> ChatMessage:
    """Return `user`'s message `pk` with its persona's voice; else `NotFound`.

    Another user's message, or one whose persona `user` may no longer see, is not found.
    """
    related = [f"persona__{field}" for field in PERSONA_VOICE_RELATED]
    try:
        return chat_selectors.message_list_visible(user=user).select_related(*related).get(pk=pk)
    except ChatMessage.DoesNotExist:
        raise NotFound from None


def persona_voice_of(persona: PersonaProfile) -> PersonaVoice:
    """Return `persona`'s voice row, or an unsaved one with the defaults when it has none.

    Reads `persona.voice` (select it with the persona: `voice__preset`, `voice__custom_voice`).
    """
    try:
        return persona.voice
    except PersonaVoice.DoesNotExist:
        return PersonaVoice(persona=persona)


def voice_for_persona(persona: PersonaProfile) -> VoiceChoice:
    """Return the voice `persona` speaks with now.

    Its custom voice when that is ready and belongs to the persona's owner, else its preset
    when active, else the default voice (DEFAULT_VOICE_ID). A custom voice still cloning,
    or one that failed, leaves the persona speaking with its preset meanwhile.
    """
    voice = persona_voice_of(persona)
    preset = voice.preset if voice.preset_id else None
    if preset is not None and not preset.is_active:
        preset = None
    custom = voice.custom_voice if voice.custom_voice_id else None
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
    """Return how `persona`'s voice is shaped (the defaults when it has no voice row)."""
    voice = persona_voice_of(persona)
    return VoiceSettings(
        stability=voice.stability,
        similarity=voice.similarity,
        style=voice.style,
        speed=voice.speed,
        model_id=voice.model_id,
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
