"""GET /api/v1/chat/messages/{id}/audio/sentences/: what a reply says aloud, sentence by
sentence, for the page to speak one at a time as it speaks a streamed reply."""

import pytest
from rest_framework.test import APIClient

from chat.models import ChatMessage
from voices.services import NOT_A_REPLY
from voices.tests.api.test_message_audio import reply_of

pytestmark = pytest.mark.django_db


def sentences_url(message: ChatMessage) -> str:
    return f"/api/v1/chat/messages/{message.pk}/audio/sentences/"


def test_a_reply_is_told_as_the_sentences_it_says_without_speaking_it(
    auth_api_client, user, fake_elevenlabs
):
    message = reply_of(user, "*Smiles* One sentence. Another one here.\nAnd a third!")
    response = auth_api_client.get(sentences_url(message))
    assert response.status_code == 200
    assert response.json() == {
        "sentences": ["Smiles One sentence.", "Another one here.", "And a third!"]
    }
    assert fake_elevenlabs.tts_calls() == 0


def test_they_stop_where_the_whole_reply_would_be_cut(auth_api_client, user, settings):
    """The speech limit applies as to `audio`: whole sentences that fit in SPEECH_MAX_CHARS."""
    settings.SPEECH_MAX_CHARS = 40
    message = reply_of(user, "One sentence. Another one here. And a third.")
    response = auth_api_client.get(sentences_url(message))
    assert response.json() == {"sentences": ["One sentence.", "Another one here."]}


def test_a_users_own_message_is_400_and_another_users_reply_404(auth_api_client, user, other_user):
    own = reply_of(user, "My own words.", role=ChatMessage.Role.USER)
    response = auth_api_client.get(sentences_url(own))
    assert response.status_code == 400
    assert NOT_A_REPLY in str(response.json())
    assert auth_api_client.get(sentences_url(reply_of(other_user))).status_code == 404


def test_anonymous_is_refused(user):
    assert APIClient().get(sentences_url(reply_of(user))).status_code in (401, 403)
