"""The small interface every reply engine implements."""

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from mybella.core.errors import UpstreamError


@dataclass(frozen=True)
class RecalledItem:
    """Something recalled for this reply: a memory or a past message of the same pair."""

    kind: str  # "memory" | "message"
    content: str
    said_at: datetime | None = None  # when it was said (a memory: when it was remembered)


@dataclass(frozen=True)
class Prompt:
    """Everything a provider may use to answer one message, built by chat.prompts alone.

    `messages` is the OpenAI-style list a language model receives (system, history, user).
    The other fields carry the same information in structured form for the offline engine;
    `user_name` and `greeting` name the user only by a name they gave (the model's text may
    call them by a username that reads as a name).
    """

    messages: list[dict[str, str]]
    persona_name: str
    user_message: str
    communication_style: str = "warm"
    traits: tuple[str, ...] = ()
    greeting: str = ""
    user_name: str = ""  # a name the user gave, never their username; "" when they gave none
    preferences: dict[str, str] = field(default_factory=dict)
    recalled: tuple[RecalledItem, ...] = ()
    turn: int = 0  # how many user messages this pair has sent before this one
    max_tokens: int | None = None  # the reply's length limit; None: the configured ceiling
    variant: int = 0  # which answer to the same message this is: 1, 2, … when regenerated
    # When the message being answered was sent, and when the user last wrote before it.
    now: datetime | None = None
    last_talked_at: datetime | None = None
    recent: tuple[RecalledItem, ...] = ()  # the newest things remembered, newest first


class ProviderError(UpstreamError):
    """A reply engine failed; `status_code` is what the API answers, `message` what users read.

    An UpstreamError, so the API answers one that nobody caught with its status and
    Retry-After.
    """

    def __init__(self, message: str, *, status_code: int, retry_after: int | None = None) -> None:
        # 502 bad answer, 503 busy/unreachable, 504 timeout
        super().__init__(message, status_code=status_code, retry_after=retry_after)


class ChatProvider(ABC):
    """A reply engine: the offline one or a language model behind an API."""

    name: str
    model: str
    offline: bool = False

    def reply(self, prompt: Prompt) -> str:
        """Return the whole reply to `prompt`."""
        return "".join(self.stream_reply(prompt))

    @abstractmethod
    def stream_reply(self, prompt: Prompt) -> Iterator[str]:
        """Yield the reply to `prompt` in pieces; raise ProviderError before the first piece
        when the engine fails to start answering."""

    @abstractmethod
    def astream_reply(self, prompt: Prompt) -> AsyncIterator[str]:
        """Yield the reply to `prompt` in pieces without blocking the event loop (an async
        generator); raise ProviderError when it fails, before or between pieces.

        Closing it early (`aclose()`, a cancelled task) closes the upstream stream too, so the
        engine stops writing.
        """

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        json: bool = False,
        max_tokens: int | None = None,
    ) -> str | None:
        """Return a plain completion of `messages` (used for memory extraction).

        `max_tokens` bounds the answer (None: LLM_EXTRACTION_MAX_TOKENS). Engines without
        a language model return None.
        """
        return None

    def embed(self, texts: list[str]) -> list[list[float]] | None:
        """Return one embedding vector per text, or None when the engine has no embeddings."""
        return None
