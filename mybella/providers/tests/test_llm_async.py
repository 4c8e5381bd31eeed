"""The engines' async streams (`astream_reply`), which an ASGI server reads replies from."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from mybella.providers.llm import OfflineProvider, ProviderError, get_provider
from mybella.providers.tests.test_llm import make_prompt


def collect(provider, prompt, limit: int | None = None) -> list[str]:
    """Return the pieces of `provider.astream_reply(prompt)`, read on a fresh event loop
    in a thread of its own (the browser tests' Playwright keeps a loop running in this one);
    with `limit`, stop (aclose) after that many."""

    async def read() -> list[str]:
        pieces: list[str] = []
        stream = provider.astream_reply(prompt)
        try:
            async for piece in stream:
                pieces.append(piece)
                if limit is not None and len(pieces) == limit:
                    break
        finally:
            await stream.aclose()
        return pieces

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, read()).result()


def test_the_offline_async_stream_is_the_sync_one():
    """The same pieces, in the same order, as `stream_reply`."""
    prompt = make_prompt()
    provider = OfflineProvider()
    assert collect(provider, prompt) == list(provider.stream_reply(prompt))


def test_the_async_stream_yields_the_deltas_in_order(fake_llm):
    """Through the async client: the words in order, from one streaming request."""
    fake_llm.reply_text = "One two three four five."
    prompt = make_prompt()
    assert collect(get_provider(), prompt) == ["One ", "two ", "three ", "four ", "five."]
    [(path, body, _headers)] = fake_llm.requests
    assert path == "/v1/chat/completions"
    assert (body["stream"], body["messages"]) == (True, prompt.messages)


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        (lambda fake: fake.fail_next(429, headers={"Retry-After": "3"}), 503),
        (lambda fake: fake.fail_next(500), 502),
        (lambda fake: fake.break_stream_after(2), 502),
        (lambda fake: setattr(fake, "reply_text", ""), 502),
    ],
    ids=["busy", "server-error", "broken-mid-stream", "empty"],
)
def test_async_stream_failures_are_provider_errors(fake_llm, setup, status):
    """A refused request, a broken stream and an empty answer all raise ProviderError."""
    setup(fake_llm)
    with pytest.raises(ProviderError) as caught:
        collect(get_provider(), make_prompt())
    assert caught.value.status_code == status


def test_closing_the_async_stream_closes_the_model_stream(fake_llm):
    """A reader that stops early makes the model server see its stream closed."""
    fake_llm.reply_text = " ".join(f"word{number}" for number in range(300))
    fake_llm.hold_stream_after(2, then_pace=0.01)
    fake_llm.resume()
    assert collect(get_provider(), make_prompt(), limit=3) == ["word0 ", "word1 ", "word2 "]
    assert fake_llm.connection_closed.wait(10)
