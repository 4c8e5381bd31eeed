"""ElevenLabs through its official SDK: speech, instant voice cloning and the voice list."""

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from django.conf import settings
from elevenlabs import ElevenLabs
from elevenlabs import VoiceSettings as ElevenVoiceSettings
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.parse_error import ParsingError

from mybella.providers.speech.base import (
    Audio,
    SpeechEngine,
    SpeechError,
    VoiceChoice,
    VoiceSettings,
)

logger = logging.getLogger(__name__)

OUTPUT_FORMAT = "mp3_44100_128"
CONTENT_TYPE = "audio/mpeg"
# The SDK's own retry re-sends uploads without their form fields; retry in tasks instead.
NO_RETRIES = {"max_retries": 0}
PAGE_SIZE = 100


def _detail(body: Any) -> tuple[str, str]:
    """Return (status, message) from an ElevenLabs error body such as {"detail": {...}}."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return str(detail.get("status") or ""), str(detail.get("message") or "")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return "validation_error", str(detail[0].get("msg") or "")
    return "", str(detail or "")


def _retry_after(headers: dict | None, default: int) -> int:
    value = (headers or {}).get("retry-after") or (headers or {}).get("Retry-After")
    try:
        return max(1, int(float(value)))
    except (TypeError, ValueError):
        return default


def speech_error(error: Exception) -> SpeechError:
    """Translate an SDK or transport exception into a SpeechError users can read."""
    translated = _translate(error)
    if isinstance(error, ApiError) and not translated.reason:
        translated.reason = _detail(error.body)[0]
    return translated


def _translate(error: Exception) -> SpeechError:
    if isinstance(error, httpx.TimeoutException):
        return SpeechError("ElevenLabs took too long to answer.", 504, retryable=True)
    if isinstance(error, httpx.TransportError):
        return SpeechError("ElevenLabs could not be reached.", 504, retryable=True)
    if isinstance(error, ParsingError):
        return SpeechError("ElevenLabs gave an answer we could not read.", 502)
    if not isinstance(error, ApiError):
        raise error
    code, (status, message) = error.status_code or 0, _detail(error.body)
    if status == "quota_exceeded":
        return SpeechError(
            "The ElevenLabs quota is used up; try again when it renews.",
            429,
            _retry_after(error.headers, 3600),
        )
    if code == 401:
        return SpeechError("ElevenLabs rejected the API key.", 502)
    if code == 429:
        return SpeechError(
            "ElevenLabs is busy right now; try again in a few seconds.",
            429,
            _retry_after(error.headers, 5),
            retryable=True,
        )
    if status == "voice_not_found" or code == 404:
        return SpeechError(
            "ElevenLabs doesn't know this voice any more; choose another one.",
            502,
            reason="voice_not_found",
        )
    if code >= 500:
        return SpeechError("ElevenLabs had a problem; try again in a moment.", 502, retryable=True)
    if code in (400, 422):
        reason = f": {message}" if message else "."
        return SpeechError(f"ElevenLabs refused the request{reason}", 502)
    return SpeechError(f"ElevenLabs answered with an unexpected error ({code}).", 502)


def _calling(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except (ApiError, ParsingError, httpx.TransportError) as error:
        raise speech_error(error) from error


class ElevenLabsEngine(SpeechEngine):
    """Speak, clone and list voices with ElevenLabs; settings are read when it is made."""

    name = "elevenlabs"
    can_clone = True

    def __init__(self) -> None:
        self.client = ElevenLabs(
            api_key=settings.ELEVENLABS_API_KEY,
            # The SDK adds /v1 (or /v2) itself; forgive a base URL that already has it.
            base_url=settings.ELEVENLABS_BASE_URL.rstrip("/").removesuffix("/v1"),
            timeout=settings.ELEVENLABS_TIMEOUT,
        )

    def _chunks(self, method: Callable, text: str, voice: VoiceChoice, s: VoiceSettings) -> Any:
        return method(
            voice.provider_voice_id,
            text=text,
            model_id=s.model_id,
            output_format=OUTPUT_FORMAT,
            voice_settings=ElevenVoiceSettings(
                stability=s.stability,
                similarity_boost=s.similarity,
                style=s.style,
                speed=s.speed,
                use_speaker_boost=True,
            ),
            request_options=NO_RETRIES,
        )

    def synthesize(self, text: str, voice: VoiceChoice, settings: VoiceSettings) -> Audio:
        """Return the whole of `text` spoken in `voice` as MP3."""
        chunks = self._chunks(self.client.text_to_speech.convert, text, voice, settings)
        return Audio(_calling(lambda: b"".join(chunks)), CONTENT_TYPE)

    def stream(
        self, text: str, voice: VoiceChoice, settings: VoiceSettings
    ) -> tuple[str, Iterator[bytes]]:
        """Start streaming MP3; the SDK sends the request on the first pull, so pull it here."""
        chunks = iter(self._chunks(self.client.text_to_speech.stream, text, voice, settings))
        first = _calling(lambda: next(chunks, b""))

        def rest() -> Iterator[bytes]:
            yield first
            try:
                yield from chunks
            except (ApiError, ParsingError, httpx.TransportError) as error:
                raise speech_error(error) from error

        return CONTENT_TYPE, rest()

    def clone(self, name: str, sample: bytes, filename: str, content_type: str) -> str:
        """Make an instant voice clone from one sample; return its voice id."""
        created = _calling(
            lambda: self.client.voices.ivc.create(
                name=name,
                files=[(filename, sample, content_type)],
                description="Cloned in MyBella from a sample its owner uploaded.",
                request_options=NO_RETRIES,
            )
        )
        return created.voice_id

    def delete_voice(self, provider_voice_id: str) -> None:
        """Delete a cloned voice; one that is already gone counts as deleted."""
        try:
            _calling(
                lambda: self.client.voices.delete(provider_voice_id, request_options=NO_RETRIES)
            )
        except SpeechError as error:
            if error.reason != "voice_not_found":
                raise

    def list_voices(self) -> Iterator[dict]:
        """Yield every voice of the account, page by page (GET /v2/voices)."""
        token = None
        while True:
            page = _calling(
                lambda token=token: self.client.voices.search(
                    page_size=PAGE_SIZE, next_page_token=token, request_options=NO_RETRIES
                )
            )
            for voice in page.voices:
                yield {
                    "voice_id": voice.voice_id,
                    "name": voice.name or voice.voice_id,
                    "description": voice.description or "",
                    "labels": dict(voice.labels or {}),
                    "preview_url": voice.preview_url or "",
                    "category": str(voice.category or ""),
                    "is_legacy": bool(voice.is_legacy),
                }
            token = page.next_page_token
            if not page.has_more or not token:
                return
