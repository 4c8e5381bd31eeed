"""Answers from memory, end to end: facts told in one message are answered in a later one by
the offline engine, through the real send API, extraction and recall.

Transactional, as on a real server: each message commits before its reply is written, so
extraction (the immediate task backend) runs before the reply, as a worker may.
"""

import re

import pytest

from chat.models import ChatMessage
from memory.models import ConversationMemory
from mybella.providers.llm.offline import VOICES

# The voices' fixed lines (follow-ups, …) recur in every reply: saying one again quotes nothing.
FIXED_LINES = {
    line for voice in VOICES.values() for lines in vars(voice).values() for line in lines
}

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("system_personas")]

SEND = "/api/v1/chat/messages/"
TOLD = "My name is Robin, I live in Lisbon, and I have a dog called Pixel"
ASKED = "What's my dog's name, and where do I live?"


def _isabella(client) -> int:
    personas = client.get("/api/v1/personas/").json()
    personas = personas.get("results", personas)
    return next(p["id"] for p in personas if p["slug"] == "isabella")


def _say(client, text: str, **target: int) -> str:
    response = client.post(SEND, {"message": text, **target}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["offline"] is True
    return response.json()["assistant_message"]["content"]


def _quoted(reply: str, *, replies: list[str], user) -> list[str]:
    """Return what `reply` quotes of the persona's earlier `replies` (beyond its fixed lines)
    or of the user's questions."""
    quoted = [
        sentence
        for earlier in replies
        for sentence in re.split(r"(?<=[.!?])\s+", earlier)
        if sentence not in FIXED_LINES and sentence in reply
    ]
    questions = ChatMessage.objects.filter(
        user=user, role=ChatMessage.Role.USER, content__contains="?"
    )
    return quoted + [q.content for q in questions if q.content.rstrip("?") in reply]


def test_what_was_told_is_answered_later_and_in_a_new_conversation(user, auth_api_client):
    isabella = _isabella(auth_api_client)
    first = _say(auth_api_client, TOLD, persona=isabella)
    # What was said a second ago is not "remembered" back in the reply to it.
    assert "remember" not in first.lower() and "mentioned" not in first.lower()
    assert set(ConversationMemory.objects.filter(user=user).values_list("content", flat=True)) == {
        "Their name is Robin",
        "Lives in Lisbon",
        "Their dog is called Pixel",
    }

    answer = _say(auth_api_client, ASKED, persona=isabella)
    assert "Pixel" in answer and "Lisbon" in answer
    assert answer.startswith("Your dog is called Pixel, and you live in Lisbon.")
    assert _quoted(answer, replies=[first], user=user) == []

    conversation = auth_api_client.post(
        f"/api/v1/personas/{isabella}/conversations/", {}, format="json"
    ).json()["id"]
    again = _say(auth_api_client, ASKED, conversation=conversation)
    assert "Pixel" in again and "Lisbon" in again
    assert _quoted(again, replies=[first], user=user) == []


def test_what_was_never_told_is_not_made_up(user, auth_api_client):
    isabella = _isabella(auth_api_client)
    first = _say(auth_api_client, "I live in Lisbon and I love jasmine tea", persona=isabella)
    answer = _say(auth_api_client, ASKED, persona=isabella)
    assert answer.startswith("You live in Lisbon, but you haven't told me your dog's name yet."), (
        answer
    )
    assert _quoted(answer, replies=[first], user=user) == []


def test_a_moved_user_is_answered_with_the_new_home(user, auth_api_client):
    """The superseded home is never the answer."""
    isabella = _isabella(auth_api_client)
    _say(auth_api_client, "I live in Lisbon", persona=isabella)
    _say(auth_api_client, "I moved to Porto last month", persona=isabella)
    answer = _say(auth_api_client, "Where do I live?", persona=isabella)
    assert answer.startswith("You live in Porto."), answer
    assert "Lisbon" not in answer


def test_another_users_facts_are_never_an_answer(user, other_user, auth_api_client, api_client):
    api_client.force_authenticate(other_user)
    isabella = _isabella(auth_api_client)
    _say(api_client, TOLD, persona=isabella)
    answer = _say(auth_api_client, ASKED, persona=isabella)
    assert "Pixel" not in answer and "Lisbon" not in answer and "Robin" not in answer
    assert "haven't told me" in answer
