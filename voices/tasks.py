"""Background work on voices: cloning an uploaded sample at ElevenLabs."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from mybella.providers.speech import SpeechEngine, SpeechError, cloning_engine
from voices.models import CustomVoice

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAYS = (15, 60)  # seconds before the second and third attempts
STALE_CLAIM = timedelta(minutes=10)  # a worker that died mid-clone leaves "cloning" behind
NO_KEY = "Voice cloning needs an ElevenLabs API key."
Status = CustomVoice.Status


def _claim(voice_id: int) -> tuple[CustomVoice | None, SpeechEngine | None]:
    """Move a pending voice to cloning; return it and the engine, or None when not to clone."""
    with transaction.atomic():
        voice = CustomVoice.objects.select_for_update().filter(pk=voice_id).first()
        if voice is None:
            return None, None
        stale = voice.status == Status.CLONING and voice.updated_at < timezone.now() - STALE_CLAIM
        if voice.status != Status.PENDING and not stale:
            return None, None
        engine = cloning_engine()
        if engine is None:
            voice.status, voice.error = Status.FAILED, NO_KEY
            voice.save(update_fields=["status", "error", "updated_at"])
            return None, None
        voice.status, voice.error, voice.attempts = Status.CLONING, "", voice.attempts + 1
        voice.save(update_fields=["status", "error", "attempts", "updated_at"])
        return voice, engine


def _finish(voice: CustomVoice, **fields: object) -> bool:
    """Update a voice still being cloned; False when it was deleted (or reset) meanwhile."""
    return bool(
        CustomVoice.objects.filter(pk=voice.pk, status=Status.CLONING).update(
            updated_at=timezone.now(), **fields
        )
    )


def _enqueue_retry(voice_id: int, attempt: int) -> None:
    delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
    queued = clone_custom_voice
    if queued.get_backend().supports_defer:
        queued = queued.using(run_after=timezone.now() + timedelta(seconds=delay))
    transaction.on_commit(lambda: queued.enqueue(voice_id))


@task()
def clone_custom_voice(voice_id: int) -> str:
    """Clone a pending custom voice at ElevenLabs; return the status it ends in.

    pending → cloning → ready (with the provider's id) or failed (with a readable reason).
    Busy, timed-out and 5xx answers go back to pending and are tried again later, up to
    MAX_ATTEMPTS in all. Safe to run twice: only a pending voice (or one whose claim went
    stale) is cloned.
    """
    voice, engine = _claim(voice_id)
    if voice is None or engine is None:
        current = CustomVoice.objects.filter(pk=voice_id).values_list("status", flat=True)
        return current.first() or "deleted"
    try:
        with voice.sample.open("rb") as sample:
            data = sample.read()
        provider_id = engine.clone(
            f"{voice.name} (MyBella {voice.pk})", data, f"sample.{voice.format}", voice.content_type
        )
    except OSError:
        logger.exception("The sample of custom voice %s could not be read", voice.pk)
        _finish(voice, status=Status.FAILED, error="The sample file is missing; upload it again.")
        return Status.FAILED
    except SpeechError as error:
        again = error.retryable and voice.attempts < MAX_ATTEMPTS
        status = Status.PENDING if again else Status.FAILED
        logger.info("Cloning voice %s failed (%s); status %s", voice.pk, error.message, status)
        if _finish(voice, status=status, error="" if again else error.message) and again:
            _enqueue_retry(voice.pk, voice.attempts)
        return status
    if not _finish(voice, status=Status.READY, provider_voice_id=provider_id, error=""):
        # Deleted while cloning: don't leave its clone behind at the provider.
        try:
            engine.delete_voice(provider_id)
        except SpeechError as error:
            logger.warning("Orphan ElevenLabs voice %s not deleted: %s", provider_id, error)
        return "deleted"
    return Status.READY
