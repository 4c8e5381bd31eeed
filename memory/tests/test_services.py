"""The memory services: one rule per action, whichever way in (page, API, extraction) called."""

import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.tests.factories import ChatMessageFactory, ConversationFactory
from memory import rules, selectors, services
from memory.extraction import MAX_LENGTH, MODEL_MAX_LENGTH, MemoryOp
from memory.models import ConversationMemory, MemoryEvent, MemorySettings, UserPreference
from memory.signals import memory_content_changed
from mybella.core import limits
from mybella.core.errors import NotFound
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory(user, luna):
    return services.memory_create(
        user=user, persona=luna, content="Lives in Porto", kind="fact", importance=6
    )


def events(memory: ConversationMemory) -> list[tuple[str, str, str]]:
    return list(
        MemoryEvent.objects.filter(memory_id=memory.pk)
        .order_by("created_at", "id")
        .values_list("action", "content_before", "content_after")
    )


@pytest.fixture
def content_changes():
    """Collect the memory ids of every `memory_content_changed` sent."""
    sent: list[list[int]] = []

    def receive(sender, memory_ids, **kwargs):
        sent.append(memory_ids)

    memory_content_changed.connect(receive, dispatch_uid="test.content_changes")
    yield sent
    memory_content_changed.disconnect(dispatch_uid="test.content_changes")


# ---------------------------------------------------------------- memory_update


def test_an_unchanged_update_records_no_event_and_runs_no_query(memory):
    """Saving a memory as it is changes nothing: no event, no write, not even a query."""
    before = ConversationMemory.objects.get(pk=memory.pk).updated_at
    with CaptureQueriesContext(connection) as captured:
        updated, changed = services.memory_update(
            memory=memory, content=" Lives in Porto ", kind="fact", importance=6, pinned=False
        )
    assert captured.captured_queries == []
    assert (updated, changed) == (memory, False)
    assert len(events(memory)) == 1
    assert ConversationMemory.objects.get(pk=memory.pk).updated_at == before


def test_an_update_records_one_event_and_saves_only_what_changed(memory):
    _memory, changed = services.memory_update(memory=memory, importance=9, kind="fact")
    assert changed
    stored = ConversationMemory.objects.get(pk=memory.pk)
    assert (stored.importance, stored.kind, stored.content) == (9, "fact", "Lives in Porto")
    assert events(memory)[-1] == (MemoryEvent.Action.UPDATED, "Lives in Porto", "Lives in Porto")


def test_only_a_content_change_asks_for_a_new_embedding(
    memory, content_changes, django_capture_on_commit_callbacks
):
    ConversationMemory.objects.filter(pk=memory.pk).update(embedding=[1.0, 0.0])
    memory.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.memory_update(memory=memory, pinned=True)
    assert content_changes == []
    assert ConversationMemory.objects.get(pk=memory.pk).embedding == [1.0, 0.0]
    with django_capture_on_commit_callbacks(execute=True):
        services.memory_update(memory=memory, content="Lives in Faro")
    assert content_changes == [[memory.pk]]
    assert ConversationMemory.objects.get(pk=memory.pk).embedding is None


def test_a_refused_update_changes_nothing(memory):
    for fields in [
        {"importance": 11},
        {"importance": 0},
        {"kind": "gossip"},
        {"content": ""},
        {"content": "x" * (limits.MEMORY_MAX_CHARS + 1)},
        {"content": "a\x00b"},
    ]:
        with pytest.raises(ValidationError):
            services.memory_update(memory=memory, **fields)
    stored = ConversationMemory.objects.get(pk=memory.pk)
    assert (stored.content, stored.kind, stored.importance) == ("Lives in Porto", "fact", 6)
    assert len(events(memory)) == 1


def test_memory_create_sends_the_content_change_on_commit_only(
    user, luna, content_changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = services.memory_create(user=user, persona=luna, content="Has a cat")
    assert content_changes == []
    for callback in callbacks:
        callback()
    assert content_changes == [[created.pk]]


# ---------------------------------------------------------------- visibility


def test_a_memory_of_an_invisible_persona_is_not_found(user, luna, memory):
    """A memory held by a persona the user can no longer see does not exist for them (D11)."""
    assert selectors.memory_get_visible(user=user, pk=memory.pk) == memory
    PersonaProfile.objects.filter(pk=luna.pk).update(is_active=False)
    with pytest.raises(NotFound):
        selectors.memory_get_visible(user=user, pk=memory.pk)
    assert list(selectors.memory_list_visible(user=user)) == []


def test_another_users_or_a_bad_id_is_not_found(other_user, memory):
    for pk in [memory.pk, 0, -1, 2**63, "abc", None]:
        with pytest.raises(NotFound):
            selectors.memory_get_visible(user=other_user, pk=pk)


def test_a_custom_persona_given_away_hides_its_memories(user, other_user):
    mine = PersonaFactory(owner=user)
    memory = services.memory_create(user=user, persona=mine, content="Likes tea")
    assert selectors.memory_get_visible(user=user, pk=memory.pk) == memory
    PersonaProfile.objects.filter(pk=mine.pk).update(owner=other_user)
    with pytest.raises(NotFound):
        selectors.memory_get_visible(user=user, pk=memory.pk)


# ---------------------------------------------------------------- preferences


def test_preferences_set_stores_several_at_once(user, luna):
    stored = services.preferences_set(
        user=user,
        persona=luna,
        values={"preferred_name": " Robin ", "reply_length": "short", "tone": "", "pets": "cats"},
    )
    assert [(p.key, p.value) for p in stored] == [
        ("preferred_name", "Robin"),
        ("reply_length", "short"),
        ("tone", ""),
        ("pets", "cats"),
    ]
    assert selectors.preference_dict(user=user, persona=luna) == {
        "preferred_name": "Robin",
        "reply_length": "short",
        "pets": "cats",
    }


def test_preferences_set_is_all_or_nothing(user, luna):
    """One refused value leaves every preference as it was, and names the one refused."""
    services.preference_set(user=user, persona=luna, key="tone", value="gentle")
    with pytest.raises(ValidationError) as refused:
        services.preferences_set(
            user=user,
            persona=luna,
            values={"preferred_name": "Robin", "tone": "", "reply_length": "epic"},
        )
    assert set(refused.value.message_dict) == {"reply_length"}
    assert selectors.preference_dict(user=user, persona=luna) == {"tone": "gentle"}


def test_preferences_set_keeps_the_count_limit(user, luna):
    """New keys that would pass the limit are refused together, under the first that can't fit."""
    for number in range(limits.PREFERENCES_MAX_PER_PERSONA - 1):
        services.preference_set(user=user, persona=luna, key=f"custom_{number}", value="v")
    with pytest.raises(ValidationError) as refused:
        services.preferences_set(user=user, persona=luna, values={"tone": "dry", "language": "pt"})
    assert set(refused.value.message_dict) == {"language"}
    assert "tone" not in selectors.preference_dict(user=user, persona=luna)
    # Removing one in the same call makes room.
    services.preferences_set(
        user=user, persona=luna, values={"custom_0": "", "tone": "dry", "language": "pt"}
    )
    assert UserPreference.objects.filter(user=user, persona=luna).count() == 20


def test_an_unchanged_preference_is_not_written(user, luna):
    services.preference_set(user=user, persona=luna, key="tone", value="gentle")
    stored = UserPreference.objects.get(user=user, persona=luna, key="tone")
    services.preferences_set(user=user, persona=luna, values={"tone": "gentle "})
    assert UserPreference.objects.get(pk=stored.pk).updated_at == stored.updated_at


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("preferred_name", "x" * 101),
        ("tone", "x" * 201),
        ("language", "x" * 101),
        ("reply_length", "epic"),
        ("custom", "x" * (limits.PREFERENCE_VALUE_MAX_CHARS + 1)),
        ("not a slug", "x"),
    ],
)
def test_the_rules_of_each_key_hold_in_the_service(user, luna, key, value):
    with pytest.raises(ValidationError):
        services.preference_set(user=user, persona=luna, key=key, value=value)
    with pytest.raises(ValidationError):
        services.preferences_set(user=user, persona=luna, values={key: value})
    assert not UserPreference.objects.exists()


def test_the_rules_fit_under_the_generic_caps():
    for key, rule in rules.PREFERENCE_RULES.items():
        assert len(key) <= limits.PREFERENCE_KEY_MAX_CHARS
        assert rule.max_length is None or rule.max_length <= limits.PREFERENCE_VALUE_MAX_CHARS
        assert all(len(value) <= limits.PREFERENCE_VALUE_MAX_CHARS for value, _ in rule.choices)


# ---------------------------------------------------------------- memory settings


def test_memory_settings_are_written_only_when_they_change(user, luna):
    services.memory_settings_set(user=user, persona=luna, remember=True)
    assert not MemorySettings.objects.exists()  # on is the default: nothing to store
    services.memory_settings_set(user=user, persona=luna, remember=False)
    stored = MemorySettings.objects.get(user=user, persona=luna)
    with CaptureQueriesContext(connection) as captured:
        services.memory_settings_set(user=user, persona=luna, remember=False)
    assert len(captured) == 1  # the read
    assert MemorySettings.objects.get(pk=stored.pk).updated_at == stored.updated_at
    services.memory_settings_set(user=user, persona=luna, remember=True)
    assert selectors.memory_enabled(user=user, persona=luna)


# ---------------------------------------------------------------- memory_apply_ops


def test_apply_ops_skips_and_logs_a_proposal_the_rules_refuse(user, luna, memory, caplog):
    """A refused proposal is skipped; the others proposed with it are applied."""
    ops = [
        MemoryOp(op="add", content="Has a \x00 cat"),
        MemoryOp(op="add", content="x" * (limits.MEMORY_MAX_CHARS + 1)),
        MemoryOp(op="update", memory_id=memory.pk, content="Lives \x00 nowhere"),
        MemoryOp(op="add", content="Likes jasmine tea", preference=("reply_length", "epic")),
        MemoryOp(op="add", content="Plays the cello"),
    ]
    with caplog.at_level(logging.INFO, logger="memory.services"):
        changed = services.memory_apply_ops(user=user, persona=luna, ops=ops, actor="model")
    assert [m.content for m in changed] == ["Likes jasmine tea", "Plays the cello"]
    assert ConversationMemory.objects.get(pk=memory.pk).content == "Lives in Porto"
    assert selectors.preference_dict(user=user, persona=luna) == {}
    assert sum("Skipped" in record.message for record in caplog.records) == 4


def test_apply_ops_counts_an_unchanged_memory_as_heard_again(user, luna, memory):
    """An update proposing what is already remembered is no new memory: the memory is
    confirmed (importance up by one, the message among its sources), its content alone."""
    message = ChatMessageFactory(conversation=ConversationFactory(user=user, persona=luna))
    ops = [MemoryOp(op="update", memory_id=memory.pk, content="lives in  Porto.")]
    changed = services.memory_apply_ops(
        user=user, persona=luna, ops=ops, actor="model", source_message_ids=[message.pk]
    )
    assert changed == [memory]
    memory.refresh_from_db()
    assert (memory.content, memory.importance, memory.superseded_by) == ("Lives in Porto", 7, None)
    assert [action for action, _before, _after in events(memory)] == ["created", "confirmed"]
    assert list(memory.source_messages.all()) == [message]
    assert ConversationMemory.objects.filter(user=user).count() == 1


# ---------------------------------------------------------------- writes moved out of reads


def test_mark_recalled_stamps_only_the_pairs_memories(user, other_user, luna, memory):
    theirs = services.memory_create(user=other_user, persona=luna, content="Keeps bees")
    assert (
        services.memory_mark_recalled(user=user, persona=luna, memory_ids=[memory.pk, theirs.pk])
        == 1
    )
    assert ConversationMemory.objects.get(pk=memory.pk).last_recalled_at is not None
    assert ConversationMemory.objects.get(pk=theirs.pk).last_recalled_at is None


def test_set_embeddings_stores_each_vector(user, luna, memory):
    other = services.memory_create(user=user, persona=luna, content="Has a cat")
    assert services.memory_set_embeddings(embeddings={memory.pk: [0.5], other.pk: [1.0]}) == 2
    assert dict(ConversationMemory.objects.values_list("id", "embedding")) == {
        memory.pk: [0.5],
        other.pk: [1.0],
    }


# ---------------------------------------------------------------- extraction caps


def test_extraction_caps_fit_the_memory_limit():
    assert MAX_LENGTH <= limits.MEMORY_MAX_CHARS
    assert MODEL_MAX_LENGTH <= limits.MEMORY_MAX_CHARS


# ---------------------------------------------------------------- forget all, query counts


def test_forget_all_keeps_whether_the_persona_remembers(user, luna, memory):
    """Forgetting everything empties memories, history and preferences, not the switch."""
    services.preference_set(user=user, persona=luna, key="tone", value="dry")
    services.memory_settings_set(user=user, persona=luna, remember=False)
    assert services.memory_forget_all(user=user, persona=luna) == 1
    assert not ConversationMemory.objects.filter(user=user).exists()
    assert not MemoryEvent.objects.filter(user=user).exists()
    assert not UserPreference.objects.filter(user=user).exists()
    assert not selectors.memory_enabled(user=user, persona=luna)


@pytest.mark.parametrize("size", [2, 20])
def test_a_memory_with_its_history_is_read_in_three_queries(
    user, luna, size, django_assert_num_queries
):
    conversation = ConversationFactory(user=user, persona=luna)
    sources = [ChatMessageFactory(conversation=conversation).pk for _ in range(size)]
    memory = services.memory_create(
        user=user, persona=luna, content="Plays the cello", source_message_ids=sources
    )
    for number in range(size):
        services.memory_update(memory=memory, importance=1 + number % 10)
    with django_assert_num_queries(3):  # the memory (persona visible), its sources, history
        found = selectors.memory_get_visible(user=user, pk=memory.pk, with_history=True)
        assert len(found.source_messages.all()) == size
        assert len(found.history) == min(size + 1, services.HISTORY_LENGTH)
        assert found.persona == luna


def test_the_account_selectors_hold_all_of_the_users_data_and_nobody_elses(
    user, other_user, luna, memory
):
    """Export and deletion see a hidden persona's memories too, never another user's."""
    services.preference_set(user=user, persona=luna, key="tone", value="dry")
    services.memory_settings_set(user=user, persona=luna, remember=False)
    services.memory_create(user=other_user, persona=luna, content="Keeps bees")
    services.preference_set(user=other_user, persona=luna, key="tone", value="warm")
    services.memory_settings_set(user=other_user, persona=luna, remember=False)
    PersonaProfile.objects.filter(pk=luna.pk).update(is_active=False)
    assert list(selectors.memory_list_for_user(user=user)) == [memory]
    assert [e.content_after for e in selectors.memory_event_list_for_user(user=user)] == [
        "Lives in Porto"
    ]
    assert [p.value for p in selectors.preference_list_for_user(user=user)] == ["dry"]
    assert [s.user for s in selectors.memory_settings_list_for_user(user=user)] == [user]
