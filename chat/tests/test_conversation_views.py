"""The chat page's conversation panel: open an earlier one, search, rename, delete; landing."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from chat.models import Conversation
from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory.models import ConversationMemory
from mybella.core import limits
from mybella.core.services import service_calls
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("chat:page")
LIST = reverse("chat:conversation-list")


def rename_url(conversation: Conversation) -> str:
    return reverse("chat:conversation-rename", args=[conversation.pk])


def delete_url(conversation: Conversation) -> str:
    return reverse("chat:conversation-delete", args=[conversation.pk])


def _aged(conversation: Conversation, day: int) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(
        updated_at=datetime(2025, 1, day, tzinfo=UTC)
    )
    return conversation


@pytest.fixture
def two(user, isabella):
    """An older conversation about the sea and a newer one about music."""
    sea = _aged(ConversationFactory(user=user, persona=isabella, title="The sea"), 1)
    ChatMessageFactory(conversation=sea, content="I love the sound of waves")
    music = _aged(ConversationFactory(user=user, persona=isabella, title=""), 2)
    ChatMessageFactory(conversation=music, content="Which jazz records should I hear first?")
    return sea, music


def test_the_panel_lists_the_pairs_conversations_newest_first(signed_in, user, isabella, two):
    sea, music = two
    luna = PersonaProfile.objects.get(slug="luna")
    ConversationFactory(user=user, persona=luna, title="Not Isabella's")
    html = signed_in.get(PAGE, {"persona": isabella.pk}).content.decode()
    assert html.index("Which jazz records should I hear first?") < html.index("The sea")
    assert "Not Isabella&#x27;s" not in html and "Not Isabella's" not in html
    # The newest is open, and marked so.
    assert f'data-conversation="{music.pk}"' in html
    assert f'href="/chat/?conversation={music.pk}" aria-current="page"' in html
    assert f'href="/api/v1/conversations/{sea.pk}/export/" download' in html


def test_an_earlier_conversation_opens_with_its_history(signed_in, two):
    sea, _music = two
    response = signed_in.get(PAGE, {"conversation": sea.pk})
    assert response.status_code == 200
    assert response.context["conversation"] == sea
    assert [m.content for m in response.context["chat_messages"]] == ["I love the sound of waves"]
    assert f'data-conversation="{sea.pk}"' in response.content.decode()


def test_an_earlier_conversation_opens_with_its_own_persona(signed_in, user):
    luna = PersonaProfile.objects.get(slug="luna")
    theirs = ConversationFactory(user=user, persona=luna)
    response = signed_in.get(PAGE, {"conversation": theirs.pk})
    assert response.context["persona"] == luna


@pytest.mark.parametrize("value", ["abc", "-1", "99999999", "1" * 40])
def test_a_bad_or_missing_conversation_is_a_404(signed_in, value):
    assert signed_in.get(PAGE, {"conversation": value}).status_code == 404


def test_another_users_conversation_is_a_404_everywhere(signed_in, other_user, isabella):
    theirs = ConversationFactory(user=other_user, persona=isabella, title="Theirs")
    assert signed_in.get(PAGE, {"conversation": theirs.pk}).status_code == 404
    listed = signed_in.get(LIST, {"persona": isabella.pk, "conversation": theirs.pk})
    assert listed.context["conversation"] is None  # nothing of theirs is marked or shown
    assert "Theirs" not in listed.content.decode()
    assert signed_in.post(rename_url(theirs), {"title": "Mine now"}).status_code == 404
    assert signed_in.post(delete_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"


def test_another_users_persona_has_no_list(signed_in, other_user):
    hidden = PersonaFactory(owner=other_user)
    assert signed_in.get(LIST, {"persona": hidden.pk}).status_code == 404


@pytest.mark.parametrize(
    ("query", "found"), [("SEA", ["The sea"]), ("jazz", ["music"]), ("", None)]
)
def test_search_finds_titles_and_message_text(signed_in, isabella, two, query, found):
    sea, music = two
    response = signed_in.get(LIST, {"persona": isabella.pk, "q": query})
    assert response.status_code == 200
    listed = [c.pk for c in response.context["conversations"]]
    expected = {"The sea": sea.pk, "music": music.pk}
    assert listed == ([expected[name] for name in found] if found else [music.pk, sea.pk])


def test_search_that_finds_nothing_says_so(signed_in, isabella, two):
    response = signed_in.get(LIST, {"persona": isabella.pk, "q": "volcanoes"})
    assert "No conversation with Isabella mentions “volcanoes”." in response.content.decode()


def test_search_longer_than_the_limit_is_a_400_that_searches_nothing(
    signed_in, isabella, two, django_assert_max_num_queries
):
    word = "x" * (limits.SEARCH_QUERY_MAX_CHARS + 1)
    with django_assert_max_num_queries(4):  # session, user, persona: no search
        response = signed_in.get(LIST, {"persona": isabella.pk, "q": word})
    assert response.status_code == 400
    assert "Keep searches under 500 characters." in response.content.decode()
    page = signed_in.get(PAGE, {"persona": isabella.pk, "q": word})
    assert page.status_code == 200
    assert "Keep searches under 500 characters." in page.content.decode()


def test_the_list_is_bounded_and_costs_the_same_for_many(
    signed_in, user, isabella, django_assert_max_num_queries
):
    for _ in range(60):
        ChatMessageFactory(conversation=ConversationFactory(user=user, persona=isabella))
    with django_assert_max_num_queries(4):
        response = signed_in.get(LIST, {"persona": isabella.pk, "q": "message"})
    assert len(response.context["conversations"]) == 50


def test_rename_from_the_page(signed_in, two):
    sea, music = two
    before = service_calls()
    response = signed_in.post(rename_url(sea), {"title": "  Waves\nand tides ", "open": music.pk})
    assert service_calls() > before
    assert response.status_code == 302
    assert response["Location"] == f"/chat/?conversation={music.pk}"
    sea.refresh_from_db()
    assert sea.title == "Waves and tides"


def test_an_empty_title_is_refused_with_a_message(signed_in, two):
    sea, _music = two
    response = signed_in.post(rename_url(sea), {"title": "  "}, follow=True)
    assert "Give the conversation a title." in response.content.decode()
    sea.refresh_from_db()
    assert sea.title == "The sea"


def test_delete_from_the_page_goes_back_to_the_open_one(signed_in, user, isabella, two):
    sea, music = two
    said = sea.messages.get()
    memory = MemoryFactory(user=user, persona=isabella, content="Loves the sea")
    memory.source_messages.set([said])
    response = signed_in.post(delete_url(sea), {"open": music.pk})
    assert response["Location"] == f"/chat/?conversation={music.pk}"
    assert not Conversation.objects.filter(pk=sea.pk).exists()
    assert not ConversationMemory.objects.filter(pk=memory.pk).exists()


def test_deleting_the_open_conversation_goes_to_the_personas_latest(signed_in, isabella, two):
    _sea, music = two
    response = signed_in.post(delete_url(music), {"open": music.pk})
    assert response["Location"] == f"/chat/?persona={isabella.pk}"


def test_the_pages_write_only_by_post(signed_in, two):
    sea, _music = two
    assert signed_in.get(rename_url(sea)).status_code == 405
    assert signed_in.get(delete_url(sea)).status_code == 405
    assert Conversation.objects.filter(pk=sea.pk).exists()


# ---------------------------------------------------------------- landing


def test_signing_in_lands_on_the_chat(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "a-long-password-1"})
    assert response.status_code == 302
    assert response["Location"] == PAGE


def test_a_next_still_wins_over_the_chat(client, user):
    response = client.post(
        f"{reverse('login')}?next=/users/memory/",
        {"username": "alice", "password": "a-long-password-1"},
    )
    assert response["Location"] == "/users/memory/"


def test_the_personas_page_offers_start_chatting(signed_in, user, isabella):
    mine = PersonaFactory(owner=user, name="Nova")
    html = signed_in.get(reverse("personas:settings")).content.decode()
    assert f'<a class="button" href="{PAGE}">Start chatting</a>' in html
    assert f'href="{PAGE}?persona={mine.pk}" aria-label="Chat with Nova"' in html
