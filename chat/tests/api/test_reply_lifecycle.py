"""A reply exists from the moment it is asked for, knows its message, and survives a hang-up.

Retry answers the message the reply was for, whatever was said since; a stream the client
drops leaves the reply saved as stopped, with what was written, ready to be retried.
"""

import http.client
import json
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.signals import request_finished
from django.utils import timezone

from chat import services
from chat.models import ChatMessage
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from mybella.users.services import api_token_create

SEND = "/api/v1/chat/messages/"
INTERRUPTED = "interrupted"


def retry_url(reply_id: int) -> str:
    return f"/api/v1/chat/messages/{reply_id}/retry/"


def sse(chunk: bytes) -> tuple[str, dict]:
    """Return (event, data) of one Server-Sent Event as the streaming view writes it."""
    event, data = chunk.decode().strip().split("\n")
    return event.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def chat_prompts(llm) -> list[list[dict]]:
    return [body["messages"] for path, body, _ in llm.requests if path == "/v1/chat/completions"]


# ---------------------------------------------------------------- retry answers the right message


@pytest.mark.django_db
def test_retry_answers_the_message_the_reply_was_for(auth_api_client, user, llm):
    """A reply that failed after a later message was answered still answers its own message."""
    llm.break_stream_after(2)
    first = auth_api_client.post(SEND, {"message": "First question", "stream": True}, format="json")
    chunks = iter(first.streaming_content)
    kind, opened = sse(next(chunks))
    assert kind == "message"
    # Meanwhile, from another tab, a second message is sent and answered.
    second = auth_api_client.post(
        SEND, {"message": "Second question", "conversation": opened["conversation"]}, format="json"
    )
    assert second.status_code == 201
    kind, failed = sse(list(chunks)[-1])  # the first reply's stream breaks
    assert kind == "error"
    reply = ChatMessage.objects.get(pk=failed["assistant_message_id"])
    assert reply.status == ChatMessage.Status.FAILED
    assert reply.reply_to_id == opened["id"]
    assert (
        ChatMessage.objects.get(pk=second.json()["assistant_message"]["id"]).reply_to_id
        == (second.json()["user_message"]["id"])
    )

    llm.requests.clear()
    retried = auth_api_client.post(retry_url(reply.pk))

    assert retried.status_code == 200, retried.json()
    assert retried.json()["user_message"]["content"] == "First question"
    assert retried.json()["assistant_message"]["id"] == reply.pk
    prompt = chat_prompts(llm)[-1]
    assert prompt[-1] == {"role": "user", "content": "First question"}
    # Recall may bring up anything said with this persona; the history stops at the message.
    assert "Second question" not in json.dumps(prompt[1:])
    reply.refresh_from_db()
    assert (reply.status, reply.content, reply.reply_to_id) == ("ok", llm.reply_text, opened["id"])


@pytest.mark.django_db
def test_the_reply_row_exists_before_the_model_answers(auth_api_client, user, llm):
    """The first event names the reply, already saved as pending and linked to its message."""
    response = auth_api_client.post(SEND, {"message": "Hello?", "stream": True}, format="json")
    chunks = iter(response.streaming_content)
    kind, opened = sse(next(chunks))
    assert kind == "message"
    reply = ChatMessage.objects.get(pk=opened["assistant_message_id"])
    assert (reply.role, reply.status, reply.content) == ("assistant", "pending", "")
    assert reply.reply_to_id == opened["id"]
    assert reply.created_at >= ChatMessage.objects.get(pk=opened["id"]).created_at
    kind, done = sse(list(chunks)[-1])
    assert kind == "done"
    assert done["assistant_message_id"] == reply.pk
    reply.refresh_from_db()
    assert (reply.status, reply.content) == ("ok", llm.reply_text)


@pytest.mark.django_db
def test_a_message_without_its_reply_cannot_be_retried(auth_api_client, user, llm):
    """A reply whose message was deleted can't be retried: a 400, not an answer to another."""
    conversation = ConversationFactory(user=user)
    ChatMessageFactory(conversation=conversation, content="earlier")
    reply = ChatMessageFactory(
        conversation=conversation, role="assistant", content="", status="failed", reply_to=None
    )
    response = auth_api_client.post(retry_url(reply.pk))
    assert response.status_code == 400
    assert "no message to answer" in response.json()["detail"][0]
    assert llm.requests == []


# ---------------------------------------------------------------- a dropped stream


@pytest.mark.django_db
def test_closing_the_stream_saves_a_stopped_reply_that_retry_answers(user, llm):
    """Closing the service's event stream keeps what was written, marked as stopped."""
    exchange, events = services.message_send_stream(user=user, text="Tell me a story")
    start = next(events)
    assert start["assistant_message_id"] == exchange.reply.pk
    written = "".join(next(events)["text"] for _ in range(2))
    events.close()

    reply = ChatMessage.objects.get(pk=exchange.reply.pk)
    assert reply.status == ChatMessage.Status.STOPPED
    assert reply.content == written
    assert INTERRUPTED in reply.error
    assert reply.reply_to_id == exchange.user_message.pk
    assert reply.is_retryable

    retried = services.message_retry(user=user, reply_id=reply.pk)
    assert retried.error is None
    reply.refresh_from_db()
    assert (reply.status, reply.content, reply.error) == ("ok", llm.reply_text, "")


@pytest.mark.django_db(transaction=True)
def test_a_closed_response_saves_a_stopped_reply(auth_api_client, user, llm, system_personas):
    """The server closing the streaming view's response (the client left) stops the reply."""
    response = auth_api_client.post(SEND, {"message": "A long one", "stream": True}, format="json")
    chunks = iter(response.streaming_content)
    _, opened = sse(next(chunks))
    written = "".join(sse(next(chunks))[1]["text"] for _ in range(3))
    response.close()  # what a WSGI server does when writing to the client fails

    reply = ChatMessage.objects.get(pk=opened["assistant_message_id"])
    assert (reply.status, reply.content) == ("stopped", written)
    retried = auth_api_client.post(retry_url(reply.pk))
    assert retried.status_code == 200, retried.json()
    assert retried.json()["assistant_message"]["content"] == llm.reply_text


@pytest.mark.django_db(transaction=True)
def test_a_client_that_hangs_up_mid_stream_leaves_a_retryable_reply(
    live_server, user, llm, system_personas, settings
):
    """A real HTTP client disconnecting while a slow model writes leaves a stopped reply."""
    # The app waits on the held model while the client hangs up: on a loaded machine that
    # can outlast the fixture's 2 s read timeout, and the reply would fail, not stop.
    settings.LLM_TIMEOUT = 30
    llm.reply_text = " ".join(f"word{number}" for number in range(300))
    llm.hold_stream_after(2, then_pace=0.01)  # a slow model: two words, a pause, then slow
    _token, key = api_token_create(user=user)
    finished = threading.Event()

    def on_finished(**kwargs: object) -> None:
        finished.set()

    request_finished.connect(on_finished, dispatch_uid="hang-up-test")
    try:
        address = urlsplit(live_server.url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        connection.request(
            "POST",
            SEND,
            body=json.dumps({"message": "Tell me a long story", "stream": True}),
            headers={
                "Authorization": f"Token {key}",
                "Content-Type": "application/json",
                "Accept": "text/event-stream",
            },
        )
        response = connection.getresponse()
        assert response.status == 200
        events: list[tuple[str, dict]] = []
        block: list[str] = []
        while sum(1 for kind, _ in events if kind == "delta") < 2:
            line = response.readline().decode().rstrip("\n")
            if line:
                block.append(line)
                continue
            events.append(sse("\n".join(block).encode()))
            block = []
        response.close()
        connection.close()  # the tab is closed
        # The model holds right after writing its second word: that word can reach the
        # client before the model's thread gets to say it holds. Wait for it, don't race.
        assert llm.held.wait(30), "the model never reached its hold"
        llm.resume()  # the model goes on writing, to no one
        assert finished.wait(30), "the server never finished the request"
        # Generation stops: the app closed its stream to the model server.
        assert llm.connection_closed.wait(30), "the model server's stream was never closed"
    finally:
        request_finished.disconnect(dispatch_uid="hang-up-test")

    kind, opened = events[0]
    assert kind == "message"
    received = "".join(data["text"] for kind, data in events if kind == "delta")
    reply = ChatMessage.objects.get(pk=opened["assistant_message_id"])
    assert reply.status == ChatMessage.Status.STOPPED
    assert reply.content.startswith(received)
    assert len(reply.content) < len(llm.reply_text)
    assert llm.reply_text.startswith(reply.content)

    llm.hold_after = None
    exchange = services.message_retry(user=user, reply_id=reply.pk)
    assert exchange.error is None
    reply.refresh_from_db()
    assert (reply.status, reply.content) == ("ok", llm.reply_text)


# ---------------------------------------------------------------- pending replies


def _pending(user, *, age: timedelta) -> ChatMessage:
    conversation = ConversationFactory(user=user)
    message = ChatMessageFactory(conversation=conversation, content="Are you still there?")
    reply = ChatMessageFactory(
        conversation=conversation,
        role="assistant",
        content="I was say",
        status="pending",
        reply_to=message,
    )
    ChatMessage.objects.filter(pk=reply.pk).update(updated_at=timezone.now() - age)
    reply.refresh_from_db()
    return reply


@pytest.mark.django_db
def test_a_reply_left_pending_by_a_crash_can_be_retried(auth_api_client, user, llm):
    """A reply still pending long after it began (its process died) can be retried."""
    reply = _pending(user, age=timedelta(hours=1))
    assert reply.is_retryable
    response = auth_api_client.post(retry_url(reply.pk))
    assert response.status_code == 200, response.json()
    assert chat_prompts(llm)[-1][-1] == {"role": "user", "content": "Are you still there?"}
    reply.refresh_from_db()
    assert (reply.status, reply.content) == ("ok", llm.reply_text)


@pytest.mark.django_db
def test_a_reply_being_written_cannot_be_retried(auth_api_client, user, llm):
    """A reply that is being written right now is left to finish: a 400, no second answer."""
    reply = _pending(user, age=timedelta(seconds=1))
    assert not reply.is_retryable
    response = auth_api_client.post(retry_url(reply.pk))
    assert response.status_code == 400
    assert "still being written" in response.json()["detail"][0]
    assert llm.requests == []
    reply.refresh_from_db()
    assert (reply.status, reply.content) == ("pending", "I was say")


@pytest.mark.django_db
def test_the_prompt_leaves_out_unfinished_and_empty_replies(auth_api_client, user, llm):
    """Pending, stopped, failed and empty replies never reach the model as history."""
    conversation = ConversationFactory(user=user)
    for status, content in [
        ("pending", "PENDING-HALF"),
        ("stopped", "STOPPED-HALF"),
        ("failed", "FAILED-HALF"),
        ("ok", ""),
        ("ok", "A FINISHED REPLY"),
    ]:
        asked = ChatMessageFactory(conversation=conversation, content=f"asked for {status}")
        ChatMessageFactory(
            conversation=conversation,
            role="assistant",
            content=content,
            status=status,
            reply_to=asked,
        )
    response = auth_api_client.post(
        SEND, {"message": "And now?", "conversation": conversation.pk}, format="json"
    )
    assert response.status_code == 201
    prompt = chat_prompts(llm)[-1]
    text = json.dumps(prompt)
    assert "A FINISHED REPLY" in text
    for left_out in ["PENDING-HALF", "STOPPED-HALF", "FAILED-HALF"]:
        assert left_out not in text
    assert {"role": "assistant", "content": ""} not in prompt


@pytest.mark.django_db
def test_deleting_the_conversation_while_a_reply_streams_is_no_error(user, llm):
    """A conversation deleted mid-reply stays deleted; the stream just ends."""
    exchange, events = services.message_send_stream(user=user, text="Hello")
    next(events)
    services.conversation_delete(conversation=exchange.user_message.conversation)
    kinds = [event["type"] for event in events]
    assert kinds[-1] == "done"
    assert not ChatMessage.objects.filter(conversation_id=exchange.user_message.conversation_id)
