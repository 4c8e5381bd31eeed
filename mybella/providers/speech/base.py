"""The small interface every speech engine implements, and what it is given."""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

from mybella.core.errors import UpstreamError


@dataclass(frozen=True)
class VoiceChoice:
    """The voice a persona speaks with: its ready custom voice, its preset, or the default.

    Plain data only (providers import no app): the app fills it from its own rows.
    """

    kind: str  # "custom" | "preset" | "default"
    provider_voice_id: str
    name: str = "Default"  # what users call the voice
    labels: dict = field(default_factory=dict)  # gender, accent, … for engines without ids


@dataclass(frozen=True)
class VoiceSettings:
    """How a voice is shaped; ElevenLabs' voice settings and model."""

    stability: float = 0.5
    similarity: float = 0.75
    style: float = 0.0
    speed: float = 1.0
    model_id: str = "eleven_multilingual_v2"


@dataclass(frozen=True)
class Audio:
    content: bytes
    content_type: str


class SpeechError(UpstreamError):
    """A speech engine failed; `status_code` is what the API answers, `message` what users read.

    `retryable` says whether the same request may work a little later (busy, timeouts, 5xx);
    `reason` is the provider's own word for the failure (e.g. "voice_not_found"), if any.
    An UpstreamError, so the API answers one that nobody caught with its status and
    Retry-After. Unlike UpstreamError, the status comes second and may be positional.
    """

    def __init__(
        self,
        message: str,
        status_code: int,
        retry_after: int | None = None,
        *,
        retryable: bool = False,
        reason: str = "",
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            retry_after=retry_after,
            retryable=retryable,
            reason=reason,
        )


class SpeechEngine(ABC):
    """Turn text into speech with some voice; engines that can also clone voices say so."""

    name: str
    can_clone: bool = False

    def voice_key(self, voice: VoiceChoice) -> str:
        """Return what identifies `voice` to this engine (part of the speech cache key)."""
        return voice.provider_voice_id

    @abstractmethod
    def synthesize(self, text: str, voice: VoiceChoice, settings: VoiceSettings) -> Audio:
        """Return the whole of `text` spoken in `voice`."""

    def stream(
        self, text: str, voice: VoiceChoice, settings: VoiceSettings
    ) -> tuple[str, Iterator[bytes]]:
        """Return (content type, audio chunks); raise SpeechError before returning if the
        engine fails to start."""
        audio = self.synthesize(text, voice, settings)
        return audio.content_type, iter([audio.content])

    def clone(self, name: str, sample: bytes, filename: str, content_type: str) -> str:
        """Make a voice from a recording; return its provider id."""
        raise NotImplementedError

    def delete_voice(self, provider_voice_id: str) -> None:
        """Delete a cloned voice at the provider."""
        raise NotImplementedError

    def list_voices(self) -> Iterator[dict]:
        """Yield the provider's voices as dicts (voice_id, name, description, labels, …)."""
        raise NotImplementedError
