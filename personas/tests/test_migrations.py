"""Personas imported before cards had fields of their own get them, and it reverses."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("personas", "0004_persona_field_limits")
AFTER = ("personas", "0005_card_fields_lorebook")

BOOK = {
    "name": "Lore",
    "scan_depth": 3,
    "extensions": {},
    "entries": [
        {
            "keys": ["glade"],
            "content": "The glade.",
            "extensions": {},
            "enabled": True,
            "insertion_order": 5,
            "priority": 2,
        },
    ],
}
CARD = {
    "scenario": "A glade.",
    "creator_notes": "Contest entry.\nRate it!",
    "alternate_greetings": ["Hello again."],
    "character_book": BOOK,
}


def test_card_fields_move_out_of_extensions_and_back(migrator):
    old = migrator.apply_initial_migration(BEFORE)
    User = old.apps.get_model("users", "User")
    Persona = old.apps.get_model("personas", "PersonaProfile")
    owner = User.objects.create(username="owner")
    imported = Persona.objects.create(
        name="Seraphina",
        slug="seraphina",
        is_custom=True,
        owner=owner,
        tagline="Contest entry.",  # what imports used to make of the notes
        bio="A guardian elf. She heals.",
        extensions={"card": CARD, "extensions": {"fav": True}},
    )
    bad = Persona.objects.create(
        name="Odd",
        slug="odd",
        is_custom=True,
        owner=owner,
        tagline="Mine.",
        extensions={"card": {"alternate_greetings": "not a list"}},
    )

    new = migrator.apply_tested_migration(AFTER)
    Persona = new.apps.get_model("personas", "PersonaProfile")
    Entry = new.apps.get_model("personas", "LorebookEntry")
    seraphina = Persona.objects.get(pk=imported.pk)
    assert seraphina.creator_notes == "Contest entry.\nRate it!"
    assert seraphina.tagline == "A guardian elf."
    assert seraphina.alternate_greetings == ["Hello again."]
    assert seraphina.extensions == {
        "card": {
            "scenario": "A glade.",
            "character_book": {"name": "Lore", "scan_depth": 3, "extensions": {}},
        },
        "extensions": {"fav": True},
    }
    entry = Entry.objects.get(persona=seraphina)
    assert (entry.keys, entry.content, entry.insertion_order) == (["glade"], "The glade.", 5)
    assert entry.extra["priority"] == 2
    odd = Persona.objects.get(pk=bad.pk)
    assert (odd.alternate_greetings, odd.extensions) == ([], bad.extensions)

    back = migrator.apply_tested_migration(BEFORE)
    Persona = back.apps.get_model("personas", "PersonaProfile")
    seraphina = Persona.objects.get(pk=imported.pk)
    assert seraphina.tagline == "Contest entry."
    assert seraphina.extensions == {"card": CARD, "extensions": {"fav": True}}
