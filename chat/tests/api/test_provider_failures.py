"""A model that fails never loses the user's message; retry tries again."""

import pytest

from chat.models import ChatMessage
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db

SEND = "/api/v1/chat/messages/"


@pytest.mark.parametrize(
    ("fail", "status", "detail"),
    [
        ({"status": 429, "headers": {"Retry-After": "7"}}, 503, "busy"),
        ({"status": 500}, 502, "had a problem"),
        ({"status": 401}, 502, "credentials"),
    ],
)
def test_failure_keeps_the_message_and_saves_a_failed_reply(
    auth_api_client, user, llm, fail, status, detail
):
    llm.fail_next(fail["status"], headers=fail.get("headers"))
    response = auth_api_client.post(SEND, {"message": "Are you there?"}, format="json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert detail in body["detail"]
    assert body["user_message"]["content"] == "Are you there?"
    assert body["assistant_message"]["status"] == "failed"
    assert detail in body["assistant_message"]["error"]
    if fail["status"] == 429:
        assert response["Retry-After"] == "7"
    assert ChatMessage.objects.filter(user=user, role="user", content="Are you there?").exists()

    retried = auth_api_client.post(
        f"/api/v1/chat/messages/{body['assistant_message']['id']}/retry/"
    )
    assert retried.status_code == 200, retried.json()
    reply = ChatMessage.objects.get(pk=body["assistant_message"]["id"])
    assert (reply.status, reply.content, reply.error) == ("ok", llm.reply_text, "")
    assert retried.json()["offline"] is False


def test_a_failed_reply_still_titles_and_touches_its_conversation(auth_api_client, user, llm):
    """The conversation is told of the message as the reply is saved, failed or not: it is
    titled after the message and active as of the reply."""
    llm.fail_next(500)
    response = auth_api_client.post(SEND, {"message": "Tell me about the sea"}, format="json")
    assert response.status_code == 502
    reply = ChatMessage.objects.get(pk=response.json()["assistant_message"]["id"])
    conversation = reply.conversation
    assert conversation.title == "Tell me about the sea"
    assert conversation.updated_at == reply.updated_at


def test_timeout_is_504(auth_api_client, user, llm, settings):
    settings.LLM_TIMEOUT = 0.5
    llm.stall_next(1.5)
    response = auth_api_client.post(SEND, {"message": "slow?"}, format="json")
    assert response.status_code == 504
    assert ChatMessage.objects.filter(user=user, role="user", content="slow?").exists()


def test_refused_connection_is_503(auth_api_client, user, settings, llm):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"
    response = auth_api_client.post(SEND, {"message": "anyone?"}, format="json")
    assert response.status_code == 503
    assert response.json()["assistant_message"]["status"] == "failed"


def test_stream_failure_is_an_error_event(auth_api_client, user, llm):
    llm.fail_next(500)
    response = auth_api_client.post(
        SEND, {"message": "stream please", "stream": True}, format="json"
    )
    body = b"".join(response.streaming_content).decode()
    assert "event: error" in body
    assert ChatMessage.objects.filter(user=user, role="user", content="stream please").exists()
    assert ChatMessage.objects.filter(user=user, role="assistant", status="failed").exists()


def test_only_failed_replies_can_be_retried(auth_api_client, user, other_user, llm):
    ok = auth_api_client.post(SEND, {"message": "hi"}, format="json").json()
    response = auth_api_client.post(f"/api/v1/chat/messages/{ok['assistant_message']['id']}/retry/")
    assert response.status_code == 400
    response = auth_api_client.post(f"/api/v1/chat/messages/{ok['user_message']['id']}/retry/")
    assert response.status_code == 400


def test_the_model_gets_only_this_pairs_data(
    auth_api_client, api_client, user, other_user, llm, django_capture_on_commit_callbacks
):
    """The exact prompt received by the model holds nothing of another pair."""
    luna = PersonaProfile.objects.get(slug="luna")
    isabella = PersonaProfile.objects.get(slug="isabella")
    api_client.force_authenticate(other_user)
    # Other pairs: the same user with Isabella, and another user with Luna.
    with django_capture_on_commit_callbacks(execute=True):
        auth_api_client.post(
            SEND,
            {"message": "ISABELLA-ONLY my secret is kiwi", "persona": isabella.pk},
            format="json",
        )
        api_client.post(
            SEND, {"message": "BOB-ONLY my secret is kiwi", "persona": luna.pk}, format="json"
        )
        auth_api_client.post(
            SEND, {"message": "LUNA-PAIR hello", "persona": luna.pk}, format="json"
        )
    llm.requests.clear()
    auth_api_client.post(
        SEND, {"message": "what is my secret kiwi?", "persona": luna.pk}, format="json"
    )
    chat_requests = [body for path, body, _ in llm.requests if path == "/v1/chat/completions"]
    prompt = str(chat_requests[-1]["messages"])
    assert "LUNA-PAIR hello" in prompt
    assert "ISABELLA-ONLY" not in prompt
    assert "BOB-ONLY" not in prompt
