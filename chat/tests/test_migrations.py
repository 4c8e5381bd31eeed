"""Conversations and messages made before personas owned them get one, and it reverses."""

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
