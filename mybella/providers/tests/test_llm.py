"""Reply engines: the OpenAI-compatible one over real HTTP, and the offline one."""

import re
import socket
import time

import pytest

from mybella.providers.llm import (
    ChatProvider,
    OfflineProvider,
    Prompt,
    ProviderError,
    RecalledItem,
    get_provider,
)
from mybella.providers.llm.openai_compat import OpenAICompatibleProvider
from mybella.tests.fakes.fake_llm import DEFAULT_REPLY, fake_vector

STYLES = ["warm", "playful", "thoughtful", "direct", "calm", "enthusiastic", "formal"]


def make_prompt(text: str = "I went hiking in the mountains", **fields) -> Prompt:
    messages = [
        {"role": "system", "content": "You are Bella."},
        {"role": "assistant", "content": "Hi! How was your day?"},
        {"role": "user", "content": text},
    ]
    return Prompt(messages=messages, persona_name="Bella", user_message=text, **fields)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# get_provider ------------------------------------------------------------------------


def test_get_provider_is_offline_by_default(settings):
    """With no model configured, the offline engine answers."""
    settings.LLM_PROVIDER = ""
    settings.LLM_BASE_URL = ""
    settings.LLM_API_KEY = ""
    provider = get_provider()
    assert isinstance(provider, OfflineProvider)
    assert (provider.name, provider.model, provider.offline) == (
        "offline",
        "mybella-offline-1",
        True,
    )


def test_get_provider_picks_openai_when_a_server_is_configured(settings):
    """A base URL alone switches the automatic choice to the OpenAI-compatible engine."""
    settings.LLM_PROVIDER = ""
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"
    settings.LLM_API_KEY = ""
    settings.LLM_MODEL = "llama3"
    provider = get_provider()
    assert isinstance(provider, OpenAICompatibleProvider)
    assert (provider.name, provider.model, provider.offline) == ("openai", "llama3", False)


def test_get_provider_obeys_an_explicit_choice(settings):
    """LLM_PROVIDER wins over the automatic choice."""
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"
    settings.LLM_PROVIDER = "offline"
    assert isinstance(get_provider(), OfflineProvider)
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = ""
    settings.LLM_API_KEY = "sk-test"
    assert isinstance(get_provider(), OpenAICompatibleProvider)


# OpenAI-compatible engine over HTTP ----------------------------------------------------


def test_reply_sends_the_prompt_and_returns_the_answer(fake_llm):
    """A reply is one non-streaming chat completion of exactly the prompt's messages."""
    prompt = make_prompt()
    assert get_provider().reply(prompt) == DEFAULT_REPLY
    [(path, body, headers)] = fake_llm.requests
    assert path == "/v1/chat/completions"
    assert body["model"] == "fake-model"
    assert body["messages"] == prompt.messages
    assert body.get("stream") in (None, False)
    assert "response_format" not in body
    assert headers["authorization"] == "Bearer test-key"


def test_stream_reply_yields_the_deltas_in_order(fake_llm):
    """Streamed pieces arrive in order, skip the empty role chunk and join to the answer."""
    fake_llm.reply_text = "One two three four five."
    prompt = make_prompt()
    pieces = list(get_provider().stream_reply(prompt))
    assert pieces == ["One ", "two ", "three ", "four ", "five."]
    [(path, body, _headers)] = fake_llm.requests
    assert path == "/v1/chat/completions"
    assert body["stream"] is True
    assert body["messages"] == prompt.messages
    assert body["model"] == "fake-model"


def test_stream_reply_calls_the_server_before_the_first_piece_is_asked_for(fake_llm):
    """The stream is opened when stream_reply is called, not on first iteration."""
    pieces = get_provider().stream_reply(make_prompt())
    assert len(fake_llm.requests) == 1
    assert "".join(pieces) == DEFAULT_REPLY


def test_an_error_in_the_middle_of_a_stream_is_a_provider_error(fake_llm):
    """Pieces already sent stay sent; then the stream raises ProviderError."""
    fake_llm.reply_text = "One two three four five."
    fake_llm.break_stream_after(2)
    pieces = get_provider().stream_reply(make_prompt())
    assert [next(pieces), next(pieces)] == ["One ", "two "]
    with pytest.raises(ProviderError) as caught:
        next(pieces)
    assert caught.value.status_code == 502


def test_an_empty_answer_is_a_502(fake_llm):
    """A model that says nothing is a failure, not an empty reply."""
    fake_llm.reply_text = "   "
    provider = get_provider()
    with pytest.raises(ProviderError) as caught:
        provider.reply(make_prompt())
    assert caught.value.status_code == 502
    fake_llm.reply_text = ""
    with pytest.raises(ProviderError) as caught:
        provider.stream_reply(make_prompt())
    assert caught.value.status_code == 502


def test_a_malformed_answer_is_a_502(fake_llm):
    """JSON without choices is a bad answer, not a crash."""
    fake_llm.fail_next(200, {"object": "chat.completion", "choices": []})
    with pytest.raises(ProviderError) as caught:
        get_provider().reply(make_prompt())
    assert caught.value.status_code == 502


def test_complete_in_json_mode_asks_for_a_json_object(fake_llm):
    """Memory extraction asks for JSON with response_format, and gets the text back."""
    fake_llm.reply_text = '{"memories": [{"content": "Lives in Lisbon"}]}'
    messages = [{"role": "user", "content": "Extract memories."}]
    provider = get_provider()
    assert provider.complete(messages, json=True) == fake_llm.reply_text
    assert provider.complete(messages) == fake_llm.reply_text
    json_body, plain_body = (body for _path, body, _headers in fake_llm.requests)
    assert json_body["response_format"] == {"type": "json_object"}
    assert json_body["messages"] == messages
    assert "response_format" not in plain_body


def test_embed_returns_one_vector_per_text(fake_llm):
    """Embeddings come from the configured embedding model, in input order."""
    texts = ["I live in Lisbon", "My dog is Max", "Coffee"]
    vectors = get_provider().embed(texts)
    assert vectors == [fake_vector(text) for text in texts]
    [(path, body, _headers)] = fake_llm.requests
    assert path == "/v1/embeddings"
    assert body["model"] == "fake-embed"
    assert body["input"] == texts


# Real model servers: a model without a stop token, per-token embeddings ------------------


def test_a_runaway_stream_ends_at_the_reply_cap(fake_llm, settings):
    """A model that never stops on its own is cut by max_tokens: the ceiling, at most."""
    settings.LLM_MAX_TOKENS = 40
    settings.LLM_TEMPERATURE = 0.5
    fake_llm.run_away()
    pieces = list(get_provider().stream_reply(make_prompt()))
    assert len(pieces) == 40
    [(_path, body, _headers)] = fake_llm.requests
    assert body["max_tokens"] == 40
    assert body["temperature"] == 0.5


def test_a_runaway_reply_follows_the_prompts_length_under_the_ceiling(fake_llm, settings):
    """The prompt's max_tokens (the pair's reply length) applies, never above the ceiling."""
    settings.LLM_MAX_TOKENS = 50
    fake_llm.run_away()
    provider = get_provider()
    assert len(provider.reply(make_prompt(max_tokens=12)).split()) == 12
    assert len(provider.reply(make_prompt(max_tokens=500)).split()) == 50
    assert [body["max_tokens"] for _path, body, _headers in fake_llm.requests] == [12, 50]


def test_a_runaway_extraction_ends_at_its_own_cap(fake_llm, settings):
    """complete() always sends a max_tokens: LLM_EXTRACTION_MAX_TOKENS unless told."""
    settings.LLM_EXTRACTION_MAX_TOKENS = 30
    settings.LLM_MAX_TOKENS = 500
    fake_llm.run_away()
    provider = get_provider()
    messages = [{"role": "user", "content": "Summarise."}]
    assert len(provider.complete(messages).split()) == 30
    assert len(provider.complete(messages, max_tokens=7).split()) == 7
    assert all(body["temperature"] < 0.5 for _path, body, _headers in fake_llm.requests)


def test_closing_a_stream_closes_the_upstream_connection(fake_llm):
    """A client that goes away mid-stream stops generation: the server sees the close."""
    fake_llm.run_away()
    fake_llm.hold_stream_after(3)
    pieces = get_provider().stream_reply(make_prompt())
    assert [next(pieces), next(pieces)] == ["more ", "more "]
    assert fake_llm.held.wait(5)
    pieces.close()  # what Django does with a streaming response whose client left
    fake_llm.resume()
    assert fake_llm.connection_closed.wait(10)


def test_per_token_embeddings_are_mean_pooled(fake_llm):
    """A server answering one vector per token gives one vector per text: their mean."""
    fake_llm.embed_per_token()
    texts = ["I live in Lisbon", "Coffee"]
    vectors = get_provider().embed(texts)
    words = [fake_vector(word) for word in texts[0].split()]
    expected = [sum(column) / len(words) for column in zip(*words, strict=True)]
    assert vectors[0] == pytest.approx(expected)
    assert vectors[1] == pytest.approx(fake_vector("Coffee"))


def test_embeddings_of_mismatched_dimensions_are_refused(fake_llm, caplog):
    """Vectors of different sizes in one answer are a 502 and a clear line in the log."""
    fake_llm.embed_sizes(8, 5)
    with (
        caplog.at_level("WARNING", logger="mybella.providers.llm.openai_compat"),
        pytest.raises(ProviderError) as caught,
    ):
        get_provider().embed(["I live in Lisbon", "Coffee"])
    assert caught.value.status_code == 502
    assert "The model 'fake-embed' can't embed: vectors of different dimensions" in caplog.text


def test_a_model_that_cannot_embed_says_so_in_the_log(fake_llm, caplog):
    """An embeddings endpoint that refuses is logged as the model being unable to embed."""
    fake_llm.fail_next(404)
    with (
        caplog.at_level("WARNING", logger="mybella.providers.llm.openai_compat"),
        pytest.raises(ProviderError),
    ):
        get_provider().embed(["Coffee"])
    assert "The model 'fake-embed' can't embed" in caplog.text


def test_embed_without_an_embedding_model_is_none(fake_llm, settings):
    """No embedding model configured: no vectors and no request."""
    settings.LLM_EMBEDDING_MODEL = ""
    assert get_provider().embed(["hello"]) is None
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    ("status", "headers", "expected_status", "message", "retry_after"),
    [
        (429, {"Retry-After": "7"}, 503, "The model is busy right now", 7),
        (429, {}, 503, "The model is busy right now", None),
        (500, {}, 502, "The model server had a problem.", None),
        (503, {}, 502, "The model server had a problem.", None),
        (401, {}, 502, "The model server rejected our credentials.", None),
        (403, {}, 502, "The model server rejected our credentials.", None),
        (400, {}, 502, "The model server refused the request (400).", None),
    ],
)
def test_http_errors_become_provider_errors(
    fake_llm, status, headers, expected_status, message, retry_after
):
    """Each HTTP failure maps to the status and message users see, with no retry."""
    fake_llm.fail_next(status, headers=headers)
    with pytest.raises(ProviderError) as caught:
        get_provider().reply(make_prompt())
    assert caught.value.status_code == expected_status
    assert caught.value.message.startswith(message)
    assert caught.value.retry_after == retry_after
    assert len(fake_llm.requests) == 1  # the SDK's retries are off


@pytest.mark.parametrize("status", [429, 500, 401])
def test_stream_errors_raise_before_any_piece(fake_llm, status):
    """A failing stream raises from stream_reply itself, so nothing was shown yet."""
    fake_llm.fail_next(status, headers={"Retry-After": "7"})
    with pytest.raises(ProviderError) as caught:
        get_provider().stream_reply(make_prompt())
    assert caught.value.status_code == (503 if status == 429 else 502)


def test_a_slow_model_is_a_504(fake_llm, settings):
    """A model slower than LLM_TIMEOUT is a timeout, for replies and streams alike."""
    settings.LLM_TIMEOUT = 0.5
    provider = get_provider()
    for call in (provider.reply, provider.stream_reply):
        fake_llm.stall_next(1.5)
        started = time.monotonic()
        with pytest.raises(ProviderError) as caught:
            call(make_prompt())
        assert caught.value.status_code == 504
        assert caught.value.message == "The model took too long to answer."
        assert time.monotonic() - started < 1.4


def test_an_unreachable_server_is_a_503(settings):
    """A refused connection is a 503, raised before any streamed piece."""
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = f"http://127.0.0.1:{closed_port()}/v1"
    settings.LLM_API_KEY = ""
    settings.LLM_EMBEDDING_MODEL = "embed"
    provider = get_provider()
    calls = [
        lambda: provider.reply(make_prompt()),
        lambda: provider.stream_reply(make_prompt()),
        lambda: provider.embed(["hello"]),
    ]
    for call in calls:
        with pytest.raises(ProviderError) as caught:
            call()
        assert caught.value.status_code == 503
        assert caught.value.message == "The model server can't be reached."


# Offline engine ------------------------------------------------------------------------


@pytest.fixture
def offline() -> ChatProvider:
    return OfflineProvider()


def test_offline_is_deterministic(offline):
    """The same prompt gets the same reply, every time."""
    prompt = make_prompt("Work was long today but I finished the report", user_name="Ana")
    assert offline.reply(prompt) == offline.reply(prompt)
    assert offline.reply(prompt) == OfflineProvider().reply(
        make_prompt(prompt.user_message, user_name="Ana")
    )


def test_offline_styles_sound_different(offline):
    """Personas with different styles answer the same message differently."""
    replies = {
        offline.reply(make_prompt("I started painting again", communication_style=style))
        for style in STYLES
    }
    assert len(replies) == len(STYLES)


def test_offline_echoes_the_topic(offline):
    """The reply mentions what the user talked about."""
    reply = offline.reply(make_prompt("My sister is visiting next week"))
    assert "your sister" in reply


def test_offline_comforts_greets_and_thanks(offline):
    """Distress, greetings and thanks each get an answer of their own kind."""
    sad = offline.reply(make_prompt("I feel so stressed and tired", communication_style="calm"))
    assert re.search(r"breathe|okay to feel", sad)
    hello = offline.reply(make_prompt("hello!", turn=3))
    assert re.search(r"(?i)\b(hi|hello)\b", hello)
    thanks = offline.reply(make_prompt("thank you so much", communication_style="formal"))
    assert re.search(r"welcome|pleasure", thanks)


def test_offline_first_greeting_uses_the_persona_greeting(offline):
    """On the first turn, before the persona said anything, a greeting is answered with the
    persona's own greeting; once it has spoken (a greeting, an alternate one), with a hello."""
    greeting = "Hey, I'm Bella! What's on your mind?"
    first = Prompt(
        messages=[{"role": "user", "content": "hi"}],
        persona_name="Bella",
        user_message="hi",
        greeting=greeting,
    )
    assert offline.reply(first).startswith("Hey, I'm Bella!")
    after_an_alternate = make_prompt("hi", greeting=greeting, turn=0)
    assert "I'm Bella" not in offline.reply(after_an_alternate)


def test_offline_uses_the_name_sometimes(offline):
    """The user's name appears in some replies, not all."""
    messages = [f"Today I worked on project number {n}" for n in range(12)]
    replies = [offline.reply(make_prompt(text, user_name="Ana")) for text in messages]
    with_name = sum("Ana" in reply for reply in replies)
    assert 0 < with_name < len(replies)


def test_offline_weaves_in_a_relevant_memory(offline):
    """A recalled memory sharing words with the message is mentioned; others are not."""
    recalled = (
        RecalledItem(kind="memory", content="The user lives in Lisbon"),
        RecalledItem(kind="memory", content="User's dog is named Max"),
    )
    reply = offline.reply(make_prompt("Any plans for a weekend in Lisbon?", recalled=recalled))
    assert "you live in Lisbon" in reply
    assert "Max" not in reply
    unrelated = offline.reply(make_prompt("I like rainy mornings", recalled=recalled))
    assert "Lisbon" not in unrelated and "Max" not in unrelated


def test_offline_honours_reply_length(offline):
    """reply_length=short gives one sentence; long gives more than the default."""

    def sentences(text: str) -> int:
        return len(re.findall(r"[.!?]+(\s|$)", text))

    text = "I went to the market this morning"
    short = offline.reply(make_prompt(text, preferences={"reply_length": "short"}))
    default = offline.reply(make_prompt(text))
    long = offline.reply(make_prompt(text, preferences={"reply_length": "long"}))
    assert sentences(short) == 1
    assert sentences(short) < sentences(default) < sentences(long) <= 4


@pytest.mark.parametrize("style", [*STYLES, "unknown-style"])
def test_offline_never_answers_nothing(offline, style):
    """Odd inputs and languages still get a short, non-empty, plain reply."""
    for turn, text in enumerate(["", "ok", "?", "🙂🙂", "Je suis très fatigué", "a" * 500, "hi"]):
        prompt = make_prompt(
            text,
            communication_style=style,
            turn=turn,
            user_name="Ana",
            preferences={"language": "fr", "reply_length": "long"},
            recalled=(RecalledItem(kind="message", content="I am learning French"),),
        )
        reply = offline.reply(prompt)
        assert reply.strip() == reply and reply
        assert 1 <= len(re.findall(r"[.!?]+(\s|$)", reply)) <= 4


def test_offline_stream_joins_to_the_reply(offline):
    """Streaming yields word-sized pieces that join to exactly the reply."""
    prompt = make_prompt("What do you think about learning the piano?", user_name="Ana")
    pieces = list(offline.stream_reply(prompt))
    assert len(pieces) > 3
    assert all(re.fullmatch(r"\S+\s*", piece) for piece in pieces)
    assert "".join(pieces) == offline.reply(prompt)


def test_offline_has_no_model(offline):
    """complete() and embed() give nothing offline."""
    assert offline.complete([{"role": "user", "content": "hi"}]) is None
    assert offline.embed(["hi"]) is None
