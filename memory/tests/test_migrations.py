"""Memories and preferences made before personas owned them get one, and it reverses."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("memory", "0001_initial")
AFTER = ("memory", "0004_persona_required")


def test_persona_backfill_forward_and_back(migrator):
    old = migrator.apply_initial_migration(BEFORE)
    User = old.apps.get_model("users", "User")
    UserSettings = old.apps.get_model("users", "UserSettings")
    Persona = old.apps.get_model("personas", "PersonaProfile")
    Memory = old.apps.get_model("memory", "ConversationMemory")
    Preference = old.apps.get_model("memory", "UserPreference")

    maya = Persona.objects.get(slug="maya")
    fan = User.objects.create(username="maya-fan")
    UserSettings.objects.create(user=fan, current_persona=maya)
    newcomer = User.objects.create(username="newcomer")
    expected = {fan.pk: "maya", newcomer.pk: "isabella"}
    for user in (fan, newcomer):
        for n in range(3):
            Memory.objects.create(user=user, content=f"fact {n} of {user.pk}", importance=n + 1)
        Preference.objects.create(user=user, key="preferred_name", value=user.username)
        Preference.objects.create(user=user, key="reply_length", value="short")

    new = migrator.apply_tested_migration(AFTER)
    Memory = new.apps.get_model("memory", "ConversationMemory")
    Preference = new.apps.get_model("memory", "UserPreference")
    assert Memory.objects.count() == 6
    assert Preference.objects.count() == 4
    for row in [
        *Memory.objects.select_related("persona"),
        *Preference.objects.select_related("persona"),
    ]:
        assert row.persona.slug == expected[row.user_id]
    assert set(Memory.objects.values_list("content", flat=True)) == {
        f"fact {n} of {u}" for n in range(3) for u in expected
    }

    back = migrator.apply_tested_migration(BEFORE)
    Preference = back.apps.get_model("memory", "UserPreference")
    assert Preference.objects.count() == 4
    migrator.reset()
