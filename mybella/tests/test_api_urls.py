"""The API's routes: where each is declared may move, its path and its name may not."""

import pytest
from django.urls import get_resolver, resolve, reverse

# Every route of the `api` namespace, recorded from main before the routes moved into each
# app's api/urls.py (WP-2 of issue #9): name, URL kwargs, path.
ROUTES = [
    ("api-root", {}, "/api/v1/"),
    ("api-root", {"format": "json"}, "/api/v1/.json/"),
    ("api-token-detail", {"format": "json", "pk": 7}, "/api/v1/auth/tokens/7.json"),
    ("api-token-detail", {"pk": 7}, "/api/v1/auth/tokens/7/"),
    ("api-token-list", {}, "/api/v1/auth/tokens/"),
    ("api-token-list", {"format": "json"}, "/api/v1/auth/tokens.json"),
    ("chat-message-audio", {"pk": 7}, "/api/v1/chat/messages/7/audio/"),
    ("chat-message-sentences", {"pk": 7}, "/api/v1/chat/messages/7/audio/sentences/"),
    ("chat-message-detail", {"pk": 7}, "/api/v1/chat/messages/7/"),
    ("chat-message-regenerate", {"pk": 7}, "/api/v1/chat/messages/7/regenerate/"),
    ("chat-message-retry", {"pk": 7}, "/api/v1/chat/messages/7/retry/"),
    ("chat-message-select", {"pk": 7}, "/api/v1/chat/messages/7/select/"),
    ("chat-messages", {}, "/api/v1/chat/messages/"),
    ("conversation-detail", {"format": "json", "pk": 7}, "/api/v1/conversations/7.json"),
    ("conversation-detail", {"pk": 7}, "/api/v1/conversations/7/"),
    ("conversation-export", {"format": "json", "pk": 7}, "/api/v1/conversations/7/export.json"),
    ("conversation-export", {"pk": 7}, "/api/v1/conversations/7/export/"),
    ("conversation-messages", {"format": "json", "pk": 7}, "/api/v1/conversations/7/messages.json"),
    ("conversation-messages", {"pk": 7}, "/api/v1/conversations/7/messages/"),
    ("custom-voice-detail", {"format": "json", "pk": 7}, "/api/v1/voices/custom/7.json"),
    ("custom-voice-detail", {"pk": 7}, "/api/v1/voices/custom/7/"),
    ("custom-voice-list", {}, "/api/v1/voices/custom/"),
    ("custom-voice-list", {"format": "json"}, "/api/v1/voices/custom.json"),
    ("custom-voice-retry", {"format": "json", "pk": 7}, "/api/v1/voices/custom/7/retry.json"),
    ("custom-voice-retry", {"pk": 7}, "/api/v1/voices/custom/7/retry/"),
    ("custom-voice-sample", {"format": "json", "pk": 7}, "/api/v1/voices/custom/7/sample.json"),
    ("custom-voice-sample", {"pk": 7}, "/api/v1/voices/custom/7/sample/"),
    ("docs", {}, "/api/docs/"),
    ("me-export", {}, "/api/v1/me/export/"),
    ("memory-detail", {"format": "json", "pk": 7}, "/api/v1/memories/7.json"),
    ("memory-detail", {"pk": 7}, "/api/v1/memories/7/"),
    ("persona-avatar", {"format": "json", "pk": 7}, "/api/v1/personas/7/avatar.json"),
    ("persona-avatar", {"pk": 7}, "/api/v1/personas/7/avatar/"),
    ("persona-card", {"format": "json", "pk": 7}, "/api/v1/personas/7/card.json"),
    ("persona-card", {"pk": 7}, "/api/v1/personas/7/card/"),
    ("persona-conversations", {"persona_id": 3}, "/api/v1/personas/3/conversations/"),
    ("persona-current", {}, "/api/v1/personas/current/"),
    ("persona-current", {"format": "json"}, "/api/v1/personas/current.json"),
    ("persona-detail", {"format": "json", "pk": 7}, "/api/v1/personas/7.json"),
    ("persona-detail", {"pk": 7}, "/api/v1/personas/7/"),
    ("persona-history-import", {"persona_id": 3}, "/api/v1/personas/3/history/import/"),
    ("persona-import-card", {}, "/api/v1/personas/import/"),
    ("persona-import-card", {"format": "json"}, "/api/v1/personas/import.json"),
    ("persona-list", {}, "/api/v1/personas/"),
    ("persona-list", {"format": "json"}, "/api/v1/personas.json"),
    ("persona-memories", {"persona_id": 3}, "/api/v1/personas/3/memories/"),
    ("persona-memory-search", {"persona_id": 3}, "/api/v1/personas/3/memories/search/"),
    ("persona-memory-settings", {"persona_id": 3}, "/api/v1/personas/3/memory-settings/"),
    ("persona-preferences", {"persona_id": 3}, "/api/v1/personas/3/preferences/"),
    ("persona-select", {"format": "json", "pk": 7}, "/api/v1/personas/7/select.json"),
    ("persona-select", {"pk": 7}, "/api/v1/personas/7/select/"),
    ("persona-speak", {"persona_id": 3}, "/api/v1/personas/3/speak/"),
    ("persona-speak-sentence", {"persona_id": 3}, "/api/v1/personas/3/speak/sentence/"),
    ("persona-voice", {"persona_id": 3}, "/api/v1/personas/3/voice/"),
    ("redoc", {}, "/api/redoc/"),
    ("schema", {}, "/api/schema/"),
    ("token", {}, "/api/v1/auth/token/"),
    ("voice-preset-detail", {"format": "json", "pk": 7}, "/api/v1/voices/presets/7.json"),
    ("voice-preset-detail", {"pk": 7}, "/api/v1/voices/presets/7/"),
    ("voice-preset-list", {}, "/api/v1/voices/presets/"),
    ("voice-preset-list", {"format": "json"}, "/api/v1/voices/presets.json"),
    ("voice-preset-preview", {"format": "json", "pk": 7}, "/api/v1/voices/presets/7/preview.json"),
    ("voice-preset-preview", {"pk": 7}, "/api/v1/voices/presets/7/preview/"),
]


@pytest.mark.parametrize(("name", "kwargs", "path"), ROUTES)
def test_urls_unchanged(name, kwargs, path):
    """Every `api:` route reverses to the path it had, and that path resolves to it again."""
    assert reverse(f"api:{name}", kwargs=kwargs) == path
    assert resolve(path).view_name == f"api:{name}"


def test_no_route_was_added_or_lost():
    """The `api` namespace holds exactly the recorded routes (a new one is added above)."""
    _prefix, api = get_resolver().namespace_dict["api"]
    found = {
        (name, tuple(sorted(params)))
        for name, possibilities in api.reverse_dict.lists()
        if isinstance(name, str)
        for pattern, *_rest in possibilities
        for _result, params in pattern
    }
    assert found == {(name, tuple(sorted(kwargs))) for name, kwargs, _path in ROUTES}


def test_api_root_lists_the_same_collections_in_order(auth_api_client):
    """The API root lists what it listed before, in the same order.

    (Conversations and memories have no list route of their own, so DRF leaves them out.)
    """
    response = auth_api_client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert list(response.json().items()) == [
        ("auth/tokens", "http://testserver/api/v1/auth/tokens/"),
        ("personas", "http://testserver/api/v1/personas/"),
        ("voices/presets", "http://testserver/api/v1/voices/presets/"),
        ("voices/custom", "http://testserver/api/v1/voices/custom/"),
    ]
