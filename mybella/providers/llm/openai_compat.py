"""A reply engine backed by any OpenAI-compatible chat API (OpenAI, Ollama, llama.cpp, vLLM)."""

import asyncio
import logging
import math
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import openai
from django.conf import settings

from mybella.providers.llm.base import ChatProvider, Prompt, ProviderError

logger = logging.getLogger(__name__)

# What a server answering nonsense makes the SDK or our parsing raise.
_MALFORMED = (ValueError, TypeError, AttributeError, IndexError, KeyError)


@lru_cache(maxsize=4)
def _client(base_url: str, api_key: str, timeout: float) -> openai.OpenAI:
    # One client per configuration keeps its connection pool (and TLS sessions) alive
    # between replies; the SDK's own retries are off because a chat user is waiting.
    return openai.OpenAI(base_url=base_url or None, api_key=api_key, timeout=timeout, max_retries=0)


# Async clients per event loop: an httpx pool belongs to the loop that opened it (a server
# runs one loop per process; tests and async_to_sync open others).
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str, float], openai.AsyncOpenAI]
] = weakref.WeakKeyDictionary()


def _async_client(base_url: str, api_key: str, timeout: float) -> openai.AsyncOpenAI:
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    key = (base_url, api_key, timeout)
    if key not in clients:
        clients[key] = openai.AsyncOpenAI(
            base_url=base_url or None, api_key=api_key, timeout=timeout, max_retries=0
        )
    return clients[key]


def _retry_after(error: openai.APIStatusError) -> int | None:
    headers = error.response.headers
    value = (headers.get("retry-after") or "").strip()
    try:
        if headers.get("retry-after-ms"):
            seconds = float(headers["retry-after-ms"]) / 1000
        elif not value:
            return None
        elif value.replace(".", "", 1).isdigit():
            seconds = float(value)
        else:
            when = parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError):
        return None
    return max(1, math.ceil(seconds))


def _translate(error: Exception) -> ProviderError:
    """Return the ProviderError users see for a failed call to the model server."""
    # APITimeoutError subclasses APIConnectionError, so it goes first.
    if isinstance(error, openai.APITimeoutError):
        return ProviderError("The model took too long to answer.", status_code=504)
    if isinstance(error, openai.APIConnectionError):
        return ProviderError("The model server can't be reached.", status_code=503)
    if isinstance(error, openai.RateLimitError):
        return ProviderError(
            "The model is busy right now; try again in a moment.",
            status_code=503,
            retry_after=_retry_after(error),
        )
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status >= 500:
            return ProviderError("The model server had a problem.", status_code=502)
        if status in (401, 403):
            return ProviderError("The model server rejected our credentials.", status_code=502)
        if status == 404:
            return ProviderError(
                "The model server doesn't know this model or address.", status_code=502
            )
        return ProviderError(f"The model server refused the request ({status}).", status_code=502)
    if isinstance(error, openai.APIError):
        # An error event in the middle of a stream.
        return ProviderError("The model server had a problem.", status_code=502)
    return ProviderError("The model server sent an answer that can't be read.", status_code=502)


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except (openai.OpenAIError, *_MALFORMED) as error:
        logger.warning("LLM call failed: %s: %s", type(error).__name__, error)
        raise _translate(error) from error


def _empty_answer() -> ProviderError:
    return ProviderError("The model returned an empty answer.", status_code=502)


# Extraction wants the likeliest reading of a message, not a creative one.
EXTRACTION_TEMPERATURE = 0.2


def _reply_options(prompt: Prompt) -> dict[str, Any]:
    """Return the length limit and temperature of a reply: never without a max_tokens."""
    ceiling = max(1, int(settings.LLM_MAX_TOKENS))
    wanted = prompt.max_tokens if prompt.max_tokens and prompt.max_tokens > 0 else ceiling
    return {"max_tokens": min(wanted, ceiling), "temperature": float(settings.LLM_TEMPERATURE)}


class _CannotEmbed(ValueError):
    """The embedding answer has a shape or size no vector can be made of."""


def _vector(embedding: object) -> list[float]:
    """Return one vector from an item's `embedding`: a flat vector as it is, per-token
    vectors (llama.cpp's answer for some models) mean-pooled."""
    if not isinstance(embedding, list) or not embedding:
        raise _CannotEmbed("an embedding is empty or not a list")
    if all(isinstance(row, list) for row in embedding):
        size = len(embedding[0])
        if not size or any(len(row) != size for row in embedding):
            raise _CannotEmbed("per-token vectors of different sizes")
        rows = [[float(x) for x in row] for row in embedding]
        return [sum(column) / len(rows) for column in zip(*rows, strict=True)]
    if any(isinstance(x, bool) or not isinstance(x, int | float) for x in embedding):
        raise _CannotEmbed("an embedding holds something other than numbers")
    return [float(x) for x in embedding]


def _delta_text(chunk: Any) -> str:
    if not chunk.choices:  # e.g. the usage chunk some servers send last
        return ""
    return chunk.choices[0].delta.content or ""


class OpenAICompatibleProvider(ChatProvider):
    """Answer through an OpenAI-compatible `/chat/completions` API chosen by settings."""

    name = "openai"
    offline = False

    def __init__(self) -> None:
        self.model: str = settings.LLM_MODEL
        self.embedding_model: str = settings.LLM_EMBEDDING_MODEL
        # Without a key the SDK refuses to start; a placeholder lets the server say 401.
        self._config = (
            settings.LLM_BASE_URL,
            settings.LLM_API_KEY or "not-needed",
            float(settings.LLM_TIMEOUT),
        )
        self.client = _client(*self._config)

    def reply(self, prompt: Prompt) -> str:
        """Return the whole reply to `prompt` from one non-streaming call."""
        return self._complete(prompt.messages, **_reply_options(prompt)).strip()

    def stream_reply(self, prompt: Prompt) -> Iterator[str]:
        """Open the stream and read its first piece now, so failures raise here.

        Return an iterator over the pieces; a failure later in the stream raises
        ProviderError from the iterator.
        """
        with _translated_errors():
            stream = self.client.chat.completions.create(
                model=self.model, messages=prompt.messages, stream=True, **_reply_options(prompt)
            )
        pieces = (text for chunk in stream if (text := _delta_text(chunk)))
        try:
            with _translated_errors():
                first = next(pieces, None)
        except ProviderError:
            stream.close()
            raise
        if first is None:
            stream.close()
            raise _empty_answer()
        return self._rest(first, pieces, stream)

    @staticmethod
    def _rest(first: str, pieces: Iterator[str], stream: openai.Stream) -> Iterator[str]:
        try:
            yield first
            with _translated_errors():
                yield from pieces
        finally:
            # Also runs when the consumer stops early (a closed browser tab).
            stream.close()

    async def astream_reply(self, prompt: Prompt) -> AsyncIterator[str]:
        """Yield the reply's pieces from the async client; failures raise ProviderError.

        The upstream stream is closed however this ends, so a client gone mid-reply stops
        the model writing.
        """
        client = _async_client(*self._config)
        with _translated_errors():
            stream = await client.chat.completions.create(
                model=self.model, messages=prompt.messages, stream=True, **_reply_options(prompt)
            )
        try:
            written = False
            with _translated_errors():
                async for chunk in stream:
                    if text := _delta_text(chunk):
                        written = True
                        yield text
            if not written:
                raise _empty_answer()
        finally:
            await stream.close()

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        json: bool = False,
        max_tokens: int | None = None,
    ) -> str:
        """Return a completion of `messages`; with `json`, ask for a JSON object.

        At most `max_tokens` (LLM_EXTRACTION_MAX_TOKENS by default), at a low temperature.
        """
        response_format = {"type": "json_object"} if json else openai.omit
        return self._complete(
            messages,
            response_format=response_format,
            max_tokens=max(1, int(max_tokens or settings.LLM_EXTRACTION_MAX_TOKENS)),
            temperature=EXTRACTION_TEMPERATURE,
        )

    def _complete(self, messages: list[dict[str, str]], **options: Any) -> str:
        with _translated_errors():
            completion = self.client.chat.completions.create(
                model=self.model, messages=messages, stream=False, **options
            )
            text = completion.choices[0].message.content
        if not isinstance(text, str) or not text.strip():
            raise _empty_answer()
        return text

    def embed(self, texts: list[str]) -> list[list[float]] | None:
        """Return one vector per text, or None when no embedding model is configured.

        Accept a flat vector per text or per-token vectors (mean-pooled); every vector must
        have the same size. When the model can't embed, say so in the log and raise.
        """
        if not self.embedding_model:
            return None
        if not texts:
            return []
        try:
            with _translated_errors():
                # Floats, not the SDK's default base64: local servers don't all speak base64.
                response = self.client.embeddings.create(
                    model=self.embedding_model, input=texts, encoding_format="float"
                )
                items = list(response.data)
            if all(isinstance(getattr(item, "index", None), int) for item in items):
                items.sort(key=lambda item: item.index)
            if len(items) != len(texts):
                raise _CannotEmbed(f"{len(items)} embeddings for {len(texts)} texts")
            vectors = [_vector(getattr(item, "embedding", None)) for item in items]
            if len({len(vector) for vector in vectors}) != 1:
                raise _CannotEmbed("vectors of different dimensions in one answer")
        except (ProviderError, _CannotEmbed) as error:
            reason = error.message if isinstance(error, ProviderError) else str(error)
            logger.warning(
                "The model %r can't embed: %s. Memories stay without embeddings.",
                self.embedding_model,
                reason,
            )
            if isinstance(error, ProviderError):
                raise
            raise ProviderError(
                "The model server sent an answer that can't be read.", status_code=502
            ) from error
        return vectors
