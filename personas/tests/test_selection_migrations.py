"""The persona each user talks to moves from `users.UserSettings` to `PersonaSelection`,
and back; the settings table then goes."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("personas", "0006_remove_voice")
AFTER = ("users", "0004_delete_usersettings")


def test_current_persona_moves_to_persona_selection_and_back(migrator):
    old = migrator.apply_initial_migration([BEFORE, ("users", "0003_apitoken")])
    User = old.apps.get_model("users", "User")
    UserSettings = old.apps.get_model("users", "UserSettings")
    Persona = old.apps.get_model("personas", "PersonaProfile")
    luna = Persona.objects.get(slug="luna")
    talking = User.objects.create(username="talking")
    UserSettings.objects.create(user=talking, current_persona=luna)
    undecided = User.objects.create(username="undecided")
    UserSettings.objects.create(user=undecided)
    User.objects.create(username="no-settings")

    new = migrator.apply_tested_migration(AFTER)
    Selection = new.apps.get_model("personas", "PersonaSelection")
    assert list(Selection.objects.values_list("user_id", "persona_id")) == [(talking.pk, luna.pk)]
    with pytest.raises(LookupError):
        new.apps.get_model("users", "UserSettings")
    maya = new.apps.get_model("personas", "PersonaProfile").objects.get(slug="maya")
    Selection.objects.filter(user_id=talking.pk).update(persona_id=maya.pk)  # changed since

    back = migrator.apply_tested_migration([BEFORE, ("users", "0003_apitoken")])
    UserSettings = back.apps.get_model("users", "UserSettings")
    assert list(
        UserSettings.objects.filter(current_persona__isnull=False).values_list(
            "user_id", "current_persona_id"
        )
    ) == [(talking.pk, maya.pk)]
