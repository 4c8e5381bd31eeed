"""Isolation as a property: whatever the data, a (user, persona) pair sees only its own rows.

Hypothesis builds random worlds of users, personas, conversations, messages, memories and
preferences. Every row carries a marker naming its pair; for every pair, every selector,
every endpoint and the prompt built for a new message must hold no other pair's marker.
"""

import itertools

import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from chat import selectors
from chat.models import ChatMessage, Conversation
from chat.prompts import prompt_build
from memory import selectors as memory_selectors
from memory.models import ConversationMemory, UserPreference
from memory.recall import recall
from mybella.users.models import User
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db

# Words every pair shares, so that searches and recall have cross-pair matches to resist.
VOCABULARY = ["tea", "lisbon", "cats", "music", "river", "secret", "garden", "piano"]
QUERY = " ".join(VOCABULARY)

pair_content = st.lists(
    st.tuples(
        st.sampled_from(["user", "assistant"]),
        st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4),
    ),
    max_size=5,
)
world = st.fixed_dictionaries(
    {
        "users": st.integers(min_value=2, max_value=3),
        "custom": st.lists(st.booleans(), min_size=3, max_size=3),
        "conversations": st.lists(st.integers(min_value=0, max_value=2), min_size=12, max_size=12),
        "messages": st.lists(pair_content, min_size=12, max_size=12),
        "memories": st.lists(
            st.lists(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3), max_size=3),
            min_size=12,
            max_size=12,
        ),
        "preferences": st.lists(st.booleans(), min_size=12, max_size=12),
    }
)


def marker(user_index: int, persona_index: int) -> str:
    return f"zmark{user_index}x{persona_index}zz"


def build(data: dict) -> dict[tuple[int, int], tuple[User, PersonaProfile, str]]:
    """Create the world; return each pair with its marker."""
    system = list(PersonaProfile.objects.filter(slug__in=["isabella", "luna"]).order_by("slug"))
    pairs = {}
    slot = itertools.count()
    for u in range(data["users"]):
        user = User.objects.create_user(username=f"iso{u}", password="pw-isolation-1")
        personas = list(system)
        if data["custom"][u]:
            personas.append(
                PersonaProfile.objects.create(
                    name=f"Own {u}", slug=f"own-{u}", is_custom=True, owner=user
                )
            )
        for p, persona in enumerate(personas):
            index, mark = next(slot), marker(u, p)
            pairs[(u, p)] = (user, persona, mark)
            conversations = [
                Conversation.objects.create(user=user, persona=persona, title=f"{mark} chat")
                for _ in range(data["conversations"][index])
            ]
            for n, (role, words) in enumerate(data["messages"][index] if conversations else []):
                ChatMessage.objects.create(
                    conversation=conversations[n % len(conversations)],
                    user=user,
                    persona=persona,
                    role=role,
                    content=f"{mark} {' '.join(words)}",
                )
            for words in data["memories"][index]:
                ConversationMemory.objects.create(
                    user=user, persona=persona, content=f"{mark} {' '.join(words)}"
                )
            if data["preferences"][index]:
                UserPreference.objects.create(user=user, persona=persona, key="tone", value=mark)
    return pairs


def foreign(text: str, own: str, pairs: dict) -> list[str]:
    return [mark for *_, mark in pairs.values() if mark != own and mark in text]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=world)
def test_every_read_of_a_pair_holds_only_that_pair(db, data):
    # Each world is rolled back, so its writes bump no cached read's version (only a commit
    # does), and the next world may reuse its ids: start each from an empty cache.
    cache.clear()
    with transaction.atomic():
        pairs = build(data)
        for user, persona, mark in pairs.values():
            _check_selectors(user, persona, mark, pairs)
            _check_endpoints(user, persona, mark, pairs)
            _check_prompt(user, persona, mark, pairs)
        transaction.set_rollback(True)


def _check_selectors(user, persona, mark, pairs):
    texts = []
    for conversation in selectors.conversation_list(user=user, persona=persona):
        texts.append(conversation.title)
        texts += [m.content for m in selectors.message_list(user=user, conversation=conversation)]
    texts += [m.content for m in memory_selectors.memory_list(user=user, persona=persona)]
    texts += [p.value for p in memory_selectors.preference_list(user=user, persona=persona)]
    texts += [item.content for item in recall(user=user, persona=persona, query=QUERY, k=50)]
    assert foreign(" ".join(texts), mark, pairs) == []


def _check_endpoints(user, persona, mark, pairs):
    client = APIClient()
    client.force_authenticate(user)
    urls = [
        f"/api/v1/personas/{persona.pk}/conversations/",
        f"/api/v1/personas/{persona.pk}/memories/",
        f"/api/v1/personas/{persona.pk}/memories/search/?q={QUERY.replace(' ', '+')}&k=50",
        f"/api/v1/personas/{persona.pk}/preferences/",
    ]
    urls += [
        f"/api/v1/conversations/{c.pk}/messages/?page_size=100"
        for c in selectors.conversation_list(user=user, persona=persona)
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert foreign(response.content.decode(), mark, pairs) == [], url


def _check_prompt(user, persona, mark, pairs):
    conversation = selectors.conversation_latest(user=user, persona=persona) or (
        Conversation.objects.create(user=user, persona=persona)
    )
    message = ChatMessage.objects.create(
        conversation=conversation, user=user, persona=persona, role="user", content=QUERY
    )
    prompt = prompt_build(user=user, persona=persona, conversation=conversation, message=message)
    assert foreign(str(prompt), mark, pairs) == []
    message.delete()
