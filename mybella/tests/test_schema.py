"""The OpenAPI schema says what the API does: pages, errors, parameters, nullable fields."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from personas.models import PersonaProfile
from voices.tests.factories import VoicePresetFactory


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _schema_of(operation, code):
    return operation["responses"][code]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    ("path", "component", "parameters"),
    [
        ("/api/v1/personas/", "PaginatedPersonaOutputList", {"page", "page_size"}),
        ("/api/v1/voices/presets/", "PaginatedVoicePresetList", {"page", "page_size"}),
        ("/api/v1/voices/custom/", "PaginatedCustomVoiceList", {"page", "page_size"}),
        ("/api/v1/personas/{persona_id}/conversations/", "PaginatedConversationList", {"page"}),
        ("/api/v1/personas/{persona_id}/memories/", "PaginatedMemoryList", {"page"}),
        (
            "/api/v1/conversations/{id}/messages/",
            "PaginatedChatMessageList",
            {"cursor", "page_size"},
        ),
    ],
)
def test_paginated_lists_are_documented_with_their_envelope(schema, path, component, parameters):
    operation = schema["paths"][path]["get"]
    assert _schema_of(operation, "200") == {"$ref": f"#/components/schemas/{component}"}
    envelope = schema["components"]["schemas"][component]
    assert {"next", "previous", "results"} <= set(envelope["properties"])
    query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert parameters <= query


def test_every_operation_documents_its_errors(schema):
    """Signed-in operations document 401; changes 400 and 403; paths with ids 404."""
    error = {"$ref": "#/components/schemas/Error"}
    for method, path, operation in _operations(schema):
        responses = operation["responses"]
        where = f"{method} {path}"
        if path != "/api/v1/auth/token/" or method == "DELETE":
            assert _schema_of(operation, "401") == error, where
        if method != "GET":
            assert "400" in responses, where
            assert "403" in responses or path == "/api/v1/auth/token/", where
        if "{" in path:
            assert _schema_of(operation, "404") == error, where
        for code, response in responses.items():
            assert response.get("description") or code < "300", f"{where} {code}"


def test_throttled_operations_document_429(schema):
    for method, path in [
        ("post", "/api/v1/auth/token/"),
        ("post", "/api/v1/chat/messages/"),
        ("post", "/api/v1/personas/{id}/avatar/"),
        ("post", "/api/v1/personas/import/"),
        ("post", "/api/v1/voices/custom/"),
        ("post", "/api/v1/personas/{persona_id}/history/import/"),
    ]:
        assert "429" in schema["paths"][path][method]["responses"], (method, path)


def test_validation_errors_are_objects_of_field_messages(schema):
    operation = schema["paths"]["/api/v1/personas/"]["post"]
    assert _schema_of(operation, "400") == {"$ref": "#/components/schemas/ValidationError"}
    assert schema["components"]["schemas"]["ValidationError"]["type"] == "object"


def test_query_parameters_are_declared_with_their_limits(schema):
    search = schema["paths"]["/api/v1/personas/{persona_id}/memories/search/"]["get"]
    params = {p["name"]: p for p in search["parameters"] if p["in"] == "query"}
    assert params["q"]["required"] is True
    assert params["q"]["schema"] == {"type": "string", "minLength": 1, "maxLength": 500}
    assert params["k"]["schema"] | {"default": 5} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 50,
        "default": 5,
    }
    card = schema["paths"]["/api/v1/personas/{id}/card/"]["get"]
    [fmt] = [p for p in card["parameters"] if p["name"] == "format"]
    assert fmt["schema"]["enum"] == ["json", "png"]
    personas = schema["paths"]["/api/v1/personas/"]["get"]
    [kind] = [p for p in personas["parameters"] if p["name"] == "kind"]
    assert kind["schema"]["enum"] == ["custom", "system"]
    presets = schema["paths"]["/api/v1/voices/presets/"]["get"]
    [gender] = [p for p in presets["parameters"] if p["name"] == "gender"]
    assert gender["schema"]["enum"] == ["female", "male", "neutral"]


def test_the_token_scheme_names_both_keywords(schema):
    """Clients read from the schema that the key goes after `Token` or `Bearer`."""
    token = schema["components"]["securitySchemes"]["tokenAuth"]
    assert (token["type"], token["in"], token["name"]) == ("apiKey", "header", "Authorization")
    assert "`Token <key>` or `Bearer <key>`" in token["description"]


def test_preview_url_is_a_nullable_uri(schema):
    preview_url = schema["components"]["schemas"]["VoicePreset"]["properties"]["preview_url"]
    assert preview_url["format"] == "uri"
    assert preview_url["nullable"] is True


@pytest.mark.django_db
def test_a_preset_without_a_preview_answers_null_not_an_empty_string(auth_api_client):
    """An empty string is no URI: a preset without a preview says null."""
    silent = VoicePresetFactory(name="Silent", preview_url="")
    loud = VoicePresetFactory(name="Loud", preview_url="https://storage.example/loud.mp3")
    answer = auth_api_client.get(f"/api/v1/voices/presets/{silent.pk}/").json()
    assert answer["preview_url"] is None
    answer = auth_api_client.get(f"/api/v1/voices/presets/{loud.pk}/").json()
    assert answer["preview_url"] == "https://storage.example/loud.mp3"


def test_ids_in_a_body_document_their_404(schema):
    """A message names its persona and conversation: someone else's is a 404."""
    send = schema["paths"]["/api/v1/chat/messages/"]["post"]
    assert _schema_of(send, "404") == {"$ref": "#/components/schemas/Error"}


def test_speech_documents_field_errors_not_a_detail(schema):
    """`{"stream": ["Must be a valid boolean."]}` is what a bad speak request gets."""
    speak = schema["paths"]["/api/v1/personas/{persona_id}/speak/"]["post"]
    assert _schema_of(speak, "400") == {"$ref": "#/components/schemas/ValidationError"}
    preview = schema["paths"]["/api/v1/voices/presets/{id}/preview/"]["get"]
    assert "400" not in preview["responses"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/chat/messages/{id}/", "patch"),
        ("/api/v1/chat/messages/{id}/regenerate/", "post"),
        ("/api/v1/chat/messages/{id}/select/", "post"),
    ],
)
def test_message_changes_document_field_errors_not_a_detail(schema, path, method):
    """`{"detail": ["Only the latest…"]}` and `{"content": [...]}` are what they answer."""
    operation = schema["paths"][path][method]
    assert _schema_of(operation, "400") == {"$ref": "#/components/schemas/ValidationError"}


@pytest.mark.django_db
def test_removing_a_preference_answers_a_null_time(schema, auth_api_client):
    """An empty value removes the preference: there is no time of change to report."""
    isabella = PersonaProfile.objects.get(slug="isabella")
    url = f"/api/v1/personas/{isabella.pk}/preferences/"
    set_ = auth_api_client.put(url, {"key": "tone", "value": "gentle"}, format="json")
    assert set_.json()["updated_at"] is not None
    removed = auth_api_client.put(url, {"key": "tone", "value": ""}, format="json")
    assert removed.status_code == 200
    assert removed.json()["updated_at"] is None
    updated_at = schema["components"]["schemas"]["Preference"]["properties"]["updated_at"]
    assert updated_at["nullable"] is True


@pytest.mark.django_db
def test_streamed_events_match_the_documented_event(schema, auth_api_client):
    """Each Server-Sent Event of a streamed reply is what the schema says an event is."""
    import jsonschema

    response = auth_api_client.post(
        "/api/v1/chat/messages/", {"message": "Tell me a story", "stream": True}, format="json"
    )
    body = b"".join(response.streaming_content).decode()
    documented = schema["paths"]["/api/v1/chat/messages/"]["post"]["responses"]["200"]
    event_schema = documented["content"]["text/event-stream"]["schema"]
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append({"event": fields["event"], "data": fields["data"]})
    assert [e["event"] for e in events][:2] == ["message", "delta"]
    assert events[-1]["event"] == "done"
    for event in events:
        jsonschema.validate(event, event_schema)
