"""Odd or oversized request bodies are a clear 4xx with nothing stored, never a 500."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chat.models import ChatMessage, Conversation
from memory.models import ConversationMemory, MemoryEvent, UserPreference
from mybella.core.parsers import json_loads_strict
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db

MODELS = (
    PersonaProfile,
    Conversation,
    ChatMessage,
    ConversationMemory,
    MemoryEvent,
    UserPreference,
)
BIG = "y" * (3 * 1024 * 1024)  # over DATA_UPLOAD_MAX_MEMORY_SIZE (2 MB), under MAX_REQUEST_BYTES


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def _api_posts(luna: PersonaProfile) -> list[tuple[str, str, object]]:
    return [
        ("post", "/api/v1/personas/", {"name": "Big", "bio": BIG}),
        ("post", "/api/v1/personas/import/", {"spec": "chara_card_v2", "data": {"name": BIG}}),
        ("post", "/api/v1/chat/messages/", {"message": BIG}),
        ("post", f"/api/v1/personas/{luna.pk}/history/import/", [{"role": "user", "content": BIG}]),
        ("post", f"/api/v1/personas/{luna.pk}/memories/", {"content": BIG}),
        ("put", f"/api/v1/personas/{luna.pk}/preferences/", {"key": "tone", "value": BIG}),
    ]


def test_api_body_over_the_upload_limit_is_413_json(auth_api_client, luna):
    """A JSON body between DATA_UPLOAD_MAX_MEMORY_SIZE and MAX_REQUEST_BYTES is a 413."""
    before = row_counts()
    for method, url, payload in _api_posts(luna):
        response = getattr(auth_api_client, method)(
            url, json.dumps(payload), content_type="application/json"
        )
        assert response.status_code == 413, (url, response.content[:200])
        assert response["Content-Type"] == "application/json"
        assert "too large" in response.json()["detail"]
    assert row_counts() == before


def test_api_form_body_over_the_upload_limit_is_413_json(auth_api_client):
    before = row_counts()
    response = auth_api_client.post(
        "/api/v1/personas/",
        f"name=Big&bio={BIG}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert row_counts() == before


def test_api_too_many_fields_is_400_json(auth_api_client):
    before = row_counts()
    fields = "&".join(f"f{n}=x" for n in range(1200))
    response = auth_api_client.post(
        "/api/v1/personas/", f"name=Many&{fields}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "fields" in response.json()["detail"]
    multipart = auth_api_client.post(
        "/api/v1/personas/",
        {"name": "Many", **{f"f{n}": "x" for n in range(1200)}},
        format="multipart",
    )
    assert multipart.status_code == 400
    assert "fields" in multipart.json()["detail"]
    assert row_counts() == before


def test_api_too_many_files_is_400_json(auth_api_client):
    before = row_counts()
    files = {f"file{n}": SimpleUploadedFile(f"{n}.png", b"x") for n in range(120)}
    response = auth_api_client.post("/api/v1/personas/import/", files, format="multipart")
    assert response.status_code == 400
    assert "files" in response.json()["detail"]
    assert row_counts() == before


# JSON that Python's json module reads but no client should send, and no database can store.
MALFORMED_JSON = {
    "NaN": '{"name": "Odd", "bio": NaN}',
    "Infinity": '{"name": "Odd", "bio": Infinity}',
    "-Infinity": '{"name": "Odd", "bio": -Infinity}',
    "number overflowing to infinity": '{"name": "Odd", "bio": 1e400}',
    "integer beyond 64 bits": '{"name": "Odd", "position": 100000000000000000000000}',
    "lone surrogate in a value": '{"name": "Odd \\ud800"}',
    "lone surrogate in a key": '{"name": "Odd", "\\udc00": 1}',
    "NUL in a value": '{"name": "Odd", "extra": "a\\u0000b"}',
    "NUL in a key": '{"name": "Odd", "a\\u0000b": 1}',
    "nested 33 deep": '{"name": "Odd", "deep": ' + "[" * 33 + "]" * 33 + "}",
    "nested 100000 deep": '{"name": "Odd", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}",
}


@pytest.mark.parametrize("case", MALFORMED_JSON)
def test_malformed_json_body_is_400_and_stores_nothing(auth_api_client, luna, case):
    body = MALFORMED_JSON[case]
    before = row_counts()
    for url in ["/api/v1/personas/", f"/api/v1/personas/{luna.pk}/memories/"]:
        response = auth_api_client.post(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.content[:200])
        assert response["Content-Type"] == "application/json"
        assert response.json()["detail"].startswith("JSON parse error")
    assert row_counts() == before


def test_lone_surrogate_in_a_chat_message_is_400(auth_api_client):
    before = row_counts()
    response = auth_api_client.post(
        "/api/v1/chat/messages/", '{"message": "hi \\udfff there"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]
    assert row_counts() == before


def test_clean_json_still_works(auth_api_client):
    """Unicode beyond the BMP (real surrogate pairs), floats and nesting are fine."""
    response = auth_api_client.post(
        "/api/v1/personas/",
        '{"name": "Zo\\u00eb \\ud83c\\udf38", "bio": "\u65e5\u672c", "traits": ["a"]}',
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "Zoë 🌸"


# ---------------------------------------------------------------- pages


def test_page_form_over_the_upload_limit_is_400(signed_in, luna):
    """A page post Django refuses to read is a 400 page, not a server error."""
    before = row_counts()
    posts = [
        (reverse("personas:create"), {"name": "Big", "bio": BIG, "communication_style": "warm"}),
        (
            reverse("memory:add", args=[luna.pk]),
            {"content": BIG, "kind": "fact", "importance": "5"},
        ),
        (reverse("memory:preferences", args=[luna.pk]), {"tone": BIG}),
    ]
    for url, data in posts:
        response = signed_in.post(url, data)
        assert response.status_code == 400, url
    assert row_counts() == before


# ---------------------------------------------------------------- the strict reader itself


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"\\ud83c\\udf38"', "🌸"),  # a surrogate pair is one real character
        ("[" * 32 + "]" * 32, json.loads("[" * 32 + "]" * 32)),
        (str(2**63 - 1), 2**63 - 1),
        ("-1.5e300", -1.5e300),
        ('{"a": [1, {"b": null}], "c": true}', {"a": [1, {"b": None}], "c": True}),
    ],
)
def test_strict_json_reads_plain_json(text, value):
    assert json_loads_strict(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("NaN", "NaN"),
        ("[-Infinity]", "-Infinity"),
        ("[1e999]", "out of range"),
        (str(2**63), "too large"),
        ("[" * 33 + "]" * 33, "nested more than 32"),
        ("[" * 50_000 + "]" * 50_000, "nested more than 32"),
        ('{"\\u0000": 1}', "NUL"),
        ('["\\udbff"]', "surrogate"),
    ],
)
def test_strict_json_refuses_what_cannot_be_stored(text, reason):
    with pytest.raises(ValueError, match=reason):
        json_loads_strict(text)
