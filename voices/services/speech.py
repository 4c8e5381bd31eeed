"""Speech: synthesizing it with the server's engine, and the cache that keeps it."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.models import ChatMessage
from mybella.core.sentences import leading_sentences, speakable, split_sentences
from mybella.core.services import service
from mybella.providers.speech import (
    SpeechEngine,
    SpeechError,
    VoiceChoice,
    VoiceSettings,
    get_engine,
)
from mybella.users.models import User
from personas.models import PersonaProfile
from voices import selectors
from voices.models import SpeechClip, VoicePreset

NOT_A_REPLY = "Only the persona's replies, once written, can be spoken."
NO_ENGINE = "No speech engine is available on the server; the page will use your browser's voice."
EXTENSIONS = {"audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg"}


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
        return selectors.speech_clip_get(key=key, owner=owner)
    speech_cache_trim(max_bytes=settings.SPEECH_CACHE_MAX_BYTES, keep=clip.pk)
    return clip


@service
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


@service
def speech_stream(
    *, text: str, voice: VoiceChoice, shape: VoiceSettings, owner: User | None = None
) -> Speech:
    """Return `text` spoken in `voice` as chunks: from the cache, or streamed from the engine
    and kept (for `owner`, as in speech_synthesize) once the whole of it has gone out.

    An engine failing before the first chunk raises SpeechError here; one failing later
    raises it from the chunks, and nothing is kept.
    """
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


def default_line(persona: PersonaProfile) -> str:
    """Return what `persona` says when given nothing to say: its greeting, or its name."""
    return persona.greeting.strip() or f"Hi, I'm {persona.name}."


def speech_text_for_persona(persona: PersonaProfile, text: str | None = None) -> str:
    """Return what `persona` should say: `text`, else its greeting, within SPEECH_MAX_CHARS.

    The one check of the speech limit, whoever asks (the API's speak endpoint, chat).
    """
    text = (text or "").strip() or default_line(persona)
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
    elif user is not None and text != default_line(persona):
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


def message_speech_text(message: ChatMessage) -> str:
    """Return what `message`, a reply, says aloud: its text without markdown's marks, as
    much as fits in SPEECH_MAX_CHARS, cut after a whole sentence.

    The user's own messages, and replies being written, failed or empty, are a
    ValidationError.
    """
    spoken = (ChatMessage.Status.OK, ChatMessage.Status.STOPPED)
    text = speakable(message.content).strip()
    if message.role != ChatMessage.Role.ASSISTANT or message.status not in spoken or not text:
        raise ValidationError(NOT_A_REPLY)
    limit = settings.SPEECH_MAX_CHARS
    return leading_sentences(text, limit) or text[:limit]


def message_sentences(message: ChatMessage) -> list[str]:
    """Return the sentences of what `message` says aloud (`message_speech_text`), in order:
    the page speaks them one by one, as it speaks the `sentence` events of a streamed reply.
    """
    return split_sentences(message_speech_text(message))


def speech_for_message(message: ChatMessage, *, user: User) -> SpeechClip:
    """Return `message`, a reply to `user`, spoken whole in its persona's voice, cached
    (`message_speech_text` says what, and when it is a ValidationError)."""
    return speech_for_persona(message.persona, message_speech_text(message), user=user)


def preset_preview_text(preset: VoicePreset) -> str:
    """Return the line a preset's preview says."""
    return f"Hi, I'm {preset.name}. This is how I sound."


def preset_preview(preset: VoicePreset) -> SpeechClip:
    """Return a short line spoken in `preset`'s voice with default settings, cached."""
    return speech_synthesize(
        text=preset_preview_text(preset),
        voice=selectors.preset_voice(preset),
        shape=VoiceSettings(),
    )


@service
def speech_cache_trim(*, max_bytes: int, keep: int | None = None) -> tuple[int, int]:
    """Delete the least recently used clips until the cache holds at most `max_bytes`.

    Return (clips deleted, bytes freed); the clip `keep` (just made) is spared.
    """
    total = selectors.speech_cache_bytes()
    if total <= max_bytes:
        return 0, 0
    doomed, freed = [], 0
    oldest_first = selectors.speech_clips_least_recently_used(exclude=keep)
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


@service
@transaction.atomic
def speech_clips_delete(*, owner: User) -> int:
    """Delete `owner`'s speech clips now and their files once that is committed.

    Return how many clips went. Shared clips (greetings, previews) have no owner and stay.
    """
    clips = selectors.speech_clip_list(owner=owner)
    names = list(clips.values_list("audio", flat=True))
    clips.delete()
    storage = SpeechClip._meta.get_field("audio").storage
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return len(names)
