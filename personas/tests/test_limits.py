"""Persona field limits hold on every way in: API, page form, card import (JSON and PNG)."""

import base64
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mybella.core import limits
from personas import services
from personas.models import PersonaProfile
from personas.tests.api.test_uploads import import_card, png_with_card, stored_files, v2_card
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes
from personas.tests.test_admin import NO_LOREBOOK

pytestmark = pytest.mark.django_db

# A card key, the MyBella field it fills, and that field's limit in characters.
CARD_FIELDS = [
    ("description", "bio", limits.PERSONA_BIO_MAX_CHARS),
    ("first_mes", "greeting", limits.PERSONA_GREETING_MAX_CHARS),
    ("mes_example", "example_dialogue", limits.PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS),
    ("system_prompt", "system_prompt", limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS),
]


def mybella_card(**mybella) -> dict:
    card = v2_card()
    card["data"]["extensions"]["mybella"] = {
        "tagline": "t",
        "traits": ["kind"],
        "communication_style": "warm",
        **mybella,
    }
    return card


def as_json(card: dict) -> bytes:
    return json.dumps(card).encode()


def as_png(card: dict) -> bytes:
    return png_with_card(card)


def assert_card_refused(response, *words: str) -> None:
    assert response.status_code == 400, response.content[:300]
    text = " ".join(response.json()["card"])
    for word in words:
        assert word in text, text


@pytest.mark.parametrize("encode", [as_json, as_png])
@pytest.mark.parametrize(("key", "field", "limit"), CARD_FIELDS)
def test_card_field_over_the_limit_is_400_and_nothing_stored(
    auth_api_client, settings, encode, key, field, limit
):
    before = PersonaProfile.objects.count()
    response = import_card(auth_api_client, encode(v2_card(**{key: "x" * (limit + 1)})), "c.json")
    assert_card_refused(response, key, str(limit))
    assert PersonaProfile.objects.count() == before
    assert stored_files(settings) == []

    at_the_limit = import_card(auth_api_client, encode(v2_card(**{key: "x" * limit})), "c.json")
    assert at_the_limit.status_code == 201, at_the_limit.json()
    assert len(getattr(PersonaProfile.objects.get(pk=at_the_limit.json()["id"]), field)) == limit


@pytest.mark.parametrize("encode", [as_json, as_png])
def test_card_style_notes_over_the_limit_is_400(auth_api_client, encode):
    before = PersonaProfile.objects.count()
    card = mybella_card(communication_notes="x" * 1001)
    assert_card_refused(import_card(auth_api_client, encode(card), "c.json"), "1000")
    assert PersonaProfile.objects.count() == before


def test_seven_megabyte_description_is_400(auth_api_client):
    before = PersonaProfile.objects.count()
    card = as_json(v2_card(description="x" * (7 * 1024 * 1024)))
    assert_card_refused(import_card(auth_api_client, card, "c.json"), "description")
    assert PersonaProfile.objects.count() == before


BAD_CARD_TEXT = {
    "lone surrogate in a field": '"Sera \\ud800"',
    "NUL in a field": '"Sera\\u0000phina"',
}


@pytest.mark.parametrize("case", BAD_CARD_TEXT)
@pytest.mark.parametrize("where", ["name", "description", "scenario"])
def test_unstorable_characters_in_a_card_are_400(auth_api_client, settings, case, where):
    card = json.dumps(v2_card(**{where: "PLACEHOLDER"})).replace(
        '"PLACEHOLDER"', BAD_CARD_TEXT[case]
    )
    before = PersonaProfile.objects.count()
    for content, name in [
        (card.encode(), "c.json"),
        (_png_with_raw_json(card.encode()), "c.png"),
    ]:
        assert_card_refused(import_card(auth_api_client, content, name))
    body = auth_api_client.post("/api/v1/personas/import/", card, content_type="application/json")
    assert body.status_code == 400
    assert PersonaProfile.objects.count() == before
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    "extensions",
    [
        '{"bad\\u0000key": 1}',
        '{"key": "bad\\u0000value"}',
        '{"\\udfffkey": 1}',
        '{"key": ["\\ud800"]}',
    ],
)
def test_unstorable_characters_in_card_extensions_are_400(auth_api_client, extensions):
    card = json.dumps(v2_card(extensions={})).replace(
        '"extensions": {}', f'"extensions": {extensions}'
    )
    before = PersonaProfile.objects.count()
    assert_card_refused(import_card(auth_api_client, card.encode(), "c.json"))
    assert PersonaProfile.objects.count() == before


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = {"d": value}
    return value


@pytest.mark.parametrize("depth", [40, 500])
def test_deeply_nested_extensions_are_400(auth_api_client, depth):
    before = PersonaProfile.objects.count()
    card = v2_card(extensions={"deep": _nested(depth)})
    for content, name in [(as_json(card), "c.json"), (as_png(card), "c.png")]:
        assert_card_refused(import_card(auth_api_client, content, name), "nested")
    assert PersonaProfile.objects.count() == before


def test_extensions_nested_within_the_limit_survive_a_round_trip(auth_api_client):
    card = v2_card(extensions={"deep": _nested(20)})
    response = import_card(auth_api_client, as_json(card), "c.json")
    assert response.status_code == 201, response.json()
    exported = auth_api_client.get(f"/api/v1/personas/{response.json()['id']}/card/")
    assert json.loads(exported.content)["data"]["extensions"]["deep"] == _nested(20)


@pytest.mark.parametrize("fmt", ["json", "png"])
def test_export_never_crashes_on_stored_extensions(auth_api_client, client, user, fmt):
    """Extensions stored before the limits (500 deep) export without them, not as a 500."""
    persona = PersonaFactory(owner=user, extensions={"extensions": {"deep": _nested(500)}})
    response = auth_api_client.get(f"/api/v1/personas/{persona.pk}/card/?format={fmt}")
    assert response.status_code == 200
    client.force_login(user)
    page = client.get(reverse("personas:export", args=[persona.pk]), {"format": fmt})
    assert page.status_code == 200
    if fmt == "json":
        card = json.loads(page.content)
        assert card["data"]["name"] == persona.name
        assert "deep" not in card["data"]["extensions"]


def test_oversized_extensions_are_400(auth_api_client):
    before = PersonaProfile.objects.count()
    # A card field MyBella keeps only to export it again, larger than extensions may hold.
    card = v2_card(x_future_field=["x" * 1000 for _ in range(1100)])
    assert_card_refused(import_card(auth_api_client, as_json(card), "c.json"), "extensions")
    assert PersonaProfile.objects.count() == before


def _png_with_raw_json(raw: bytes) -> bytes:
    from personas.tests.api.test_uploads import png_chunk

    png = image_bytes("PNG", (40, 40))
    text = png_chunk(b"tEXt", b"chara\0" + base64.b64encode(raw))
    return png[:33] + text + png[33:]


# ---------------------------------------------------------------- the service is the guarantee


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bio", "x" * (limits.PERSONA_BIO_MAX_CHARS + 1)),
        ("greeting", "x" * (limits.PERSONA_GREETING_MAX_CHARS + 1)),
        ("communication_notes", "x" * (limits.PERSONA_NOTES_MAX_CHARS + 1)),
        ("example_dialogue", "x" * (limits.PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS + 1)),
        ("system_prompt", "x" * (limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS + 1)),
        ("tagline", "x" * (limits.PERSONA_TAGLINE_MAX_CHARS + 1)),
        ("bio", "a\x00b"),
        ("name", "Nul\x00"),
        ("traits", ["x" * 41]),
        ("traits", [f"t{n}" for n in range(13)]),
        ("traits", "not a list"),
        ("traits", [1, 2]),
    ],
)
def test_persona_services_enforce_the_limits(user, field, value):
    fields = {"name": "Limited", field: value}
    with pytest.raises(ValidationError) as error:
        services.persona_create(owner=user, fields=fields)
    assert field in error.value.message_dict
    assert not PersonaProfile.objects.filter(owner=user).exists()

    persona = PersonaFactory(owner=user)
    with pytest.raises(ValidationError):
        services.persona_update(persona=persona, user=user, fields={field: value})
    persona.refresh_from_db()
    assert getattr(persona, field) != value


def test_persona_service_refuses_bad_extensions(user):
    for extensions in [{"deep": _nested(40)}, {"k": "a\x00"}, {"a\x00": 1}, ["not a dict"]]:
        with pytest.raises(ValidationError) as error:
            services.persona_create(owner=user, fields={"name": "Ext"}, extensions=extensions)
        assert "extensions" in error.value.message_dict
    assert not PersonaProfile.objects.filter(owner=user).exists()


def test_api_persona_fields_over_the_limit_are_400(auth_api_client, user):
    before = PersonaProfile.objects.count()
    for field, limit in [
        ("bio", limits.PERSONA_BIO_MAX_CHARS),
        ("greeting", limits.PERSONA_GREETING_MAX_CHARS),
        ("system_prompt", limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS),
    ]:
        response = auth_api_client.post(
            "/api/v1/personas/", {"name": "Long", field: "x" * (limit + 1)}, format="json"
        )
        assert response.status_code == 400
        assert field in response.json()
    assert PersonaProfile.objects.count() == before


# ---------------------------------------------------------------- search


def test_persona_search_of_a_huge_word_is_400(auth_api_client):
    response = auth_api_client.get("/api/v1/personas/", {"search": "x" * 60_000})
    assert response.status_code == 400
    assert "search" in response.json()


def test_persona_search_up_to_the_limit_works(auth_api_client):
    response = auth_api_client.get("/api/v1/personas/", {"search": "Luna " + "x" * 495})
    assert response.status_code == 200
    assert response.json()["results"] == []
    found = auth_api_client.get("/api/v1/personas/", {"search": "luna"})
    assert [p["slug"] for p in found.json()["results"]] == ["luna"]


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("bio", limits.PERSONA_BIO_MAX_CHARS),
        ("greeting", limits.PERSONA_GREETING_MAX_CHARS),
        ("communication_notes", limits.PERSONA_NOTES_MAX_CHARS),
        ("system_prompt", limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS),
        ("example_dialogue", limits.PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS),
    ],
)
def test_persona_form_over_the_limit_is_a_form_error(signed_in, field, limit):
    before = PersonaProfile.objects.count()
    response = signed_in.post(
        reverse("personas:create"),
        {"name": "Long", "communication_style": "warm", field: "x" * (limit + 1)},
    )
    assert response.status_code == 400
    assert field in response.context["persona_form"].errors
    assert PersonaProfile.objects.count() == before


def test_card_import_page_over_the_limit_is_a_form_error(signed_in):
    before = PersonaProfile.objects.count()
    card = SimpleUploadedFile(
        "c.json", as_json(v2_card(description="x" * (limits.PERSONA_BIO_MAX_CHARS + 1)))
    )
    response = signed_in.post(reverse("personas:import"), {"card": card})
    assert response.status_code == 400
    assert "description" in " ".join(response.context["import_form"].errors["card"])
    assert PersonaProfile.objects.count() == before


# ---------------------------------------------------------------- admin


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bio", "x" * (limits.PERSONA_BIO_MAX_CHARS + 1)),
        ("system_prompt", "x" * (limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS + 1)),
        ("traits", ", ".join(f"t{n}" for n in range(13))),
        ("traits", "x" * 41),
        ("extensions", json.dumps({"deep": _nested(40)})),
        ("extensions", '{"key": "a\\u0000b"}'),
        ("extensions", "[1, 2]"),
    ],
)
def test_admin_form_obeys_the_same_limits(admin_client, field, value):
    data = {
        "name": "Nora",
        "slug": "nora",
        "is_active": "on",
        "position": "70",
        "traits": "bright",
        "communication_style": "warm",
        "extensions": "{}",
        **NO_LOREBOOK,
        field: value,
    }
    response = admin_client.post(reverse("admin:personas_personaprofile_add"), data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not PersonaProfile.objects.filter(slug="nora").exists()


def test_card_import_past_the_persona_count_is_400(auth_api_client, user, settings):
    """The count limit's message (not a field error) reaches the user too."""
    settings.PERSONAS_MAX_PER_USER = 1
    PersonaFactory(owner=user)
    response = import_card(auth_api_client, as_json(v2_card()), "c.json")
    assert_card_refused(response, "at most 1 custom personas")
    assert PersonaProfile.objects.filter(owner=user).count() == 1
