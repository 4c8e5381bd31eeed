"""A SillyTavern card comes alive: names filled in, fields where a reader expects them,
alternate greetings and the lorebook kept, used and exported again.

The card is built here from the V2 spec (Seraphina-like: W++ in the description, macros
in the greeting and example dialogue, creator notes, alternate greetings, a lorebook).
"""

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db


def seraphina_card() -> dict:
    """Return a V2 card shaped like SillyTavern's Seraphina, written for this test."""
    entry = {
        "id": 0,
        "keys": ["Eldoria", "forest"],
        "secondary_keys": [],
        "comment": "The forest",
        "content": "Eldoria is an ancient forest that {{char}} has guarded for centuries.",
        "constant": False,
        "selective": False,
        "insertion_order": 100,
        "enabled": True,
        "position": "before_char",
        "case_sensitive": False,
        "name": "Eldoria",
        "priority": 10,
        "extensions": {"depth": 4, "selectiveLogic": 0, "probability": 100, "useProbability": True},
    }
    glade = {
        **copy.deepcopy(entry),
        "id": 1,
        "keys": ["glade"],
        "comment": "The glade",
        "name": "Glade",
        "content": "The glade is where {{char}} found {{user}} wounded.",
        "insertion_order": 50,
    }
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Seraphina",
            "description": (
                '[character("Seraphina") { Species("Elf") Personality("Caring" + "Protective") }]\n'
                "{{char}} is a guardian elf of the forest. She heals those who get lost.\n\n"
                "<START>\n{{user}}: Where am I?\n{{char}}: Safe, in my glade."
            ),
            "personality": "caring, protective, gentle",
            "scenario": "{{user}} wakes in {{char}}'s glade.",
            "first_mes": "*{{char}} smiles at <USER>.* Welcome back, {{User}}. I am <BOT>.",
            "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: I am {{char}}.",
            "creator_notes": "Entry for the summer card contest. Please rate!",
            "system_prompt": "You are {{char}}; never speak for {{user}}.",
            "post_history_instructions": "",
            "alternate_greetings": [
                "*{{char}} hums.* You're up early, {{user}}.",
                "*The forest is quiet.* {{char}} waits.",
            ],
            "character_book": {
                "name": "Seraphina's lore",
                "scan_depth": 2,
                "token_budget": 400,
                "recursive_scanning": False,
                "extensions": {},
                "entries": [entry, glade],
            },
            "tags": ["fantasy", "elf"],
            "creator": "someone",
            "character_version": "1.0",
            "extensions": {"talkativeness": "0.5", "fav": False, "world": "Eldoria"},
        },
    }


def import_card(client, card: dict):
    upload = SimpleUploadedFile("seraphina.json", json.dumps(card).encode())
    return client.post("/api/v1/personas/import/", {"card": upload}, format="multipart")


@pytest.fixture
def seraphina(auth_api_client, user) -> PersonaProfile:
    response = import_card(auth_api_client, seraphina_card())
    assert response.status_code == 201, response.json()
    return PersonaProfile.objects.get(pk=response.json()["id"])


def test_import_maps_fields_where_a_user_expects_them(seraphina):
    """Creator notes are "About this card", the tagline is the description's first
    sentence, alternates and the lorebook are stored; the stored text stays raw."""
    assert seraphina.creator_notes == "Entry for the summer card contest. Please rate!"
    assert seraphina.tagline == "Seraphina is a guardian elf of the forest."
    assert seraphina.alternate_greetings == seraphina_card()["data"]["alternate_greetings"]
    assert seraphina.greeting.startswith("*{{char}} smiles at <USER>.*")
    entries = list(seraphina.lorebook_entries.order_by("insertion_order"))
    assert [(e.comment, e.keys, e.insertion_order) for e in entries] == [
        ("The glade", ["glade"], 50),
        ("The forest", ["Eldoria", "forest"], 100),
    ]
    assert entries[1].extra["priority"] == 10


def test_export_round_trips_the_card_losslessly(auth_api_client, seraphina):
    exported = auth_api_client.get(f"/api/v1/personas/{seraphina.pk}/card/")
    assert exported.status_code == 200
    data = json.loads(exported.content)["data"]
    assert data["extensions"].pop("mybella")["tagline"] == seraphina.tagline
    assert data == seraphina_card()["data"]


def test_edited_lorebook_is_exported_with_the_card_fields_it_kept(auth_api_client, seraphina):
    forest = seraphina.lorebook_entries.get(comment="The forest")
    response = auth_api_client.patch(
        f"/api/v1/personas/{seraphina.pk}/",
        {"lorebook": {"entries": [{"id": forest.pk, "keys": ["woods"], "content": "Old woods."}]}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    entries = json.loads(auth_api_client.get(f"/api/v1/personas/{seraphina.pk}/card/").content)[
        "data"
    ]["character_book"]["entries"]
    assert len(entries) == 1
    assert (entries[0]["keys"], entries[0]["content"]) == (["woods"], "Old woods.")
    assert (entries[0]["name"], entries[0]["priority"], entries[0]["id"]) == ("Eldoria", 10, 0)


def test_the_pages_show_the_card_filled_in_and_formatted(client, user, seraphina):
    """The persona page: names filled in, W++ readable, no <START>, "About this card"."""
    user.display_name = "Kai"
    user.save()
    client.force_login(user)
    client.post(reverse("personas:select", args=[seraphina.pk]))
    html = client.get(reverse("personas:settings")).content.decode()
    assert "About this card" in html
    assert "Entry for the summer card contest." in html
    assert "<dt>Species</dt><dd>Elf</dd>" in html
    assert "<dt>Personality</dt><dd>Caring, Protective</dd>" in html
    assert "Seraphina is a guardian elf of the forest." in html
    assert "Kai: Where am I?" in html
    assert "&lt;START&gt;" not in html and "{{char}}" not in html.split("persona-data")[0]

    chat = client.get(reverse("chat:page")).content.decode()
    assert "<em>Seraphina smiles at Kai.</em> Welcome back, Kai. I am Seraphina." in chat


def test_macros_in_a_cards_name_are_left_out_everywhere(auth_api_client, user):
    """A name "{{user}}'s friend {{char}}" means nothing as written: the persona is named
    "Friend", its tagline reads "Friend is your oldest friend.", never "{ }"."""
    card = seraphina_card()
    card["data"]["name"] = "{{user}}'s friend {{char}}"
    card["data"]["description"] = "{{char}} is {{user}}'s oldest friend. They met at school."
    response = import_card(auth_api_client, card)
    assert response.status_code == 201, response.json()
    persona = PersonaProfile.objects.get(pk=response.json()["id"])
    assert persona.name == "Friend"
    assert persona.tagline == "Friend is your oldest friend."
    assert response.json()["name"] == "Friend"


def test_a_card_named_only_by_macros_takes_its_nickname_else_is_refused(auth_api_client):
    card = seraphina_card()
    card["data"]["name"] = "{{char}}"
    response = import_card(auth_api_client, card)
    assert response.status_code == 400
    assert "needs a name" in str(response.json())
    card["data"]["nickname"] = "Sera"
    response = import_card(auth_api_client, card)
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "Sera"
