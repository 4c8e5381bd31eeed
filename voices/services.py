"""Writes of voices: cloned voices, a persona's voice, synthesized speech and its cache."""

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from mybella.providers.speech import (
    SpeechEngine,
    SpeechError,
    VoiceChoice,
    VoiceSettings,
    get_engine,
)
from mybella.providers.speech import cloning_engine as _cloning_engine
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.services import persona_ensure_editable
from voices import selectors
from voices.audio import SampleError, inspect_sample
from voices.models import CustomVoice, SpeechClip, VoicePreset

logger = logging.getLogger(__name__)

NO_ENGINE = "No speech engine is available on the server; the page will use your browser's voice."
UNSET: Any = object()
VOICE_SETTING_FIELDS = {
    "stability": "voice_stability",
    "similarity": "voice_similarity",
    "style": "voice_style",
    "speed": "voice_speed",
    "model_id": "voice_model_id",
}
EXTENSIONS = {"audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg"}


# Cloned voices -------------------------------------------------------------------------


def _enqueue_clone(voice_id: int) -> None:
    from voices.tasks import clone_custom_voice

    transaction.on_commit(lambda: clone_custom_voice.enqueue(voice_id))


def _delete_file_on_commit(field_file: Any) -> None:
    name, storage = field_file.name, field_file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def custom_voice_create(*, owner: User, name: str, upload: Any) -> CustomVoice:
    """Check a sample, store it under a random name and queue the voice for cloning."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the voice a name.")})
    voices = selectors.custom_voice_list(user=owner)
    limit = settings.CUSTOM_VOICES_MAX_PER_USER
    if voices.count() >= limit:
        raise ValidationError(
            _("You can have at most %d custom voices. Delete one to make room.") % limit
        )
    if voices.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("You already have a voice named “%s”.") % name})
    try:
        info = inspect_sample(upload)
    except SampleError as error:
        raise ValidationError({"sample": str(error)}) from error
    voice = CustomVoice(
        owner=owner,
        name=name,
        format=info.format,
        content_type=info.content_type,
        duration=info.duration,
        size=info.size,
        sha256=info.sha256,
    )
    voice.sample.save(f"sample.{info.format}", ContentFile(info.data), save=False)
    try:
        voice.save()
    except BaseException:
        voice.sample.storage.delete(voice.sample.name)
        raise
    _enqueue_clone(voice.pk)
    return voice


@transaction.atomic
def custom_voice_delete(*, voice: CustomVoice, user: User) -> None:
    """Delete a cloned voice at the provider and here; personas using it fall back."""
    if voice.owner_id != user.pk:
        raise Http404
    if voice.provider_voice_id:
        engine = _cloning_engine()
        if engine is None:
            logger.warning(
                "Custom voice %s deleted without ELEVENLABS_API_KEY; provider voice %s stays.",
                voice.pk,
                voice.provider_voice_id,
            )
        else:
            engine.delete_voice(voice.provider_voice_id)
    _delete_file_on_commit(voice.sample)
    voice.delete()


@transaction.atomic
def custom_voice_retry(*, voice: CustomVoice, user: User) -> CustomVoice:
    """Queue a voice whose cloning failed for another try."""
    if voice.owner_id != user.pk:
        raise Http404
    if voice.status != CustomVoice.Status.FAILED:
        raise ValidationError(_("Only a voice whose cloning failed can be tried again."))
    voice.status, voice.error, voice.attempts = CustomVoice.Status.PENDING, "", 0
    voice.save(update_fields=["status", "error", "attempts", "updated_at"])
    _enqueue_clone(voice.pk)
    return voice


# A persona's voice ----------------------------------------------------------------------


@transaction.atomic
def persona_set_voice(
    *,
    persona: PersonaProfile,
    user: User,
    preset: VoicePreset | None = UNSET,
    custom_voice: CustomVoice | None = UNSET,
    **voice_settings: Any,
) -> PersonaProfile:
    """Choose a persona's preset, cloned voice and voice settings; what isn't given stays.

    Only the persona's editor may (staff for system personas), and a persona may only use
    its owner's cloned voices: anyone else's is treated as not existing.
    """
    persona_ensure_editable(persona=persona, user=user)
    unknown = set(voice_settings) - set(VOICE_SETTING_FIELDS)
    if unknown:
        raise TypeError(f"persona_set_voice() got unexpected settings: {sorted(unknown)}")
    changed = []
    if preset is not UNSET:
        if preset is not None and not preset.is_active and preset.pk != persona.voice_preset_id:
            raise ValidationError({"voice_preset": _("This voice preset is no longer offered.")})
        persona.voice_preset = preset
        changed.append("voice_preset")
    if custom_voice is not UNSET:
        if custom_voice is not None:
            if not persona.is_custom:
                raise ValidationError(
                    {"custom_voice": _("Only a user's own persona can use a cloned voice.")}
                )
            if custom_voice.owner_id != persona.owner_id:
                raise Http404
        persona.custom_voice = custom_voice
        changed.append("custom_voice")
    for name, value in voice_settings.items():
        setattr(persona, VOICE_SETTING_FIELDS[name], value)
        changed.append(VOICE_SETTING_FIELDS[name])
    if changed:
        persona.save(update_fields=[*changed, "updated_at"])
    return persona


# Speech and its cache -------------------------------------------------------------------


@dataclass(frozen=True)
class Speech:
    """Audio ready to send: a stored clip, or chunks streaming from the engine."""

    content_type: str
    chunks: Iterator[bytes]
    cache_hit: bool
    engine: str


def _engine() -> SpeechEngine:
    engine = get_engine()
    if engine is None:
        raise SpeechError(NO_ENGINE, 503)
    return engine


def speech_key(
    engine: SpeechEngine,
    voice: VoiceChoice,
    shape: VoiceSettings,
    text: str,
    owner: User | None = None,
) -> str:
    """Return the cache key of speech: everything that shapes the audio, and whose it is
    (None: anyone's), hashed. It finds a clip; it never names its file."""
    parts = [
        f"user:{owner.pk}" if owner is not None else "",
        engine.name,
        engine.voice_key(voice),
        shape.model_id,
        [shape.stability, shape.similarity, shape.style, shape.speed],
        text,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _cached(key: str, owner: User | None) -> SpeechClip | None:
    clip = selectors.speech_clip_get(key=key, owner=owner)
    if clip is None:
        return None
    if not clip.audio.storage.exists(clip.audio.name):
        clip.delete()  # its file went missing: make it again
        return None
    SpeechClip.objects.filter(pk=clip.pk).update(last_used_at=timezone.now())
    return clip


def _store(
    key: str, engine: str, content: bytes, content_type: str, owner: User | None = None
) -> SpeechClip:
    clip = SpeechClip(
        key=key, owner=owner, content_type=content_type, size=len(content), engine=engine
    )
    # speech_upload_to names the file at random; only the extension is taken from here.
    clip.audio.save(f"clip.{EXTENSIONS.get(content_type, 'bin')}", ContentFile(content), False)
    try:
        with transaction.atomic():
            clip.save()
    except IntegrityError:
        # Another request stored the same speech meanwhile: keep theirs.
        clip.audio.storage.delete(clip.audio.name)
        return SpeechClip.objects.get(key=key)
    speech_cache_trim(max_bytes=settings.SPEECH_CACHE_MAX_BYTES, keep=clip.pk)
    return clip


def speech_synthesize(
    *, text: str, voice: VoiceChoice, shape: VoiceSettings, owner: User | None = None
) -> SpeechClip:
    """Return `text` spoken in `voice` from the cache, or synthesize and keep it.

    A clip with an `owner` is theirs alone (and goes with their account); one without is
    shared by every caller. The returned clip carries `cache_hit`. Raise SpeechError (503
    without an engine).
    """
    engine = _engine()
    key = speech_key(engine, voice, shape, text, owner)
    clip = _cached(key, owner)
    if clip is not None:
        clip.cache_hit = True
        return clip
    audio = engine.synthesize(text, voice, shape)
    clip = _store(key, engine.name, audio.content, audio.content_type, owner)
    clip.cache_hit = False
    return clip


def _file_chunks(clip: SpeechClip, size: int = 64 * 1024) -> Iterator[bytes]:
    with clip.audio.open("rb") as audio:
        while chunk := audio.read(size):
            yield chunk


def speech_stream(
    *, text: str, voice: VoiceChoice, shape: VoiceSettings, owner: User | None = None
) -> Speech:
    """Return `text` spoken in `voice` as chunks: from the cache, or streamed from the engine
    and kept (for `owner`, as in speech_synthesize) once the whole of it has gone out."""
    engine = _engine()
    key = speech_key(engine, voice, shape, text, owner)
    clip = _cached(key, owner)
    if clip is not None:
        return Speech(clip.content_type, _file_chunks(clip), True, clip.engine)
    content_type, chunks = engine.stream(text, voice, shape)

    def keep_while_sending() -> Iterator[bytes]:
        received = []
        for chunk in chunks:
            received.append(chunk)
            yield chunk
        _store(key, engine.name, b"".join(received), content_type, owner)

    return Speech(content_type, keep_while_sending(), False, engine.name)


def _default_line(persona: PersonaProfile) -> str:
    return persona.greeting.strip() or f"Hi, I'm {persona.name}."


def speech_text_for_persona(persona: PersonaProfile, text: str | None = None) -> str:
    """Return what `persona` should say: `text`, else its greeting, within SPEECH_MAX_CHARS."""
    text = (text or "").strip() or _default_line(persona)
    if len(text) > settings.SPEECH_MAX_CHARS:
        raise ValidationError(
            {"text": _("Speech is limited to %d characters.") % settings.SPEECH_MAX_CHARS}
        )
    return text


def _persona_speech(persona: PersonaProfile, text: str | None, user: User | None) -> dict:
    text = speech_text_for_persona(persona, text)
    # Whether a text is cached says someone had it spoken (X-Speech-Cache, or timing), so
    # only the greeting, which everyone who sees the persona knows, is shared between users.
    # A user's own persona is theirs alone, greeting included: its speech goes with them.
    if persona.owner_id is not None:
        owner = user if user is not None and user.pk == persona.owner_id else persona.owner
    elif user is not None and text != _default_line(persona):
        owner = user
    else:
        owner = None
    return {
        "text": text,
        "voice": selectors.voice_for_persona(persona),
        "shape": selectors.voice_settings_for_persona(persona),
        "owner": owner,
    }


def speech_for_persona(
    persona: PersonaProfile, text: str | None = None, *, user: User | None = None
) -> SpeechClip:
    """Return `text` (default: the greeting) spoken by `persona` for `user`, cached."""
    return speech_synthesize(**_persona_speech(persona, text, user))


def speech_stream_for_persona(
    persona: PersonaProfile, text: str | None = None, *, user: User | None = None
) -> Speech:
    """Return `text` (default: the greeting) spoken by `persona` for `user`, as chunks."""
    return speech_stream(**_persona_speech(persona, text, user))


def preset_preview(preset: VoicePreset) -> SpeechClip:
    """Return a short line spoken in `preset`'s voice with default settings, cached."""
    voice = VoiceChoice("preset", preset.provider_voice_id, preset=preset, labels=preset.labels)
    text = f"Hi, I'm {preset.name}. This is how I sound."
    return speech_synthesize(text=text, voice=voice, shape=VoiceSettings())


def speech_cache_trim(*, max_bytes: int, keep: int | None = None) -> tuple[int, int]:
    """Delete the least recently used clips until the cache holds at most `max_bytes`.

    Return (clips deleted, bytes freed); the clip `keep` (just made) is spared.
    """
    total = SpeechClip.objects.aggregate(total=Sum("size"))["total"] or 0
    if total <= max_bytes:
        return 0, 0
    doomed, freed = [], 0
    oldest_first = SpeechClip.objects.exclude(pk=keep).order_by("last_used_at", "id")
    for pk, size, name in oldest_first.values_list("pk", "size", "audio").iterator():
        if total - freed <= max_bytes:
            break
        doomed.append((pk, name))
        freed += size
    storage = SpeechClip._meta.get_field("audio").storage
    with transaction.atomic():
        SpeechClip.objects.filter(pk__in=[pk for pk, _ in doomed]).delete()
        names = [name for _, name in doomed]
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return len(doomed), freed


@transaction.atomic
def speech_clips_delete(*, owner: User) -> int:
    """Delete `owner`'s speech clips now and their files once that is committed.

    Return how many clips went. Shared clips (greetings, previews) have no owner and stay.
    """
    clips = SpeechClip.objects.filter(owner=owner)
    names = list(clips.values_list("audio", flat=True))
    clips.delete()
    storage = SpeechClip._meta.get_field("audio").storage
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return len(names)


# Presets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    created: int
    updated: int
    deactivated: int
    skipped: int


@transaction.atomic
def preset_sync(*, engine: SpeechEngine) -> SyncResult:
    """Copy the provider's voices into presets; retire the ones it no longer lists.

    Cloned voices (users' own) are skipped. A retired preset some persona still uses stays
    active; staff's choice to deactivate a preset survives a sync.
    """
    cloned = set(
        CustomVoice.objects.exclude(provider_voice_id="").values_list(
            "provider_voice_id", flat=True
        )
    )
    existing = {p.provider_voice_id: p for p in VoicePreset.objects.filter(provider=engine.name)}
    seen, created, updated, skipped = set(), 0, 0, 0
    for voice in engine.list_voices():
        if voice["category"] == "cloned" or voice["voice_id"] in cloned:
            skipped += 1
            continue
        seen.add(voice["voice_id"])
        fields = {
            "name": voice["name"][:80],
            "description": voice["description"],
            "labels": voice["labels"],
            "preview_url": voice["preview_url"][:500],
            "is_legacy": voice["is_legacy"],
        }
        preset = existing.get(voice["voice_id"])
        if preset is None:
            VoicePreset.objects.create(
                provider=engine.name, provider_voice_id=voice["voice_id"], **fields
            )
            created += 1
        elif any(getattr(preset, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(preset, name, value)
            preset.save()
            updated += 1
    in_use = PersonaProfile.objects.filter(voice_preset__isnull=False).values("voice_preset_id")
    deactivated = (
        VoicePreset.objects.filter(provider=engine.name, is_active=True)
        .exclude(provider_voice_id__in=seen)
        .exclude(pk__in=in_use)
        .update(is_active=False)
    )
    return SyncResult(created, updated, deactivated, skipped)
