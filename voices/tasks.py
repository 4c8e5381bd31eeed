"""Background work on voices: cloning an uploaded sample at ElevenLabs, and deleting a
cloned voice there. Both take ids, call the services and are safe to run twice."""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from mybella.providers.speech import SpeechError
from voices import selectors, services
from voices.models import CustomVoice

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAYS = (15, 60)  # seconds before the second and third attempts
Status = CustomVoice.Status


def _enqueue_later(queued: Task, attempt: int, /, *args: object, **kwargs: object) -> None:
    """Queue `queued` again, after the delay for `attempt` when the backend can wait."""
    delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
    if queued.get_backend().supports_defer:
        queued = queued.using(run_after=timezone.now() + timedelta(seconds=delay))
    queued.enqueue(*args, **kwargs)


@task()
def clone_custom_voice(voice_id: int) -> str:
    """Clone a pending custom voice at ElevenLabs; return the status it ends in.

    pending → cloning → ready (with the provider's id) or failed (with a readable reason).
    Busy, timed-out and 5xx answers go back to pending and are tried again later, up to
    MAX_ATTEMPTS in all. Safe to run twice: only a pending voice (or one whose claim went
    stale) is cloned.
    """
    voice, engine = services.custom_voice_claim(voice_id=voice_id)
    if voice is None or engine is None:
        return selectors.custom_voice_status(pk=voice_id) or "deleted"
    try:
        with voice.sample.open("rb") as sample:
            data = sample.read()
        provider_id = engine.clone(
            f"{voice.name} (MyBella {voice.pk})", data, f"sample.{voice.format}", voice.content_type
        )
    except OSError:
        logger.exception("The sample of custom voice %s could not be read", voice.pk)
        services.custom_voice_finish(
            voice_id=voice.pk,
            status=Status.FAILED,
            error="The sample file is missing; upload it again.",
        )
        return Status.FAILED
    except SpeechError as error:
        again = error.retryable and voice.attempts < MAX_ATTEMPTS
        status = Status.PENDING if again else Status.FAILED
        logger.info("Cloning voice %s failed (%s); status %s", voice.pk, error.message, status)
        finished = services.custom_voice_finish(
            voice_id=voice.pk, status=status, error="" if again else error.message
        )
        if finished and again:
            _enqueue_later(clone_custom_voice, voice.attempts, voice.pk)
        return status
    if not services.custom_voice_finish(
        voice_id=voice.pk, status=Status.READY, provider_voice_id=provider_id
    ):
        # Deleted while cloning: don't leave its clone behind at the provider.
        delete_provider_voice.enqueue(provider_id)
        return "deleted"
    return Status.READY


@task()
def delete_provider_voice(provider_voice_id: str, attempt: int = 1) -> str:
    """Delete a cloned voice at ElevenLabs; return "deleted", "retrying", "failed" or
    "no key".

    The voice is already gone here. Busy, timed-out and 5xx answers are tried again later,
    up to MAX_ATTEMPTS in all. Safe to run twice: a voice ElevenLabs no longer has counts
    as deleted.
    """
    try:
        deleted = services.custom_voice_provider_delete(provider_voice_id=provider_voice_id)
    except SpeechError as error:
        if error.retryable and attempt < MAX_ATTEMPTS:
            logger.info("Deleting ElevenLabs voice %s failed (%s)", provider_voice_id, error)
            _enqueue_later(delete_provider_voice, attempt, provider_voice_id, attempt=attempt + 1)
            return "retrying"
        logger.warning("ElevenLabs voice %s was not deleted: %s", provider_voice_id, error)
        return "failed"
    if not deleted:
        logger.warning(
            "ElevenLabs voice %s stays there: the server has no ELEVENLABS_API_KEY.",
            provider_voice_id,
        )
        return "no key"
    return "deleted"
