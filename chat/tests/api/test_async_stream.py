"""Replies stream through a real ASGI server: uvicorn on 127.0.0.1, a real HTTP client.

Under ASGI the streaming views read the reply asynchronously (the async OpenAI client, the
database through sync_to_async), so a stream holds neither a worker nor a thread while the
model writes. The server runs in a thread of the test process, one worker, one event loop.
"""

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from django.db import connections

from chat.models import ChatMessage
from chat.tests.api.test_reply_lifecycle import SEND, sse
from mybella.asgi import application
from mybella.tests.concurrency import in_thread
from mybella.users.services import api_token_create

HOLD_TIMEOUT = 10  # seconds to wait for the fake model to reach its hold


class AsgiServer:
    """uvicorn serving mybella.asgi on a free loopback port, in a background thread."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(application, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.socket.close()


@pytest.fixture
def llm(llm, settings):
    """The chat tests' fake model, with a read timeout that outlasts the holds: on a loaded
    machine a held stream could otherwise time out (a failed reply) before the test resumes it.
    """
    settings.LLM_TIMEOUT = 30
    return llm


@pytest.fixture
def asgi(transactional_db, user, system_personas, llm, share_with_threads):
    """Return an HTTP client of a uvicorn serving the app, authenticated as `user`."""
    _token, key = api_token_create(user=user)
    share_with_threads()  # the server's threads see the data made so far
    server = AsgiServer()
    server.start()
    client = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Token {key}"}, timeout=30
    )
    yield client
    client.close()
    llm.resume()
    server.stop()
    connections.close_all()


def events_of(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """Yield (event, data) of each Server-Sent Event as it arrives."""
    block: list[str] = []
    for line in response.iter_lines():
        if line:
            block.append(line)
        elif block:
            yield sse("\n".join(block).encode())
            block = []


def read(query: Callable[[], object]) -> object:
    """Run a query in a thread that opens the database as the server's threads do."""
    return in_thread(query)


def reply_of(pk: int) -> ChatMessage:
    return read(lambda: ChatMessage.objects.get(pk=pk))


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_the_reply_streams_as_the_model_writes_it(asgi, llm):
    """Events arrive while the model is still writing; the user's message is saved first."""
    llm.reply_text = "one two three four five"
    llm.hold_stream_after(2)
    with asgi.stream("POST", SEND, json={"message": "Hello there", "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = events_of(response)
        kind, opened = next(events)
        assert kind == "message"
        assert opened["content"] == "Hello there"
        # Saved before the first byte: the message, and its reply pending.
        saved = read(lambda: ChatMessage.objects.get(pk=opened["id"]))
        assert saved.content == "Hello there"
        assert reply_of(opened["assistant_message_id"]).status == ChatMessage.Status.PENDING
        first = [next(events), next(events)]
        assert first == [("delta", {"text": "one "}), ("delta", {"text": "two "})]
        # The model is still writing (held): this was not buffered. It says it holds just
        # after writing its second word, which can arrive first: wait for it, don't race.
        assert llm.held.wait(HOLD_TIMEOUT)
        llm.resume()
        rest = list(events)

    assert [kind for kind, _ in rest] == ["delta", "delta", "delta", "sentence", "done"]
    assert rest[-2][1] == {"index": 0, "text": "one two three four five"}
    done = rest[-1][1]
    assert done["assistant_message_id"] == opened["assistant_message_id"]
    assert done["user_message_id"] == opened["id"]
    assert done["provider"] == "openai"
    reply = reply_of(opened["assistant_message_id"])
    assert (reply.status, reply.content) == ("ok", "one two three four five")


def test_a_sentence_is_told_while_the_model_is_still_writing(asgi, llm):
    """A `sentence` event follows the piece that began the next sentence, mid-stream."""
    llm.reply_text = "Hello *there*, friend. How are you today? Fine!"
    llm.hold_stream_after(4)  # "Hello " "*there*, " "friend. " "How "
    with asgi.stream("POST", SEND, json={"message": "Hi", "stream": True}) as response:
        events = events_of(response)
        kinds = [next(events)[0] for _ in range(4)]
        assert kinds == ["message", "delta", "delta", "delta"]
        assert next(events) == ("delta", {"text": "How "})
        assert next(events) == ("sentence", {"index": 0, "text": "Hello there, friend."})
        assert llm.held.is_set()  # told before the model finished
        llm.resume()
        rest = list(events)

    sentences = [data for kind, data in rest if kind == "sentence"]
    assert sentences == [
        {"index": 1, "text": "How are you today?"},
        {"index": 2, "text": "Fine!"},
    ]
    assert [kind for kind, _ in rest][-3:] == ["sentence", "sentence", "done"]


def test_an_error_mid_stream_ends_with_an_error_event_and_a_failed_reply(asgi, llm):
    """The model breaking off after two words: an `error` event, the words kept, failed."""
    llm.reply_text = "one two three four five"
    llm.break_stream_after(2)
    with asgi.stream("POST", SEND, json={"message": "Hello", "stream": True}) as response:
        events = list(events_of(response))

    assert [kind for kind, _ in events] == ["message", "delta", "delta", "error"]
    error = events[-1][1]
    assert error["status"] == 502
    reply = reply_of(error["assistant_message_id"])
    assert (reply.status, reply.content) == ("failed", "one two ")
    assert reply.error == error["detail"]


def test_a_model_that_fails_at_once_saves_a_failed_reply(asgi, llm):
    """A 503 from the model before any word: the message stays, the reply is failed."""
    # Memory extraction (run at once in tests, when the message commits) asks first.
    llm.fail_next(503, times=5)
    with asgi.stream("POST", SEND, json={"message": "Hello", "stream": True}) as response:
        events = list(events_of(response))

    assert [kind for kind, _ in events] == ["message", "error"]
    _, opened = events[0]
    assert read(lambda: ChatMessage.objects.filter(pk=opened["id"]).exists())
    reply = reply_of(opened["assistant_message_id"])
    assert (reply.status, reply.content) == ("failed", "")


def test_a_client_gone_mid_stream_stops_the_model_and_saves_a_stopped_reply(asgi, llm):
    """Closing the connection cancels the stream: the model's stream is closed, the words
    written so far are saved as a stopped reply."""
    llm.reply_text = " ".join(f"word{number}" for number in range(300))
    llm.hold_stream_after(2, then_pace=0.01)
    with asgi.stream("POST", SEND, json={"message": "A long story", "stream": True}) as response:
        events = events_of(response)
        _, opened = next(events)
        received = "".join(next(events)[1]["text"] for _ in range(2))
    # Leaving the block closed the response mid-stream, and so the connection.
    assert llm.held.wait(HOLD_TIMEOUT)
    llm.resume()
    assert llm.connection_closed.wait(30), "the model server's stream was never closed"
    pk = opened["assistant_message_id"]
    wait_for(lambda: reply_of(pk).status == ChatMessage.Status.STOPPED, "never saved stopped")
    reply = reply_of(pk)
    assert reply.content.startswith(received)
    assert len(reply.content) < len(llm.reply_text)
    assert llm.reply_text.startswith(reply.content)


def test_a_regeneration_streams_as_a_new_alternative(asgi, llm):
    """Regenerating with `stream` streams the new text; both alternatives are kept."""
    sent = asgi.post(SEND, json={"message": "Hello"})
    assert sent.status_code == 201, sent.text
    reply_id = sent.json()["assistant_message"]["id"]
    llm.reply_text = "a second answer"
    url = f"/api/v1/chat/messages/{reply_id}/regenerate/"
    with asgi.stream("POST", url, json={"stream": True}) as response:
        events = list(events_of(response))

    assert events[0][0] == "message"
    assert events[0][1]["id"] == reply_id
    assert events[-1][0] == "done"
    reply = reply_of(reply_id)
    assert reply.status == ChatMessage.Status.OK
    assert reply.alternatives[-1] == reply.content == "a second answer"
    assert len(reply.alternatives) == 2


def test_slow_streams_do_not_block_other_requests_on_one_worker(asgi, llm):
    """Two replies held mid-stream by a slow model; the persona list still answers at once."""
    llm.reply_text = "one two three"
    llm.hold_stream_after(1)
    with (
        asgi.stream("POST", SEND, json={"message": "First", "stream": True}) as first,
        asgi.stream("POST", SEND, json={"message": "Second", "stream": True}) as second,
    ):
        streams = [events_of(first), events_of(second)]
        for events in streams:
            assert [next(events)[0], next(events)[0]] == ["message", "delta"]
        assert llm.held.wait(HOLD_TIMEOUT)
        started = time.monotonic()
        listed = asgi.get("/api/v1/personas/")
        elapsed = time.monotonic() - started
        assert listed.status_code == 200
        assert elapsed < 2, f"the persona list took {elapsed:.2f} s behind two streams"
        llm.resume()
        for events in streams:
            assert [kind for kind, _ in events][-1] == "done"


def test_a_regeneration_that_fails_at_once_puts_the_reply_back(asgi, llm):
    """The model refusing before any word: an `error` event, the reply as it was."""
    sent = asgi.post(SEND, json={"message": "Hello"})
    assert sent.status_code == 201, sent.text
    before = sent.json()["assistant_message"]
    llm.fail_next(503, times=5)
    url = f"/api/v1/chat/messages/{before['id']}/regenerate/"
    with asgi.stream("POST", url, json={"stream": True}) as response:
        events = list(events_of(response))

    assert [kind for kind, _ in events] == ["message", "error"]
    reply = reply_of(before["id"])
    assert (reply.status, reply.content, reply.alternatives) == ("ok", before["content"], [])
