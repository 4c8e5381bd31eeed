"""Sending messages, reading history, conversations and history import through the API."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import ChatMessage, Conversation
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from mybella.core.sentences import speakable, split_sentences
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db

SEND = "/api/v1/chat/messages/"


def test_first_message_opens_a_conversation_with_the_greeting(auth_api_client, user):
    response = auth_api_client.post(SEND, {"message": "Hello there!"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["offline"] is True
    assert body["user_message"]["content"] == "Hello there!"
    assert body["assistant_message"]["role"] == "assistant"
    assert body["assistant_message"]["status"] == "ok"
    assert body["assistant_message"]["content"]
    conversation = Conversation.objects.get(pk=body["conversation"])
    assert conversation.persona.slug == "isabella"  # the current persona by default
    roles = list(conversation.messages.order_by("id").values_list("role", "content"))
    assert roles[0] == ("assistant", PersonaProfile.objects.get(slug="isabella").greeting)
    assert [r for r, _ in roles] == ["assistant", "user", "assistant"]


def test_send_to_a_given_persona_and_conversation(auth_api_client, user, luna):
    first = auth_api_client.post(SEND, {"message": "hi", "persona": luna.pk}, format="json").json()
    second = auth_api_client.post(
        SEND, {"message": "again", "conversation": first["conversation"]}, format="json"
    ).json()
    assert second["conversation"] == first["conversation"]
    assert second["user_message"]["persona"] == luna.pk


def test_bad_input_is_400_and_saves_nothing(auth_api_client, user, other_user, luna):
    theirs = ConversationFactory(user=other_user, persona=luna)
    hidden = PersonaFactory(owner=other_user)
    mine_with_isabella = ConversationFactory(user=user)
    cases = [
        ({}, 400),
        ({"message": "   "}, 400),
        # Shows nothing, yet cost a reply (found probing the API).
        ({"message": "\u200b"}, 400),
        ({"message": "\u3164 \u2800"}, 400),
        ({"message": "x" * 5000}, 400),
        # DRF's CharField took a number as its digits (found probing the API).
        ({"message": 123}, 400),
        ({"message": 1.5}, 400),
        ({"message": "hi", "persona": hidden.pk}, 404),
        ({"message": "hi", "conversation": theirs.pk}, 404),
        ({"message": "hi", "conversation": mine_with_isabella.pk, "persona": luna.pk}, 400),
        ({"message": "hi", "persona": "abc"}, 400),
    ]
    for payload, code in cases:
        response = auth_api_client.post(SEND, payload, format="json")
        assert response.status_code == code, (payload, response.json())
        assert response["Content-Type"] == "application/json"
    assert not ChatMessage.objects.filter(role="user").exists()


def test_streaming_events(auth_api_client, user):
    response = auth_api_client.post(
        SEND, {"message": "Tell me a story", "stream": True}, format="json"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    events = [
        (
            block.split("\n")[0].removeprefix("event: "),
            json.loads(block.split("\n")[1].removeprefix("data: ")),
        )
        for block in body.strip().split("\n\n")
    ]
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "message"
    assert kinds[-1] == "done"
    assert set(kinds[1:-1]) == {"delta", "sentence"}
    text = "".join(data["text"] for kind, data in events if kind == "delta")
    done = events[-1][1]
    reply = ChatMessage.objects.get(pk=done["assistant_message_id"])
    assert reply.content == text
    assert done["user_message_id"] == events[0][1]["id"]
    # The reply's sentences, as spoken, each once and in order, all before `done`.
    sentences = [data for kind, data in events if kind == "sentence"]
    assert [s["index"] for s in sentences] == list(range(len(sentences)))
    assert [s["text"] for s in sentences] == split_sentences(speakable(reply.content))
    assert len(sentences) > 1  # the offline engine's replies have several


def test_accept_event_stream_streams_too(auth_api_client, user):
    response = auth_api_client.post(
        SEND, {"message": "hi"}, format="json", HTTP_ACCEPT="text/event-stream"
    )
    assert response["Content-Type"] == "text/event-stream"
    assert b"event: done" in b"".join(response.streaming_content)


def test_history_pages_newest_first_each_page_oldest_to_newest(auth_api_client, user):
    conversation = ConversationFactory(user=user)
    messages = ChatMessageFactory.create_batch(45, conversation=conversation)
    url = f"/api/v1/conversations/{conversation.pk}/messages/"
    page = auth_api_client.get(url).json()
    assert [m["id"] for m in page["results"]] == [m.id for m in messages[-30:]]
    older = auth_api_client.get(page["next"]).json()
    assert [m["id"] for m in older["results"]] == [m.id for m in messages[:15]]
    assert older["next"] is None


@pytest.mark.parametrize("position", ["2026", "2026-13-45 10:00:00", "1", "now"])
def test_a_hand_made_cursor_is_an_invalid_cursor(auth_api_client, user, position):
    """Its position reached the query: a 400 with Django's date format (found probing)."""
    conversation = ConversationFactory(user=user)
    ChatMessageFactory.create_batch(3, conversation=conversation)
    cursor = base64.b64encode(f"p={position}".encode()).decode()
    url = f"/api/v1/conversations/{conversation.pk}/messages/?cursor={cursor}"
    response = auth_api_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


@pytest.mark.parametrize("count", [5, 200])
def test_history_page_query_count_is_constant(
    auth_api_client, user, django_assert_max_num_queries, count
):
    conversation = ConversationFactory(user=user)
    ChatMessageFactory.create_batch(count, conversation=conversation)
    with django_assert_max_num_queries(2):
        response = auth_api_client.get(f"/api/v1/conversations/{conversation.pk}/messages/")
    assert response.status_code == 200


@pytest.mark.parametrize("count", [3, 150])
def test_send_query_count_is_constant(auth_api_client, user, django_assert_max_num_queries, count):
    conversation = ConversationFactory(user=user)
    ChatMessageFactory.create_batch(count, conversation=conversation, content="we talked about tea")
    # 13: the conversation; the message and its reply (pending) saved in one transaction
    # (savepoint, two inserts, release) before the model is asked; memory's switch,
    # preferences, summaries and newest memories in one query; recall counts the words'
    # matches before it ranks (what bounds the cost of common words), then the pinned
    # memories and the ranked rows; the history window with when the user last wrote; the
    # persona's lorebook; the reply finished, then the conversation titled and made active
    # in one update.
    with django_assert_max_num_queries(13):
        response = auth_api_client.post(
            SEND, {"message": "more about tea", "conversation": conversation.pk}, format="json"
        )
    assert response.status_code == 201


# Really committed: the cached reads go stale when the write's transaction commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("system_personas")
def test_conversations_of_a_persona(auth_api_client, user, other_user, luna):
    ConversationFactory(user=other_user, persona=luna)
    url = f"/api/v1/personas/{luna.pk}/conversations/"
    assert auth_api_client.get(url).json()["count"] == 0
    created = auth_api_client.post(url, {"title": "Stars"}, format="json")
    assert created.status_code == 201
    assert created.json()["message_count"] == 1  # the greeting
    listed = auth_api_client.get(url).json()["results"]
    assert [c["title"] for c in listed] == ["Stars"]


def test_delete_conversation(auth_api_client, user, other_user):
    mine = ConversationFactory(user=user)
    theirs = ConversationFactory(user=other_user)
    ChatMessageFactory(conversation=mine)
    assert auth_api_client.delete(f"/api/v1/conversations/{theirs.pk}/").status_code == 404
    assert auth_api_client.delete(f"/api/v1/conversations/{mine.pk}/").status_code == 204
    assert not ChatMessage.objects.filter(conversation_id=mine.pk).exists()
    assert Conversation.objects.filter(pk=theirs.pk).exists()


def test_other_users_conversation_messages_are_404(auth_api_client, other_user):
    theirs = ConversationFactory(user=other_user)
    ChatMessageFactory(conversation=theirs, content="secret")
    response = auth_api_client.get(f"/api/v1/conversations/{theirs.pk}/messages/")
    assert response.status_code == 404
    assert b"secret" not in response.content


def test_import_json_list(auth_api_client, user, luna, django_capture_on_commit_callbacks):
    history = [
        {"role": "user", "content": "My name is Robin.", "created_at": "2024-05-01T10:00:00Z"},
        {
            "role": "assistant",
            "content": "Nice to meet you, Robin.",
            "created_at": "2024-05-01T10:00:05Z",
        },
        {"role": "user", "content": "I live in Lisbon."},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api_client.post(
            f"/api/v1/personas/{luna.pk}/history/import/", history, format="json"
        )
    assert response.status_code == 201, response.json()
    assert response.json()["imported"] == 3
    messages = ChatMessage.objects.filter(user=user, persona=luna).order_by("created_at")
    assert [m.content for m in messages][:2] == ["My name is Robin.", "Nice to meet you, Robin."]
    assert messages[0].created_at.year == 2024
    contents = set(user.memories.filter(persona=luna).values_list("content", flat=True))
    assert any("Robin" in c for c in contents)
    assert any("Lisbon" in c for c in contents)


def test_import_sillytavern_jsonl(auth_api_client, user, luna):
    lines = [
        {"user_name": "You", "character_name": "Luna", "create_date": "2024-1-1"},
        {
            "name": "You",
            "is_user": True,
            "is_system": False,
            "send_date": "2024-01-01T10:00:00.000Z",
            "mes": "Hi Luna",
        },
        {
            "name": "Luna",
            "is_user": False,
            "is_system": False,
            "send_date": 1704103205000,
            "mes": "Hello, night owl.",
        },
    ]
    upload = SimpleUploadedFile(
        "chat.jsonl", "\n".join(json.dumps(line) for line in lines).encode()
    )
    response = auth_api_client.post(
        f"/api/v1/personas/{luna.pk}/history/import/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert list(
        ChatMessage.objects.filter(user=user).order_by("created_at").values_list("role", "content")
    ) == [
        ("user", "Hi Luna"),
        ("assistant", "Hello, night owl."),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        [],
        [{"role": "robot", "content": "beep"}],
        [{"role": "user", "content": ""}],
        [{"role": "user", "content": "hi", "created_at": "yesterday-ish"}],
        [{"role": {}, "content": "0"}],  # found by schemathesis: was a 500
        [{"role": ["user"], "content": "0"}],
        [{"role": "user", "content": {"text": "hi"}}],
        [{"role": "user", "content": "hi", "created_at": True}],
        [{"role": "user", "content": "hi", "created_at": {"at": 1}}],
        ["just a string"],
        {"role": "user"},
    ],
)
def test_import_rejects_bad_history(auth_api_client, user, luna, payload):
    response = auth_api_client.post(
        f"/api/v1/personas/{luna.pk}/history/import/", payload, format="json"
    )
    assert response.status_code == 400
    assert "history" in response.json() or "non_field_errors" in response.json()
    assert not ChatMessage.objects.exists()


def test_import_rejects_garbage_file(auth_api_client, luna):
    upload = SimpleUploadedFile("chat.jsonl", b"\xff\xfe not json")
    response = auth_api_client.post(
        f"/api/v1/personas/{luna.pk}/history/import/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["history"][0]


@pytest.mark.django_db(transaction=True)
def test_a_send_commits_twice_its_tasks_with_its_message(
    auth_api_client, user, system_personas, settings, monkeypatch
):
    """With the database's task backend (production's), a send commits the user's message with
    its pending reply and memory's tasks, then the finished reply: the tasks in a commit of
    their own made three, each enqueue in its own four, each waiting for the disk on
    PostgreSQL."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    conversation = ConversationFactory(user=user)
    commits: list[str] = []  # a transaction's commit, or a write in autocommit (its own)
    commit = connection._commit
    monkeypatch.setattr(connection, "_commit", lambda: (commits.append("COMMIT"), commit())[1])

    def autocommitted(execute, sql, params, many, context):
        # A write, or several as one statement (`mybella.core.db.commits.execute_unflushed`).
        writes = sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE") or (
            sql.startswith("WITH ") and " AS (UPDATE " in sql
        )
        if writes and not connection.in_atomic_block:
            commits.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(autocommitted):
        response = auth_api_client.post(
            SEND, {"message": "I live in Oslo", "conversation": conversation.pk}, format="json"
        )
    assert response.status_code == 201
    assert len(commits) == 2
    assert commits[0] == "COMMIT"
    # The finished reply: its transaction's commit, or on PostgreSQL one statement, its own.
    assert commits[1] == "COMMIT" or commits[1].startswith('WITH w0 AS (UPDATE "chat_chatmessage"')
    # Summarising is queued by the extraction, when a stretch is due (memory.tasks).
    queued = DBTaskResult.objects.values_list("task_path", flat=True)
    assert list(queued) == ["memory.tasks.extract_memories"]
