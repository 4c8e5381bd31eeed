"""Messages that memories came from before extraction marks existed count as extracted."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("memory", "0005_history_switch_embedding")
AFTER = ("memory", "0006_message_extraction")


def test_sources_of_existing_memories_are_marked_extracted(migrator):
    old = migrator.apply_initial_migration(BEFORE)
    User = old.apps.get_model("users", "User")
    Persona = old.apps.get_model("personas", "PersonaProfile")
    Conversation = old.apps.get_model("chat", "Conversation")
    Message = old.apps.get_model("chat", "ChatMessage")
    Memory = old.apps.get_model("memory", "ConversationMemory")

    user = User.objects.create(username="robin")
    luna = Persona.objects.get(slug="luna")
    conversation = Conversation.objects.create(user=user, persona=luna)

    def message(text):
        return Message.objects.create(
            conversation=conversation, user=user, persona=luna, role="user", content=text
        )

    lisbon, cats, small_talk = message("I live in Lisbon."), message("I love cats."), message("Hi")
    for text, sources in [("Lives in Lisbon", [lisbon]), ("Loves cats", [cats, lisbon])]:
        Memory.objects.create(user=user, persona=luna, content=text).source_messages.set(sources)

    new = migrator.apply_tested_migration(AFTER)
    MessageExtraction = new.apps.get_model("memory", "MessageExtraction")
    assert set(MessageExtraction.objects.values_list("message_id", flat=True)) == {
        lisbon.pk,
        cats.pk,
    }
    assert small_talk.pk not in set(MessageExtraction.objects.values_list("message_id", flat=True))
    migrator.apply_tested_migration(BEFORE)
    migrator.reset()
