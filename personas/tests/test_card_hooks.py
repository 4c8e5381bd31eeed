"""Other apps' blocks of a card: written on export, applied (and not stored) on import."""

import json

import pytest
from django.core.exceptions import ValidationError

from personas import services
from personas.card_hooks import CardExtension, card_extensions
from personas.models import PersonaProfile
from personas.tests.api.test_uploads import v2_card
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def _extension(applied: list, *, refuse: bool = False) -> CardExtension:
    def apply(*, persona, user, block):
        if refuse:
            raise ValidationError({"mood": "No such mood."})
        applied.append((persona.name, user.username, block))

    return CardExtension(
        name="mybella_mood",
        export=lambda persona: {"mood": persona.name.lower()} if persona.greeting else None,
        apply=apply,
    )


def test_an_export_carries_each_registered_block(user):
    persona = PersonaFactory(owner=user, name="Sunny", greeting="Hi")
    quiet = PersonaFactory(owner=user, name="Quiet", greeting="")
    with card_extensions.override(_extension([])):
        content, _type, _name = services.persona_export_card(persona=persona, fmt="json")
        silent, _type, _name = services.persona_export_card(persona=quiet, fmt="json")
    assert json.loads(content)["data"]["extensions"]["mybella_mood"] == {"mood": "sunny"}
    assert "mybella_mood" not in json.loads(silent)["data"]["extensions"]


def test_an_import_applies_the_block_and_stores_the_rest(user):
    card = v2_card(name="Moody")
    card["data"]["extensions"]["mybella_mood"] = {"mood": "sunny"}
    card["data"]["extensions"]["other_tool"] = {"x": 1}
    applied: list = []
    with card_extensions.override(_extension(applied)):
        persona = services.persona_import_card(owner=user, data=json.dumps(card).encode())
    assert applied == [("Moody", user.username, {"mood": "sunny"})]
    stored = persona.extensions["extensions"]
    assert "mybella_mood" not in stored
    assert stored["other_tool"] == {"x": 1}


def test_a_block_refused_refuses_the_whole_import(user):
    card = v2_card(name="Moody")
    card["data"]["extensions"]["mybella_mood"] = {"mood": "grim"}
    with card_extensions.override(_extension([], refuse=True)), pytest.raises(ValidationError):
        services.persona_import_card(owner=user, data=json.dumps(card).encode())
    assert not PersonaProfile.objects.filter(owner=user).exists()
