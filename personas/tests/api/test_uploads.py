"""Avatar and card uploads through the API: good files in, bad files out with nothing stored."""

import base64
import io
import json
import os
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.throttling import ScopedRateThrottle

from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return (
        sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png() -> bytes:
    """A tiny PNG whose header claims 100,000 × 100,000 pixels."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + png_chunk(b"IEND", b"")
    )


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.html", "<script>alert(1)</script>")
    return buffer.getvalue()


BAD_AVATARS = {
    "zero-byte": (b"", "empty"),
    "text renamed": (b"hello, I am not a picture", "Upload a PNG, JPEG, WebP or GIF image."),
    "bmp": (image_bytes("BMP"), "Upload a PNG, JPEG, WebP or GIF image."),
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "Upload a PNG",
    ),
    "truncated png": (image_bytes("PNG", (300, 300), "red")[:200], "damaged"),
    "truncated jpeg": (image_bytes("JPEG", (300, 300), "red")[:400], "damaged"),
    "bomb": (bomb_png(), "too large to process"),
    "png + zip polyglot": (image_bytes("PNG") + zip_bytes(), "hidden"),
    "gif + html polyglot": (
        image_bytes("GIF") + b"<html><script>alert(1)</script></html>",
        "hidden",
    ),
}


@pytest.fixture
def persona(user):
    return PersonaFactory(owner=user)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_avatar_accepted_and_reencoded(auth_api_client, persona, settings, fmt):
    upload = SimpleUploadedFile(f"face.{fmt.lower()}", image_bytes(fmt, (900, 600)))
    response = auth_api_client.post(
        f"/api/v1/personas/{persona.pk}/avatar/", {"avatar": upload}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    persona.refresh_from_db()
    assert persona.avatar.name.startswith("avatars/") and persona.avatar.name.endswith(".webp")
    assert "face" not in persona.avatar.name
    with Image.open(persona.avatar.path) as stored:
        assert (stored.format, stored.size) == ("WEBP", (512, 512))
    assert response.json()["avatar_url"].endswith(persona.avatar.name)
    assert stored_files(settings) == [persona.avatar.name]


def test_new_avatar_replaces_the_old_file(
    auth_api_client, persona, settings, django_capture_on_commit_callbacks
):
    for color in ["red", "blue"]:
        upload = SimpleUploadedFile("a.png", image_bytes("PNG", color=color))
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                auth_api_client.post(
                    f"/api/v1/personas/{persona.pk}/avatar/", {"avatar": upload}
                ).status_code
                == 200
            )
    persona.refresh_from_db()
    assert stored_files(settings) == [persona.avatar.name]


@pytest.mark.parametrize("case", BAD_AVATARS)
def test_bad_avatar_is_400_and_nothing_is_stored(auth_api_client, persona, settings, case):
    content, message = BAD_AVATARS[case]
    upload = SimpleUploadedFile("avatar.png", content, content_type="image/png")
    response = auth_api_client.post(
        f"/api/v1/personas/{persona.pk}/avatar/", {"avatar": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert message in response.json()["avatar"][0]
    persona.refresh_from_db()
    assert not persona.avatar
    assert stored_files(settings) == []


def test_oversized_avatar_is_400(auth_api_client, persona, settings):
    settings.AVATAR_MAX_BYTES = 10_000
    upload = SimpleUploadedFile("big.png", _noisy_png())
    response = auth_api_client.post(
        f"/api/v1/personas/{persona.pk}/avatar/", {"avatar": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "larger than" in response.json()["avatar"][0]
    assert stored_files(settings) == []


def _noisy_png() -> bytes:
    image = Image.frombytes("L", (200, 200), os.urandom(40_000))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    assert len(buffer.getvalue()) > 10_000
    return buffer.getvalue()


def test_missing_avatar_field_is_400(auth_api_client, persona):
    response = auth_api_client.post(
        f"/api/v1/personas/{persona.pk}/avatar/", {}, format="multipart"
    )
    assert response.status_code == 400
    assert "avatar" in response.json()


def test_create_with_json_body_then_avatar_keeps_other_fields(auth_api_client, persona):
    upload = SimpleUploadedFile("a.jpg", image_bytes("JPEG"))
    auth_api_client.post(f"/api/v1/personas/{persona.pk}/avatar/", {"avatar": upload})
    persona.refresh_from_db()
    assert persona.name.startswith("Persona")


# Cards ---------------------------------------------------------------------


def v2_card(**data) -> dict:
    """A Character Card V2 written from the spec, as another tool would."""
    base = {
        "name": "Seraphina",
        "description": "A guardian of the glade.",
        "personality": "caring, protective, wise",
        "scenario": "A forest at dusk.",
        "first_mes": "*Seraphina smiles.* Welcome, traveler.",
        "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Hello!",
        "creator_notes": "Made with love.\nSecond line.",
        "system_prompt": "Stay in character.",
        "post_history_instructions": "Be gentle.",
        "alternate_greetings": ["Oh, hello there!"],
        "character_book": {
            "name": "Glade lore",
            "extensions": {},
            "entries": [
                {
                    "keys": ["glade"],
                    "content": "The glade is old.",
                    "extensions": {},
                    "enabled": True,
                    "insertion_order": 0,
                }
            ],
        },
        "tags": ["fantasy", "guardian"],
        "creator": "someone",
        "character_version": "1.2",
        "extensions": {"talkativeness": "0.5", "depth_prompt": {"prompt": "x", "depth": 4}},
    }
    base.update(data)
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": base}


def png_with_card(card: dict, keyword: str = "chara") -> bytes:
    raw = image_bytes("PNG", (400, 600), "teal")
    payload = base64.b64encode(json.dumps(card).encode())
    text = png_chunk(b"tEXt", keyword.encode() + b"\0" + payload)
    return raw[:33] + text + raw[33:]  # right after IHDR


def import_card(client, content: bytes, name: str = "card.png"):
    return client.post(
        "/api/v1/personas/import/", {"card": SimpleUploadedFile(name, content)}, format="multipart"
    )


def test_import_foreign_json_card_then_export_keeps_every_field(auth_api_client, user):
    card = v2_card()
    response = import_card(auth_api_client, json.dumps(card).encode(), "seraphina.json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Seraphina"
    assert body["bio"] == "A guardian of the glade."
    assert body["traits"] == ["caring", "protective", "wise"]
    assert body["greeting"] == "*Seraphina smiles.* Welcome, traveler."
    # The creator's notes are "About this card"; the tagline is the description's first sentence.
    assert body["tagline"] == "A guardian of the glade."
    assert body["creator_notes"] == card["data"]["creator_notes"]
    persona = PersonaProfile.objects.get(pk=body["id"])
    assert (persona.owner, persona.is_custom) == (user, True)

    exported = auth_api_client.get(f"/api/v1/personas/{persona.pk}/card/")
    assert exported.status_code == 200
    assert exported["Content-Disposition"] == 'attachment; filename="seraphina.card.json"'
    again = json.loads(exported.content)
    assert again["spec"] == "chara_card_v2"
    for key, value in card["data"].items():
        if key == "extensions":
            for ext_key, ext_value in value.items():
                assert again["data"]["extensions"][ext_key] == ext_value
        else:
            assert again["data"][key] == value, key


def test_import_png_card_sets_the_avatar(auth_api_client, settings):
    response = import_card(auth_api_client, png_with_card(v2_card()))
    assert response.status_code == 201, response.json()
    persona = PersonaProfile.objects.get(pk=response.json()["id"])
    with Image.open(persona.avatar.path) as avatar:
        assert (avatar.format, avatar.size) == ("WEBP", (400, 400))


def test_png_export_import_round_trip(auth_api_client, user):
    persona = PersonaFactory(
        owner=user,
        name="Nova",
        tagline="Stargazer",
        traits=["curious", "dreamy"],
        communication_style="thoughtful",
        communication_notes="Speaks in whispers.",
        system_prompt="Be Nova.",
        example_dialogue="{{user}}: Hi\n{{char}}: Look up!",
    )
    auth_api_client.post(
        f"/api/v1/personas/{persona.pk}/avatar/",
        {"avatar": SimpleUploadedFile("a.png", image_bytes("PNG", (300, 300)))},
    )
    png = auth_api_client.get(f"/api/v1/personas/{persona.pk}/card/?format=png")
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(png.content)) as image:
        assert {"chara", "ccv3"} <= set(image.text)
    response = import_card(auth_api_client, png.content)
    assert response.status_code == 201, response.json()
    copy = PersonaProfile.objects.get(pk=response.json()["id"])
    assert copy.name == "Nova (2)"
    for field in [
        "tagline",
        "bio",
        "traits",
        "communication_style",
        "communication_notes",
        "greeting",
        "example_dialogue",
        "system_prompt",
    ]:
        assert getattr(copy, field) == getattr(persona, field), field
    assert copy.avatar


def test_import_json_body(auth_api_client):
    response = auth_api_client.post("/api/v1/personas/import/", v2_card(name="Body"), format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "Body"


def test_import_v3_prefers_ccv3(auth_api_client):
    v3 = v2_card(name="Three")
    v3["spec"], v3["spec_version"] = "chara_card_v3", "3.0"
    v3["data"]["group_only_greetings"] = []
    raw = png_with_card(v2_card(name="Two"))
    payload = base64.b64encode(json.dumps(v3).encode())
    raw = raw[:33] + png_chunk(b"tEXt", b"ccv3\0" + payload) + raw[33:]
    response = import_card(auth_api_client, raw)
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "Three"


BAD_CARDS = {
    "empty": (b"", "empty"),
    "not json": (b"hello there", "neither JSON nor a PNG"),
    "broken json": (b'{"spec": "chara_card_v2", ', "not valid JSON"),
    "json list": (b"[1, 2]", "JSON object"),
    "wrong spec": (json.dumps({"spec": "nope", "data": {}}).encode(), "Unsupported card spec"),
    "no name": (json.dumps(v2_card(name="")).encode(), "data.name is required"),
    "name not a string": (json.dumps(v2_card(name=5)).encode(), "data.name must be a string"),
    "tags not strings": (json.dumps(v2_card(tags=[1])).encode(), "data.tags"),
    "png without card": (image_bytes("PNG"), "no character card"),
    "truncated png": (png_with_card(v2_card())[:120], "truncated or damaged"),
    "png + zip polyglot": (png_with_card(v2_card()) + zip_bytes(), "hidden"),
    "bomb-sized png": (
        bomb_png()[:33] + png_with_card(v2_card())[33:-12] + bomb_png()[-12:],
        "too large",
    ),
}


@pytest.mark.parametrize("case", BAD_CARDS)
def test_bad_card_is_400_naming_the_problem_and_creates_nothing(auth_api_client, settings, case):
    content, message = BAD_CARDS[case]
    before = PersonaProfile.objects.count()
    response = import_card(auth_api_client, content)
    assert response.status_code == 400
    assert message in " ".join(response.json()["card"]), response.json()
    assert PersonaProfile.objects.count() == before
    assert stored_files(settings) == []


def test_oversized_card_is_400(auth_api_client, settings):
    settings.CARD_MAX_BYTES = 1000
    response = import_card(
        auth_api_client, json.dumps(v2_card(description="x" * 2000)).encode(), "c.json"
    )
    assert response.status_code == 400
    assert "larger than" in response.json()["card"][0]


def test_export_format_must_be_known(auth_api_client, user):
    persona = PersonaFactory(owner=user)
    response = auth_api_client.get(f"/api/v1/personas/{persona.pk}/card/?format=gif")
    assert response.status_code == 400
    assert "format" in response.json()


# Avatars on create and removal -----------------------------------------------------


def test_create_with_an_avatar(auth_api_client, user, settings):
    """A multipart create takes the avatar with the fields, checked like any upload."""
    upload = SimpleUploadedFile("face.jpg", image_bytes("JPEG", (300, 200)))
    response = auth_api_client.post(
        "/api/v1/personas/",
        {"name": "Nova", "traits": ["warm", "Warm", "kind"], "avatar": upload},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    persona = PersonaProfile.objects.get(pk=response.json()["id"])
    assert persona.traits == ["warm", "kind"]
    assert persona.avatar.name.endswith(".webp")
    assert response.json()["avatar_url"].endswith(persona.avatar.name)
    assert stored_files(settings) == [persona.avatar.name]


def test_create_with_a_bad_avatar_creates_nothing(auth_api_client, user, settings):
    upload = SimpleUploadedFile("face.png", b"not a picture")
    response = auth_api_client.post(
        "/api/v1/personas/", {"name": "Nova", "avatar": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "Upload a PNG" in response.json()["avatar"][0]
    assert not PersonaProfile.objects.filter(owner=user).exists()
    assert stored_files(settings) == []


def test_delete_avatar_removes_the_file_on_commit(
    auth_api_client, persona, settings, django_capture_on_commit_callbacks
):
    url = f"/api/v1/personas/{persona.pk}/avatar/"
    with django_capture_on_commit_callbacks(execute=True):
        auth_api_client.post(url, {"avatar": SimpleUploadedFile("a.png", image_bytes())})
    assert len(stored_files(settings)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_api_client.delete(url)
    assert response.status_code == 200
    assert response.json()["avatar_url"] is None
    persona.refresh_from_db()
    assert not persona.avatar
    assert stored_files(settings) == []
    assert auth_api_client.delete(url).status_code == 200  # nothing to remove: still fine


@pytest.mark.parametrize("actor", ["other", "not staff"])
def test_delete_avatar_of_a_persona_one_may_not_change(api_client, user, other_user, actor):
    persona = PersonaFactory(owner=user)
    if actor == "not staff":
        persona = PersonaProfile.objects.get(slug="luna")
    api_client.force_authenticate(other_user)
    response = api_client.delete(f"/api/v1/personas/{persona.pk}/avatar/")
    assert response.status_code == (404 if actor == "other" else 403)


# The uploads budget ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["create", "change"])
def test_an_avatar_sent_with_the_fields_counts_as_an_upload(
    auth_api_client, user, how, monkeypatch
):
    """A multipart create or change carrying an avatar spends the "uploads" budget, like
    the avatar action and the persona pages do; without a file it does not."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "uploads", "2/min")
    persona = PersonaFactory(owner=user)

    def send(index: int, *, avatar: bool) -> int:
        data: dict = {"name": f"Nova {index}"}
        if avatar:
            data["avatar"] = SimpleUploadedFile("a.png", image_bytes())
        if how == "create":
            return auth_api_client.post("/api/v1/personas/", data, format="multipart").status_code
        url = f"/api/v1/personas/{persona.pk}/"
        return auth_api_client.patch(url, data, format="multipart").status_code

    ok = 201 if how == "create" else 200
    assert [send(index, avatar=True) for index in range(3)] == [ok, ok, 429]
    assert send(3, avatar=False) == ok  # no file, no upload
    avatars = PersonaProfile.objects.filter(owner=user).exclude(avatar="")
    assert avatars.count() == (2 if how == "create" else 1)
