"""Writes of cloned voices: upload, retry, delete, and the cloning task's steps."""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mybella.core import limits
from mybella.core.errors import NotFound
from mybella.core.services import service
from mybella.providers.speech import SpeechEngine, cloning_available, cloning_engine
from mybella.users.models import User
from personas.cache import personas_changed
from voices import selectors
from voices.audio import SampleError, inspect_sample
from voices.models import CustomVoice
from voices.signals import custom_voice_queued, provider_voice_released

logger = logging.getLogger(__name__)

Status = CustomVoice.Status
STALE_CLAIM = timedelta(minutes=10)  # a worker that died mid-clone leaves "cloning" behind
NO_KEY = "Voice cloning needs an ElevenLabs API key."


def _queue_clone(voice_id: int) -> None:
    transaction.on_commit(lambda: custom_voice_queued.send(CustomVoice, voice_id=voice_id))


def _delete_file_on_commit(field_file: Any) -> None:
    name, storage = field_file.name, field_file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def _check_room(owner: User, *, waiting: bool) -> None:
    """Refuse a voice beyond the limit: CUSTOM_VOICES_MAX_PER_USER voices that clone (or
    did), and as many again waiting for a key, which don't count against the first."""
    limit = settings.CUSTOM_VOICES_MAX_PER_USER
    voices = selectors.custom_voice_list(user=owner)
    if waiting and voices.filter(status=Status.WAITING).count() >= limit:
        raise ValidationError(
            _("You can keep at most %d recordings waiting for a key. Delete one to make room.")
            % limit
        )
    if not waiting and voices.exclude(status=Status.WAITING).count() >= limit:
        raise ValidationError(
            _("You can have at most %d custom voices. Delete one to make room.") % limit
        )


@service
@transaction.atomic
def custom_voice_create(*, owner: User, name: str, upload: Any) -> CustomVoice:
    """Check a sample, store it under a random name and queue the voice for cloning.

    Without an ElevenLabs key the voice is kept as waiting for a key (not counted against
    the limit) and cloned once a key is set (`custom_voices_queue_waiting`).
    """
    name = (name or "").strip()
    if limits.shows_nothing(name):  # empty, or only marks that show nothing ("\u200b")
        raise ValidationError({"name": _("Give the voice a name.")})
    # A voice's name is one line like a persona's: it is listed beside theirs on the pages
    # and travels in exported cards, where a reordering mark would disguise it.
    problem = limits.text_problem(name) or limits.line_problem(name)
    if problem:
        raise ValidationError({"name": _("This text %s.") % problem})
    waiting = not cloning_available()
    _check_room(owner, waiting=waiting)
    if selectors.custom_voice_list(user=owner).filter(name__iexact=name).exists():
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
        status=Status.WAITING if waiting else Status.PENDING,
    )
    # The model's own rules (the name's length, …) hold whoever calls; the sample is
    # checked above and only named once it is stored.
    voice.full_clean(exclude=["sample"])
    voice.sample.save(f"sample.{info.format}", ContentFile(info.data), save=False)
    try:
        voice.save()
    except BaseException:
        voice.sample.storage.delete(voice.sample.name)
        raise
    if not waiting:
        _queue_clone(voice.pk)
    return voice


@service
@transaction.atomic
def custom_voice_delete(*, voice: CustomVoice, user: User) -> None:
    """Delete a cloned voice here at once; its copy at the provider goes in the background.

    Never fails because of the provider (a task deletes that copy, retried while the
    provider is down). Personas using the voice speak with their preset. The page, the API
    and account deletion all delete voices through here.
    """
    if voice.owner_id != user.pk:
        raise NotFound
    provider_voice_id = voice.provider_voice_id
    if provider_voice_id:
        transaction.on_commit(
            lambda: provider_voice_released.send(CustomVoice, provider_voice_id=provider_voice_id)
        )
    _delete_file_on_commit(voice.sample)
    voice.delete()


@service
@transaction.atomic
def custom_voice_delete_all(*, user: User) -> int:
    """Delete every voice `user` cloned, each as `custom_voice_delete` does; return how many."""
    voices = list(selectors.custom_voice_list(user=user))
    for voice in voices:
        custom_voice_delete(voice=voice, user=user)
    return len(voices)


@service
@transaction.atomic
def custom_voice_retry(*, voice: CustomVoice, user: User) -> CustomVoice:
    """Queue a voice whose cloning failed for another try (only when it can work: with an
    ElevenLabs key; `custom_voice_can_retry`)."""
    if voice.owner_id != user.pk:
        raise NotFound
    if voice.status != Status.FAILED:
        raise ValidationError(_("Only a voice whose cloning failed can be tried again."))
    if not cloning_available():
        raise ValidationError(NO_KEY)
    voice.status, voice.error, voice.attempts = Status.PENDING, "", 0
    voice.save(update_fields=["status", "error", "attempts", "updated_at"])
    _queue_clone(voice.pk)
    return voice


def custom_voice_can_retry(voice: CustomVoice) -> bool:
    """Return whether trying to clone `voice` again can work: it failed and a key is set."""
    return voice.status == Status.FAILED and cloning_available()


@service
@transaction.atomic
def custom_voices_queue_waiting() -> int:
    """Queue the voices waiting for a key, now that there is one; return how many.

    Oldest first, each only while its owner has room under CUSTOM_VOICES_MAX_PER_USER (the
    rest keep waiting until the owner deletes one). Without a key nothing moves. Run by
    `manage.py clone_waiting_voices` (at each `make run`, and after setting a key).
    """
    if not cloning_available():
        return 0
    limit = settings.CUSTOM_VOICES_MAX_PER_USER
    room: dict[int, int] = {}
    queued = 0
    for voice in selectors.custom_voices_waiting_lock():
        if voice.owner_id not in room:
            counted = selectors.custom_voice_list(user=voice.owner).exclude(status=Status.WAITING)
            room[voice.owner_id] = limit - counted.count()
        if room[voice.owner_id] <= 0:
            continue
        room[voice.owner_id] -= 1
        voice.status, voice.error = Status.PENDING, ""
        voice.save(update_fields=["status", "error", "updated_at"])
        _queue_clone(voice.pk)
        queued += 1
    return queued


# The cloning task's steps ----------------------------------------------------------------


@service
@transaction.atomic
def custom_voice_claim(*, voice_id: int) -> tuple[CustomVoice | None, SpeechEngine | None]:
    """Move a pending voice to cloning; return it and the engine, or Nones when not to clone.

    A voice already taken (cloning, ready, failed) is left alone, so the task is safe to
    run twice; one left "cloning" for STALE_CLAIM by a worker that died is taken over.
    Without a cloning engine (the ElevenLabs key went since it was queued) the voice waits
    for a key again.
    """
    voice = selectors.custom_voice_lock(pk=voice_id)
    if voice is None:
        return None, None
    stale = voice.status == Status.CLONING and voice.updated_at < timezone.now() - STALE_CLAIM
    if voice.status != Status.PENDING and not stale:
        return None, None
    engine = cloning_engine()
    if engine is None:
        voice.status, voice.error = Status.WAITING, ""
        voice.save(update_fields=["status", "error", "updated_at"])
        return None, None
    voice.status, voice.error, voice.attempts = Status.CLONING, "", voice.attempts + 1
    voice.save(update_fields=["status", "error", "attempts", "updated_at"])
    return voice, engine


@service
def custom_voice_finish(
    *, voice_id: int, status: str, error: str = "", provider_voice_id: str | None = None
) -> bool:
    """Record how cloning voice `voice_id` ended; False when it was deleted (or reset)
    meanwhile, so nothing was recorded."""
    fields: dict[str, object] = {"status": status, "error": error}
    if provider_voice_id is not None:
        fields["provider_voice_id"] = provider_voice_id
    # One conditional UPDATE: a voice deleted or reset while it was cloning stays so.
    updated = CustomVoice.objects.filter(pk=voice_id, status=Status.CLONING).update(
        updated_at=timezone.now(), **fields
    )
    if updated:  # an update sends no signal: the owner's voices on offer changed
        personas_changed(CustomVoice.objects.only("owner_id").get(pk=voice_id))
    return bool(updated)


@service
def custom_voice_provider_delete(*, provider_voice_id: str) -> bool:
    """Delete a cloned voice at the provider; one already gone counts as deleted.

    Return False when there is no cloning engine (no ElevenLabs key) to ask. Raise
    SpeechError when the provider fails (`retryable` says whether to try again later).
    """
    engine = cloning_engine()
    if engine is None:
        return False
    engine.delete_voice(provider_voice_id)
    return True
