"""The memory page and its forms, through Django's test client."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory import selectors, services
from memory.models import ConversationMemory, MemoryEvent, MemorySettings, UserPreference
from personas.models import PersonaProfile
from personas.services import persona_select
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("memory:page")
Action, Actor = MemoryEvent.Action, MemoryEvent.Actor


@pytest.fixture
def memory(user, isabella):
    return services.memory_create(
        user=user, persona=isabella, content="Lives in Porto", kind="fact", importance=6
    )


@pytest.fixture
def bobs_memory(other_user, isabella):
    return services.memory_create(
        user=other_user, persona=isabella, content="Bob keeps bees", importance=4
    )


def page_of(persona: PersonaProfile) -> str:
    return f"{PAGE}?persona={persona.pk}"


def flash(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def events(memory: ConversationMemory) -> list[tuple[str, str, str, str]]:
    return list(
        MemoryEvent.objects.filter(memory_id=memory.pk)
        .order_by("created_at", "id")
        .values_list("action", "actor", "content_before", "content_after")
    )


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("memory:page", []),
        ("memory:add", [1]),
        ("memory:forget_all", [1]),
        ("memory:remember", [1]),
        ("memory:preferences", [1]),
        ("memory:edit", [1]),
        ("memory:pin", [1]),
        ("memory:delete", [1]),
    ],
)
def test_every_address_needs_a_login(client, name, args):
    """Signed-out visitors are sent to the login page, whatever they ask for."""
    url = reverse(name, args=args)
    response = client.post(url) if args else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_changes_are_posts_only(signed_in, memory, isabella):
    """A link or a prefetch never changes a memory."""
    assert signed_in.get(reverse("memory:delete", args=[memory.pk])).status_code == 405
    assert signed_in.get(reverse("memory:forget_all", args=[isabella.pk])).status_code == 405
    assert signed_in.post(PAGE).status_code == 405
    assert ConversationMemory.objects.filter(pk=memory.pk).exists()


# ---------------------------------------------------------------- the page


def test_lists_only_this_pairs_memories(signed_in, user, other_user, isabella, luna):
    """The page shows one persona's memories of this user, and nobody else's."""
    MemoryFactory(user=user, persona=isabella, content="Plays the cello on Sundays")
    MemoryFactory(user=user, persona=luna, content="Told Luna about the lighthouse")
    MemoryFactory(user=other_user, persona=isabella, content="Bob's secret pancake recipe")

    response = signed_in.get(page_of(isabella))
    assert response.status_code == 200
    html = response.content.decode()
    assert "What Isabella remembers about you" in html
    assert "Plays the cello on Sundays" in html
    assert "Told Luna about the lighthouse" not in html
    assert "pancake" not in html

    html = signed_in.get(page_of(luna)).content.decode()
    assert "What Luna remembers about you" in html
    assert "Told Luna about the lighthouse" in html
    assert "Plays the cello on Sundays" not in html
    assert "pancake" not in html


def test_defaults_to_the_current_persona(signed_in, user, luna):
    """Without `?persona=`, the page shows the persona the user is talking to."""
    assert "What Isabella remembers about you" in signed_in.get(PAGE).content.decode()
    persona_select(user=user, persona=luna)
    response = signed_in.get(PAGE)
    assert response.context["persona"] == luna
    assert 'aria-current="page"' in response.content.decode()


def test_picker_offers_only_visible_personas(signed_in, user, other_user):
    """The user's own custom personas are tabs; another user's are not."""
    mine = PersonaFactory(owner=user, name="Wren")
    PersonaFactory(owner=other_user, name="Bobbins")
    tabs = [persona.name for persona in signed_in.get(PAGE).context["personas"]]
    assert "Wren" in tabs
    assert "Isabella" in tabs
    assert "Bobbins" not in tabs
    assert signed_in.get(page_of(mine)).status_code == 200


def test_unknown_or_invisible_persona_is_a_404(signed_in, other_user, luna):
    """A persona the user can't see does not exist for them."""
    theirs = PersonaFactory(owner=other_user)
    PersonaProfile.objects.filter(pk=luna.pk).update(is_active=False)
    for value in [str(theirs.pk), str(luna.pk), "999999", "abc", ""]:
        assert signed_in.get(PAGE, {"persona": value}).status_code == 404, value
    assert signed_in.post(reverse("memory:add", args=[theirs.pk]), {}).status_code == 404


def test_pinned_first_then_importance(signed_in, user, isabella):
    """Pinned memories come first, then the more important ones."""
    MemoryFactory(user=user, persona=isabella, content="minor", importance=2)
    MemoryFactory(user=user, persona=isabella, content="major", importance=9)
    MemoryFactory(user=user, persona=isabella, content="pinned", importance=1, pinned=True)
    items = signed_in.get(page_of(isabella)).context["items"]
    assert [memory.content for memory, _form in items] == ["pinned", "major", "minor"]


def test_history_names_who_changed_a_memory(signed_in, user, isabella):
    """Each memory's history shows its changes and who made them."""
    memory = services.memory_create(
        user=user, persona=isabella, content="Lives in Porto", actor=Actor.EXTRACTOR
    )
    services.memory_update(memory=memory, content="Lives in Lisbon")
    html = signed_in.get(page_of(isabella)).content.decode()
    assert "Noticed in conversation" in html
    assert "<del>Lives in Porto</del>" in html
    assert "<ins>Lives in Lisbon</ins>" in html


@pytest.mark.parametrize("count", [5, 100])
def test_query_count_does_not_grow_with_memories(
    signed_in, user, isabella, count, django_assert_max_num_queries
):
    """The page reads memories, their sources and their history in a fixed number of queries."""
    conversation = ConversationFactory(user=user, persona=isabella)
    message = ChatMessageFactory(conversation=conversation)
    for n in range(count):
        memory = services.memory_create(
            user=user,
            persona=isabella,
            content=f"fact {n}",
            source_message_ids=[message.pk],
            actor=Actor.EXTRACTOR,
        )
        services.memory_update(memory=memory, content=f"fact number {n}")
    services.preference_set(user=user, persona=isabella, key="tone", value="gentle")
    with django_assert_max_num_queries(12):
        response = signed_in.get(page_of(isabella))
    assert len(response.context["items"]) == count
    assert all(len(memory.history) == 2 for memory, _form in response.context["items"])


def test_query_count_is_the_same_for_5_and_100_memories(signed_in, user, isabella):
    """Five or a hundred memories, the page costs the same queries."""

    def queries_for(total: int) -> int:
        while ConversationMemory.objects.filter(user=user, persona=isabella).count() < total:
            memory = services.memory_create(user=user, persona=isabella, content="something")
            services.memory_update(memory=memory, pinned=True)
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get(page_of(isabella)).status_code == 200
        return len(captured)

    assert queries_for(5) == queries_for(100)


# ---------------------------------------------------------------- add


def test_add_a_memory(signed_in, user, isabella):
    """A new memory is saved with its kind and importance, and its creation is recorded."""
    response = signed_in.post(
        reverse("memory:add", args=[isabella.pk]),
        {"content": "  Allergic to peanuts  ", "kind": "fact", "importance": "9"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{page_of(isabella)}#memories"
    memory = ConversationMemory.objects.get(user=user, persona=isabella)
    assert (memory.content, memory.kind, memory.importance, memory.pinned) == (
        "Allergic to peanuts",
        "fact",
        9,
        False,
    )
    assert events(memory) == [(Action.CREATED, Actor.USER, "", "Allergic to peanuts")]
    assert flash(response) == ["Isabella will remember that."]


@pytest.mark.parametrize(
    "data",
    [
        {"content": "   ", "kind": "fact", "importance": "5"},
        {"content": "Fine", "kind": "rumour", "importance": "5"},
        {"content": "Fine", "kind": "fact", "importance": "11"},
        {"content": "Fine", "kind": "fact", "importance": "0"},
        {"content": "x" * 1001, "kind": "fact", "importance": "5"},
    ],
)
def test_add_bad_input_is_a_400_and_saves_nothing(signed_in, isabella, data):
    """A refused memory comes back with its errors and the typed values."""
    response = signed_in.post(reverse("memory:add", args=[isabella.pk]), data)
    assert response.status_code == 400
    assert response.context["add_form"].errors
    assert 'role="alert"' in response.content.decode()
    assert not ConversationMemory.objects.exists()
    assert not MemoryEvent.objects.exists()


# ---------------------------------------------------------------- edit, pin, delete


def test_edit_a_memory(signed_in, memory, isabella):
    """Content, kind and importance change, and the history keeps the old content."""
    response = signed_in.post(
        reverse("memory:edit", args=[memory.pk]),
        {"content": "Lives in Lisbon", "kind": "event", "importance": "8"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{page_of(isabella)}#memory-{memory.pk}"
    memory.refresh_from_db()
    assert (memory.content, memory.kind, memory.importance) == ("Lives in Lisbon", "event", 8)
    assert events(memory)[-1] == (Action.UPDATED, Actor.USER, "Lives in Porto", "Lives in Lisbon")
    assert flash(response) == ["The memory is saved."]


def test_saving_an_unchanged_memory_leaves_no_history(signed_in, memory):
    """Save without a change is not a change."""
    response = signed_in.post(
        reverse("memory:edit", args=[memory.pk]),
        {"content": "Lives in Porto ", "kind": "fact", "importance": "6"},
    )
    assert response.status_code == 302
    assert len(events(memory)) == 1


@pytest.mark.parametrize(
    "data",
    [
        {"content": "", "kind": "fact", "importance": "6"},
        {"content": "Lives in Faro", "kind": "fact", "importance": "eleven"},
        {"content": "Lives in Faro", "kind": "nope", "importance": "6"},
    ],
)
def test_edit_bad_input_is_a_400_and_unchanged(signed_in, memory, data):
    """A refused edit leaves the memory as it was and reopens its form with the errors."""
    response = signed_in.post(reverse("memory:edit", args=[memory.pk]), data)
    assert response.status_code == 400
    assert response.context["editing_id"] == memory.pk
    html = response.content.decode()
    assert "is-editing" in html
    assert 'role="alert"' in html
    memory.refresh_from_db()
    assert (memory.content, memory.kind, memory.importance) == ("Lives in Porto", "fact", 6)
    assert len(events(memory)) == 1


def test_pin_and_unpin(signed_in, memory):
    """Pinning is explicit, recorded, and repeating it changes nothing."""
    url = reverse("memory:pin", args=[memory.pk])
    assert signed_in.post(url, {"pinned": "on"}).status_code == 302
    memory.refresh_from_db()
    assert memory.pinned
    assert signed_in.post(url, {"pinned": "on"}).status_code == 302
    assert len(events(memory)) == 2
    response = signed_in.post(url, {"pinned": "off"})
    assert response.status_code == 302
    memory.refresh_from_db()
    assert not memory.pinned
    assert [event[:2] for event in events(memory)] == [
        (Action.CREATED, Actor.USER),
        (Action.UPDATED, Actor.USER),
        (Action.UPDATED, Actor.USER),
    ]


def test_pin_bad_value_is_a_400(signed_in, memory):
    response = signed_in.post(reverse("memory:pin", args=[memory.pk]), {"pinned": "maybe"})
    assert response.status_code == 400
    memory.refresh_from_db()
    assert not memory.pinned
    assert len(events(memory)) == 1


def test_delete_a_memory(signed_in, memory, isabella):
    """The memory goes; its history keeps the deletion."""
    pk = memory.pk
    response = signed_in.post(reverse("memory:delete", args=[pk]))
    assert response.status_code == 302
    assert response["Location"] == f"{page_of(isabella)}#memories"
    assert not ConversationMemory.objects.filter(pk=pk).exists()
    deleted = MemoryEvent.objects.get(action=Action.DELETED)
    assert (deleted.actor, deleted.content_before) == (Actor.USER, "Lives in Porto")
    assert flash(response) == ["Isabella forgot that."]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("memory:edit", {"content": "Hacked", "kind": "fact", "importance": "5"}),
        ("memory:pin", {"pinned": "on"}),
        ("memory:delete", {}),
    ],
)
def test_another_users_memory_is_a_404(signed_in, bobs_memory, name, data):
    """Another user's memory can't be changed: it does not exist for this user."""
    response = signed_in.post(reverse(name, args=[bobs_memory.pk]), data)
    assert response.status_code == 404
    bobs_memory.refresh_from_db()
    assert (bobs_memory.content, bobs_memory.pinned) == ("Bob keeps bees", False)
    assert len(events(bobs_memory)) == 1


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("memory:edit", {"content": "Hacked", "kind": "fact", "importance": "5"}),
        ("memory:pin", {"pinned": "on"}),
        ("memory:delete", {}),
    ],
)
def test_memory_of_an_invisible_persona_is_a_404(signed_in, user, luna, name, data):
    """A memory held by a deactivated persona can't be reached through the page."""
    memory = services.memory_create(user=user, persona=luna, content="Likes jazz")
    PersonaProfile.objects.filter(pk=luna.pk).update(is_active=False)
    assert signed_in.post(reverse(name, args=[memory.pk]), data).status_code == 404
    memory.refresh_from_db()
    assert (memory.content, memory.pinned) == ("Likes jazz", False)
    assert len(events(memory)) == 1


# ---------------------------------------------------------------- forget all, switch, preferences


def test_forget_everything(signed_in, user, other_user, isabella, luna, memory):
    """One persona forgets memories, their history and preferences; conversations stay."""
    conversation = ConversationFactory(user=user, persona=isabella)
    ChatMessageFactory(conversation=conversation)
    services.preference_set(user=user, persona=isabella, key="tone", value="gentle")
    kept = services.memory_create(user=user, persona=luna, content="Likes jazz")
    services.preference_set(user=user, persona=luna, key="tone", value="dry")
    bobs = services.memory_create(user=other_user, persona=isabella, content="Bob keeps bees")

    response = signed_in.post(reverse("memory:forget_all", args=[isabella.pk]))
    assert response.status_code == 302
    assert response["Location"] == page_of(isabella)
    assert not ConversationMemory.objects.filter(user=user, persona=isabella).exists()
    assert not MemoryEvent.objects.filter(user=user, persona=isabella).exists()
    assert not UserPreference.objects.filter(user=user, persona=isabella).exists()
    assert conversation.messages.count() == 1
    assert ConversationMemory.objects.filter(pk__in=[kept.pk, bobs.pk]).count() == 2
    assert events(kept) == [(Action.CREATED, Actor.USER, "", "Likes jazz")]
    assert selectors.preference_dict(user=user, persona=luna) == {"tone": "dry"}
    assert "Your conversations are still there." in flash(response)[0]


def test_remember_switch(signed_in, user, isabella, luna):
    """Remembering is on by default and can be switched off and on per persona."""
    html = signed_in.get(page_of(isabella)).content.decode()
    assert 'role="switch"' in html
    assert 'aria-checked="true"' in html
    url = reverse("memory:remember", args=[isabella.pk])

    response = signed_in.post(url, {"remember": "off"})
    assert response.status_code == 302
    assert response["Location"] == page_of(isabella)
    assert not selectors.memory_enabled(user=user, persona=isabella)
    assert selectors.memory_enabled(user=user, persona=luna)
    html = signed_in.get(page_of(isabella)).content.decode()
    assert 'aria-checked="false"' in html
    assert "nothing new is remembered and nothing is recalled" in html

    assert signed_in.post(url, {"remember": "on"}).status_code == 302
    assert selectors.memory_enabled(user=user, persona=isabella)


def test_remember_switch_bad_value_is_a_400(signed_in, user, isabella):
    response = signed_in.post(reverse("memory:remember", args=[isabella.pk]), {"remember": "?"})
    assert response.status_code == 400
    assert not MemorySettings.objects.exists()


def test_preferences_are_saved_and_emptied(signed_in, user, isabella, luna):
    """Each field sets its preference; an empty field removes it."""
    url = reverse("memory:preferences", args=[isabella.pk])
    response = signed_in.post(
        url,
        {
            "preferred_name": " Robin ",
            "reply_length": "short",
            "tone": "playful",
            "language": "Portuguese",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{page_of(isabella)}#preferences"
    assert selectors.preference_dict(user=user, persona=isabella) == {
        "preferred_name": "Robin",
        "reply_length": "short",
        "tone": "playful",
        "language": "Portuguese",
    }
    assert selectors.preference_dict(user=user, persona=luna) == {}
    page = signed_in.get(page_of(isabella))
    assert page.context["preferences_form"].initial["preferred_name"] == "Robin"
    assert 'value="Robin"' in page.content.decode()

    signed_in.post(url, {"preferred_name": "Robin", "reply_length": "", "tone": "", "language": ""})
    assert selectors.preference_dict(user=user, persona=isabella) == {"preferred_name": "Robin"}


def test_preferences_bad_input_is_a_400_and_unchanged(signed_in, user, isabella):
    services.preference_set(user=user, persona=isabella, key="tone", value="gentle")
    response = signed_in.post(
        reverse("memory:preferences", args=[isabella.pk]),
        {"preferred_name": "Robin", "reply_length": "epic", "tone": "dry", "language": ""},
    )
    assert response.status_code == 400
    assert "reply_length" in response.context["preferences_form"].errors
    assert selectors.preference_dict(user=user, persona=isabella) == {"tone": "gentle"}
