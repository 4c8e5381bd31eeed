"""What belongs to a (user, persona) pair goes with the persona and with the user."""

import pytest

from chat.models import ChatMessage, Conversation
from memory.models import ConversationMemory, UserPreference
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def _fill(user, persona):
    conversation = Conversation.objects.create(user=user, persona=persona)
    message = ChatMessage.objects.create(
        conversation=conversation, user=user, persona=persona, role="user", content="hi"
    )
    memory = ConversationMemory.objects.create(user=user, persona=persona, content="likes tea")
    memory.source_messages.add(message)
    UserPreference.objects.create(user=user, persona=persona, key="tone", value="gentle")


PAIR_MODELS = (Conversation, ChatMessage, ConversationMemory, UserPreference)


def _counts():
    return [model.objects.count() for model in PAIR_MODELS]


def test_deleting_a_persona_deletes_its_pairs_data(user, other_user):
    mine = PersonaFactory(owner=user)
    luna = PersonaProfile.objects.get(slug="luna")
    _fill(user, mine)
    _fill(user, luna)
    _fill(other_user, luna)
    mine.delete()
    assert _counts() == [2, 2, 2, 2]
    assert not ChatMessage.objects.filter(persona_id=mine.pk).exists()


def test_deleting_a_user_deletes_all_of_theirs(user, other_user):
    luna = PersonaProfile.objects.get(slug="luna")
    _fill(user, luna)
    _fill(other_user, luna)
    user.delete()
    assert _counts() == [1, 1, 1, 1]
    assert ConversationMemory.objects.get().user == other_user
