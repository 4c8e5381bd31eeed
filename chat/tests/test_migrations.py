"""Conversations and messages made before personas owned them get one, and it reverses."""

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("chat", "0001_initial")
AFTER = ("chat", "0004_persona_required")


def test_persona_backfill_forward_and_back(migrator):
    old = migrator.apply_initial_migration(BEFORE)
    User = old.apps.get_model("users", "User")
    UserSettings = old.apps.get_model("users", "UserSettings")
    Persona = old.apps.get_model("personas", "PersonaProfile")
    Conversation = old.apps.get_model("chat", "Conversation")
    Message = old.apps.get_model("chat", "ChatMessage")

    luna = Persona.objects.get(slug="luna")
    sam = Persona.objects.get(slug="sam", is_active=True)
    with_current = User.objects.create(username="with-current")
    UserSettings.objects.create(user=with_current, current_persona=luna)
    no_current = User.objects.create(username="no-current")
    UserSettings.objects.create(user=no_current)
    no_settings = User.objects.create(username="no-settings")
    retired = User.objects.create(username="retired-current")
    UserSettings.objects.create(user=retired, current_persona=sam)
    Persona.objects.filter(pk=sam.pk).update(is_active=False)
    stranger = User.objects.create(username="stranger")
    theirs = Persona.objects.create(name="Mine", slug="mine", is_custom=True, owner=stranger)
    UserSettings.objects.create(user=stranger, current_persona=theirs)
    snoop = User.objects.create(username="snoop")
    UserSettings.objects.create(user=snoop, current_persona=theirs)  # not theirs to use

    expected = {
        with_current.pk: "luna",
        no_current.pk: "isabella",
        no_settings.pk: "isabella",
        retired.pk: "isabella",
        stranger.pk: "mine",
        snoop.pk: "isabella",
    }
    message_ids = []
    for user in User.objects.all():
        conversation = Conversation.objects.create(user=user, title=f"{user.username}'s chat")
        for role in ["assistant", "user", "assistant"]:
            message_ids.append(
                Message.objects.create(
                    conversation=conversation, user=user, role=role, content=f"hi from {user.pk}"
                ).pk
            )

    new = migrator.apply_tested_migration(AFTER)
    Conversation = new.apps.get_model("chat", "Conversation")
    Message = new.apps.get_model("chat", "ChatMessage")
    assert sorted(Message.objects.values_list("pk", flat=True)) == sorted(message_ids)
    assert Conversation.objects.count() == len(expected)
    for message in Message.objects.select_related("persona", "conversation__persona"):
        assert message.persona.slug == expected[message.user_id]
        assert message.conversation.persona_id == message.persona_id
        assert message.content == f"hi from {message.user_id}"

    back = migrator.apply_tested_migration(BEFORE)
    Message = back.apps.get_model("chat", "ChatMessage")
    assert sorted(Message.objects.values_list("pk", flat=True)) == sorted(message_ids)
    assert "persona" not in {f.name for f in Message._meta.get_fields()}
    migrator.reset()


def test_replies_are_linked_to_the_message_before_them_and_it_reverses(migrator):
    """Each reply answers the closest earlier user message of its own conversation."""
    old = migrator.apply_initial_migration(("chat", "0004_persona_required"))
    User = old.apps.get_model("users", "User")
    Persona = old.apps.get_model("personas", "PersonaProfile")
    Conversation = old.apps.get_model("chat", "Conversation")
    Message = old.apps.get_model("chat", "ChatMessage")
    luna = Persona.objects.get(slug="luna")
    ann, ben = User.objects.create(username="ann"), User.objects.create(username="ben")
    anns = Conversation.objects.create(user=ann, persona=luna)
    bens = Conversation.objects.create(user=ben, persona=luna)
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def say(conversation, role, content, minute, status="ok"):
        message = Message.objects.create(
            conversation=conversation,
            user_id=conversation.user_id,
            persona=luna,
            role=role,
            content=content,
            status=status,
        )
        moment = start + timedelta(minutes=minute)
        Message.objects.filter(pk=message.pk).update(created_at=moment, updated_at=moment)
        return message.pk

    greeting = say(anns, "assistant", "Hello, night owl.", 0)
    first = say(anns, "user", "first", 1)
    first_reply = say(anns, "assistant", "", 2, status="failed")
    second = say(anns, "user", "second", 3)
    bens_message = say(bens, "user", "ben's", 4)  # later, but in another conversation
    second_reply = say(anns, "assistant", "to second", 5)
    same_time = say(anns, "user", "third", 6)
    same_time_reply = say(anns, "assistant", "to third", 6)  # same instant: the id decides
    bens_reply = say(bens, "assistant", "to ben", 7)

    new = migrator.apply_tested_migration(("chat", "0006_backfill_reply_to"))
    Message = new.apps.get_model("chat", "ChatMessage")
    links = dict(Message.objects.values_list("pk", "reply_to_id"))
    assert links == {
        greeting: None,
        first: None,
        first_reply: first,
        second: None,
        bens_message: None,
        second_reply: second,
        same_time: None,
        same_time_reply: same_time,
        bens_reply: bens_message,
    }
    Message.objects.filter(pk=second_reply).update(status="pending")
    Message.objects.filter(pk=same_time_reply).update(status="stopped", error="Cut short.")

    back = migrator.apply_tested_migration(("chat", "0004_persona_required"))
    Message = back.apps.get_model("chat", "ChatMessage")
    assert "reply_to" not in {f.name for f in Message._meta.get_fields()}
    assert dict(Message.objects.filter(role="assistant").values_list("pk", "status")) == {
        greeting: "ok",
        first_reply: "failed",
        second_reply: "failed",
        same_time_reply: "failed",
        bens_reply: "ok",
    }
    assert (
        Message.objects.get(pk=second_reply).error
        == "The reply was interrupted before it finished."
    )
    assert Message.objects.get(pk=same_time_reply).error == "Cut short."
    migrator.reset()


def _message_indexes() -> dict[str, list[str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "chat_chatmessage")
    return {name: c["columns"] for name, c in constraints.items() if c["index"]}


def _triggers() -> int:
    from django.db import connection

    if connection.vendor != "sqlite":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master "
            "WHERE type = 'trigger' AND tbl_name = 'chat_chatmessage'"
        )
        return cursor.fetchone()[0]


def test_the_messages_prefix_indexes_go_and_come_back(migrator):
    from django.db import connection

    """created_at, conversation and user lose their own indexes (the thread and pair indexes
    begin with the keys); the full-text triggers survive (no table remake); it reverses."""
    single = [["created_at"], ["conversation_id"], ["user_id"]]
    migrator.apply_initial_migration(("chat", "0010_message_gin_write_through"))
    before, triggers = _message_indexes(), _triggers()
    assert triggers or connection.vendor != "sqlite"
    assert all(columns in before.values() for columns in single)
    migrator.apply_tested_migration(("chat", "0011_message_prefix_indexes_dropped"))
    after = _message_indexes()
    assert not any(columns in after.values() for columns in single)
    assert _triggers() == triggers
    # Every key a lookup or a cascade filters on still leads an index.
    for column in ("conversation_id", "user_id", "persona_id", "reply_to_id"):
        assert any(columns[:1] == [column] for columns in after.values()), column
    migrator.apply_tested_migration(("chat", "0010_message_gin_write_through"))
    assert all(columns in _message_indexes().values() for columns in single)
    assert _triggers() == triggers
