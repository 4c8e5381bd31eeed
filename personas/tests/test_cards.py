import base64
import io
import json
import re
import struct
import tracemalloc
import zlib

import pytest
from PIL import Image

from personas.avatars import AvatarError, avatar_process
from personas.cards import (
    MYBELLA_FIELDS,
    CardError,
    ParsedCard,
    card_build,
    card_parse,
    card_to_json,
    card_to_png,
)

FIELDS = {
    "name": "Bella",
    "tagline": "Your cosy companion for rainy evenings",
    "bio": "Bella runs a small bookshop and loves a good story.",
    "traits": ["curious", "warm", "a little sarcastic"],
    "communication_style": "playful",
    "communication_notes": "Uses short sentences; teases gently.",
    "greeting": "Oh, hello! Come in out of the rain.",
    "example_dialogue": "<START>\n{{user}}: Hi\n{{char}}: Hi yourself!",
    "system_prompt": "Stay in character.",
    "creator_notes": "Made for rainy days.\nSecond line.",
    "alternate_greetings": ["Back again?"],
}
EXTENSIONS = {
    "card": {
        "scenario": "A bookshop at dusk.",
        "creator": "someone",
        "character_book": {"name": "Shop lore", "extensions": {}},
        "x_unknown": {"kept": True},
    },
    "extensions": {"depth_prompt": {"prompt": "Be kind.", "depth": 4}, "talkativeness": "0.5"},
}
UNICODE_FIELDS = {
    **FIELDS,
    "name": "Zoë 🌸",
    "tagline": "Café au lait, s'il vous plaît ☕",
    "bio": "Ñandú, naïve, 日本語, emoji 🎉👩‍🚀",
    "traits": ["élégante", "🌙 dreamy"],
}


def _image(fmt: str = "WEBP", size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "teal").save(out, format=fmt)
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with(*chunks: bytes) -> bytes:
    """Return a small PNG with `chunks` inserted before IEND."""
    png = _image("PNG", (8, 8))
    assert png.endswith(_chunk(b"IEND", b""))
    return png[:-12] + b"".join(chunks) + png[-12:]


def _b64(card: dict) -> bytes:
    return base64.b64encode(json.dumps(card).encode())


def _v2(**data: object) -> dict:
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Ann", **data}}


def _parse_json(card: dict) -> ParsedCard:
    return card_parse(json.dumps(card).encode())


def test_json_round_trip_is_exact():
    data = card_to_json(FIELDS, EXTENSIONS)
    card = json.loads(data)
    assert card["spec"] == "chara_card_v2"
    assert card["data"]["description"] == FIELDS["bio"]
    assert card["data"]["personality"] == "curious, warm, a little sarcastic"
    assert card["data"]["extensions"]["mybella"]["communication_style"] == "playful"

    parsed = card_parse(data)

    assert parsed.fields == FIELDS
    assert parsed.extensions == EXTENSIONS
    assert parsed.spec == "chara_card_v2"
    assert parsed.image is None


@pytest.mark.parametrize("extensions", [{}, {"card": {"personality": "Moody."}}])
def test_round_trip_of_minimal_extensions(extensions):
    fields = {**FIELDS, "tagline": "", "traits": [], "creator_notes": "", "alternate_greetings": []}
    parsed = card_parse(card_to_json(fields, extensions))
    assert (parsed.fields, parsed.extensions) == (fields, extensions)


def test_v3_build_round_trips():
    card = card_build(FIELDS, EXTENSIONS, version=3)
    assert (card["spec"], card["spec_version"]) == ("chara_card_v3", "3.0")
    assert card["data"]["group_only_greetings"] == []

    parsed = _parse_json(card)

    assert (parsed.fields, parsed.extensions, parsed.spec) == (FIELDS, EXTENSIONS, "chara_card_v3")


def test_card_build_rejects_unknown_version():
    with pytest.raises(ValueError, match="version 4"):
        card_build(FIELDS, {}, version=4)


def test_png_round_trip_keeps_fields_and_image():
    png = card_to_png(FIELDS, EXTENSIONS, image=_image("WEBP", (40, 30), "RGBA"))

    parsed = card_parse(png)

    assert (parsed.fields, parsed.extensions) == (FIELDS, EXTENSIONS)
    assert parsed.spec == "chara_card_v3"
    with Image.open(io.BytesIO(png)) as picture:
        chara = json.loads(base64.b64decode(picture.text["chara"]))
        ccv3 = json.loads(base64.b64decode(picture.text["ccv3"]))
        pixels = picture.convert("RGBA").tobytes()
    assert chara["spec"] == "chara_card_v2"
    assert ccv3["spec"] == "chara_card_v3"
    assert parsed.image is not None
    with Image.open(io.BytesIO(parsed.image)) as picture:
        assert picture.format == "PNG"
        assert picture.size == (40, 30)
        assert picture.text == {}  # the card's chunks are read into fields, not kept
        assert picture.convert("RGBA").tobytes() == pixels


@pytest.mark.parametrize("markup", ["<html>", "<svg>", "<script>", "<!DOCTYPE html>", "<?php"])
def test_a_plain_json_card_that_mentions_markup_keeps_its_picture(markup):
    """A card some writer stored as plain JSON is text, not a payload hidden in the avatar."""
    card = _v2(description=f"She writes {markup} tutorials.")
    png = _png_with(_chunk(b"tEXt", b"chara\0" + json.dumps(card).encode()))

    parsed = card_parse(png)

    assert parsed.fields["bio"] == f"She writes {markup} tutorials."
    assert parsed.image is not None
    assert avatar_process(parsed.image)  # accepted as an avatar, not "data hidden in it"


def test_markup_in_a_png_cards_other_chunks_still_refuses_its_picture():
    png = _png_with(
        _chunk(b"tEXt", b"chara\0" + _b64(_v2())),
        _chunk(b"tEXt", b"Comment\0<script>alert(1)</script>"),
    )

    parsed = card_parse(png)

    assert parsed.image is not None
    with pytest.raises(AvatarError, match="hidden"):
        avatar_process(parsed.image)


@pytest.mark.parametrize("mode", ["L", "P", "LA", "CMYK"])
def test_png_converts_other_image_modes(mode):
    fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    png = card_to_png(FIELDS, {}, image=_image(fmt, (20, 10), mode))
    with Image.open(io.BytesIO(card_parse(png).image)) as picture:
        assert picture.mode in ("RGB", "RGBA")
        assert picture.size == (20, 10)


def test_placeholder_image_is_512_square():
    png = card_to_png(FIELDS, {}, image=None)
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.size == (512, 512)
        colours = picture.convert("RGB").getcolors(maxcolors=512 * 512)
    assert len(colours) > 1  # The initial is drawn on the background.
    assert card_parse(png).fields == FIELDS


def test_card_from_another_tool_keeps_everything_on_export():
    book = {
        "name": "Lore",
        "extensions": {},
        "entries": [
            {
                "keys": ["tavern"],
                "content": "The Tavern is on the hill.",
                "extensions": {},
                "enabled": True,
                "insertion_order": 0,
            }
        ],
    }
    data = {
        "name": "  Seraphina  ",
        "description": "A guardian of the forest.",
        # A piece longer than 40 characters: prose, not a list of traits.
        "personality": "Caring, wise; she never forgets a face and always keeps her word.",
        "scenario": "You wake in a glade.",
        "first_mes": "*She smiles.* You're awake.",
        "mes_example": "<START>\n{{char}}: Rest now.",
        "creator_notes": "  My best card.\nPlease credit me.",
        "system_prompt": "",
        "post_history_instructions": "Keep replies short.",
        "alternate_greetings": ["Hello again.", "Welcome back."],
        "character_book": book,
        "tags": ["Fantasy", "female", "fantasy", "a tag that is far too long to be a trait at all"],
        "creator": "ST user",
        "character_version": "1.2",
        "extensions": {"depth_prompt": {"prompt": "Be gentle.", "depth": 4}, "fav": False},
        "some_future_key": [1, 2, 3],
    }
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}

    parsed = _parse_json(card)

    assert parsed.fields == {
        "name": "Seraphina",
        "tagline": "A guardian of the forest.",
        "bio": data["description"],
        "traits": ["Fantasy", "female"],
        "communication_style": "warm",
        "communication_notes": "",
        "greeting": data["first_mes"],
        "example_dialogue": data["mes_example"],
        "system_prompt": "",
        "creator_notes": data["creator_notes"],
        "alternate_greetings": data["alternate_greetings"],
    }
    assert [entry["keys"] for entry in parsed.lorebook] == [["tavern"]]
    exported = card_build(parsed.fields, parsed.extensions, lorebook=parsed.lorebook)["data"]
    mybella = exported["extensions"].pop("mybella")
    assert mybella["traits"] == ["Fantasy", "female"]
    assert exported == {**data, "name": "Seraphina"}


def test_foreign_personality_becomes_traits():
    parsed = _parse_json(_v2(personality="shy; clever,\nKind ,kind", creator_notes="x" * 200))
    assert parsed.fields["traits"] == ["shy", "clever", "Kind"]
    assert parsed.fields["creator_notes"] == "x" * 200
    assert parsed.extensions == {}
    assert card_build(parsed.fields, parsed.extensions)["data"]["personality"] == (
        "shy, clever, Kind"
    )


def test_foreign_tags_become_traits_when_personality_is_prose():
    tags = [f"tag{i}" for i in range(15)]
    parsed = _parse_json(_v2(personality=", ".join(f"t{i}" for i in range(13)), tags=tags))
    assert parsed.fields["traits"] == tags[:12]
    assert parsed.extensions["card"] == {
        "personality": ", ".join(f"t{i}" for i in range(13)),
        "tags": tags,
    }


def test_v3_png_prefers_ccv3_chunk():
    chara = _v2(description="from chara")
    ccv3 = {
        "spec": "chara_card_v3",
        "spec_version": "3.0",
        "data": {
            "name": "Ann",
            "description": "from ccv3",
            "group_only_greetings": ["Hi all"],
            "nickname": "Annie",
            "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
            "creation_date": 1700000000,
        },
    }
    png = _png_with(
        _chunk(b"tEXt", b"chara\0" + _b64(chara)), _chunk(b"tEXt", b"ccv3\0" + _b64(ccv3))
    )

    parsed = card_parse(png)

    assert parsed.spec == "chara_card_v3"
    assert parsed.fields["bio"] == "from ccv3"
    v3_only = ("group_only_greetings", "nickname", "assets", "creation_date")
    assert parsed.extensions == {"card": {key: ccv3["data"][key] for key in v3_only}}


def test_png_with_only_chara_chunk():
    parsed = card_parse(_png_with(_chunk(b"tEXt", b"chara\0" + _b64(_v2(description="d")))))
    assert (parsed.spec, parsed.fields["bio"]) == ("chara_card_v2", "d")


def test_v3_json():
    card = {"spec": "chara_card_v3", "data": {"name": "Vee", "source": ["x"]}}
    parsed = _parse_json(card)
    assert (parsed.spec, parsed.fields["name"], parsed.extensions) == (
        "chara_card_v3",
        "Vee",
        {"card": {"source": ["x"]}},
    )


def test_v1_json():
    card = {
        "name": "Old",
        "description": "An old card.",
        "personality": "grumpy, loyal",
        "scenario": "A porch.",
        "first_mes": "Get off my lawn.",
        "mes_example": "<START>",
    }
    parsed = _parse_json(card)
    assert parsed.spec == "chara_card_v1"
    assert parsed.fields == {
        "name": "Old",
        "tagline": "An old card.",  # the description's first sentence
        "bio": "An old card.",
        "traits": ["grumpy", "loyal"],
        "communication_style": "warm",
        "communication_notes": "",
        "greeting": "Get off my lawn.",
        "example_dialogue": "<START>",
        "system_prompt": "",
        "creator_notes": "",
        "alternate_greetings": [],
    }
    assert parsed.extensions == {"card": {"scenario": "A porch."}}


@pytest.mark.parametrize(
    "chunk",
    [
        pytest.param(lambda text: _chunk(b"iTXt", b"chara\0\0\0en\0\0" + text), id="iTXt"),
        pytest.param(
            lambda text: _chunk(b"iTXt", b"chara\0\x01\0\0\0" + zlib.compress(text)),
            id="iTXt-compressed",
        ),
        pytest.param(lambda text: _chunk(b"zTXt", b"chara\0\0" + zlib.compress(text)), id="zTXt"),
        pytest.param(
            lambda text: _chunk(b"iTXt", b"ccv3\0\0\0\0\0" + base64.b64decode(text)),
            id="iTXt-plain-json",
        ),
    ],
)
def test_card_in_itxt_and_ztxt_chunks(chunk):
    card = _v2(description="Ünïcödé 🎈")
    parsed = card_parse(_png_with(chunk(_b64(card))))
    assert parsed.fields["bio"] == "Ünïcödé 🎈"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The card file is empty"),
        (b"  \n ", "The card file is empty"),
        (b"\xff\xd8\xff\xe0 jpeg", "The card is neither JSON nor a PNG image"),
        (b"hello", "The card is neither JSON nor a PNG image"),
        (b'{"spec": ', "The card is not valid JSON: Expecting value"),
        (b"[" * 100_000, "The card is not valid JSON"),
        (b"[1, 2]", "The card must be a JSON object"),
        (
            b'{"spec": "xyz"}',
            "Unsupported card spec 'xyz': expected chara_card_v2 or chara_card_v3",
        ),
        (b'{"spec": "chara_card_v2"}', "The card has no 'data' object"),
        (b'{"spec": "chara_card_v2", "data": []}', "The card has no 'data' object"),
    ],
)
def test_malformed_files(data, message):
    with pytest.raises(CardError, match=f"^{re.escape(message)}"):
        card_parse(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "data.name is required"),
        ({"name": "   "}, "data.name is required"),
        ({"name": None}, "data.name is required"),
        ({"name": 5}, "data.name must be a string"),
        ({"name": "x" * 81}, "data.name is longer than 80 characters"),
        ({"description": ["a"]}, "data.description must be a string"),
        ({"scenario": 1}, "data.scenario must be a string"),
        ({"tags": "a, b"}, "data.tags must be a list of strings"),
        ({"tags": ["a", 1]}, "data.tags must be a list of strings"),
        ({"alternate_greetings": [None]}, "data.alternate_greetings must be a list of strings"),
        ({"extensions": []}, "data.extensions must be an object"),
        ({"character_book": "x"}, "data.character_book must be an object"),
        (
            {"extensions": {"mybella": {"traits": "a"}}},
            "data.extensions.mybella.traits must be a list of strings",
        ),
        (
            {"extensions": {"mybella": {"traits": ["x" * 41]}}},
            "data.extensions.mybella.traits has a trait longer than 40 characters",
        ),
        (
            {"extensions": {"mybella": {"tagline": "x" * 141}}},
            "data.extensions.mybella.tagline is longer than 140 characters",
        ),
        (
            {"extensions": {"mybella": {"communication_notes": 3}}},
            "data.extensions.mybella.communication_notes must be a string",
        ),
    ],
)
def test_invalid_fields(data, message):
    with pytest.raises(CardError, match=f"^{re.escape(message)}$"):
        _parse_json({"spec": "chara_card_v2", "data": {"name": "Ann", **data}})


def test_v1_errors_name_the_top_level_field():
    with pytest.raises(CardError, match=r"^name is required$"):
        _parse_json({"description": "no name"})


def test_mybella_extension_is_normalised():
    mybella = {
        "tagline": "  Hi  ",
        "traits": [" bold ", "", "Bold", *[f"t{i}" for i in range(11)]],
        "communication_style": "shouty",
    }
    parsed = _parse_json(_v2(extensions={"mybella": mybella}))
    assert parsed.fields["tagline"] == "Hi"
    assert parsed.fields["traits"] == ["bold", *[f"t{i}" for i in range(11)]]
    assert parsed.fields["communication_style"] == "warm"
    assert set(parsed.fields) == set(MYBELLA_FIELDS)


def test_mybella_extension_with_too_many_traits_is_refused_not_cut():
    """MyBella's own traits are what a person typed: strict, like the page and the API.

    (They used to be cut to the first 12 without a word.)
    """
    mybella = {"traits": [" bold ", "Bold", *[f"t{i}" for i in range(12)]]}
    with pytest.raises(CardError, match=r"^data.extensions.mybella.traits has more than 12"):
        _parse_json(_v2(extensions={"mybella": mybella}))


def test_png_without_card():
    with pytest.raises(CardError, match=r"^The PNG has no character card in it \(no 'chara'"):
        card_parse(_png_with(_chunk(b"tEXt", b"Comment\0hello")))


def test_png_with_bad_base64():
    with pytest.raises(CardError, match=r"^The PNG's 'chara' chunk is not valid base64$"):
        card_parse(_png_with(_chunk(b"tEXt", b"chara\0not*base64!")))


def test_png_with_bad_json():
    with pytest.raises(CardError, match=r"^The card is not valid JSON"):
        card_parse(_png_with(_chunk(b"tEXt", b"chara\0" + base64.b64encode(b"{nope"))))


def test_png_with_bad_crc():
    png = bytearray(card_to_png(FIELDS, {}, image=_image("PNG")))
    png[png.index(b"chara") + 10] ^= 0x01
    with pytest.raises(CardError, match=r"^The PNG is truncated or damaged"):
        card_parse(bytes(png))


@pytest.mark.parametrize("cut", [9, 20, 0.5, -1, -12])
def test_truncated_png(cut):
    png = card_to_png(FIELDS, {}, image=_image("PNG"))
    end = int(len(png) * cut) if isinstance(cut, float) else cut
    with pytest.raises(CardError, match=r"^The PNG is truncated or damaged"):
        card_parse(png[:end])


def test_bytes_after_iend_are_ignored():
    png = card_to_png(FIELDS, {}, image=None)
    assert card_parse(png + b"trailing junk").fields == FIELDS


def test_ztxt_zip_bomb_is_rejected_cheaply():
    compressor = zlib.compressobj(9)
    block = b"A" * (1024 * 1024)
    bomb = b"".join(compressor.compress(block) for _ in range(200)) + compressor.flush()
    png = _png_with(_chunk(b"zTXt", b"chara\0\0" + bomb))
    del block

    tracemalloc.start()
    try:
        with pytest.raises(CardError, match=r"^The PNG's 'chara' chunk is too large$"):
            card_parse(png)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # 200 MB inflated would blow far past this.


def test_ztxt_garbage_is_rejected():
    with pytest.raises(CardError, match=r"^The PNG's 'chara' chunk can't be decompressed$"):
        card_parse(_png_with(_chunk(b"zTXt", b"chara\0\0not zlib")))


def test_non_ascii_text_survives_json_and_png():
    data = card_to_json(UNICODE_FIELDS, {"card": {"scenario": "Ça va? 🙂"}})
    assert "Zoë 🌸".encode() in data  # ensure_ascii=False: readable UTF-8, not \u escapes.
    for blob in (data, card_to_png(UNICODE_FIELDS, {}, image=None)):
        assert card_parse(blob).fields == UNICODE_FIELDS
    assert card_parse(data).extensions == {"card": {"scenario": "Ça va? 🙂"}}


def test_json_with_utf8_bom():
    assert card_parse(b"\xef\xbb\xbf" + json.dumps(_v2()).encode()).fields["name"] == "Ann"


def test_prose_personality_stays_prose():
    """A sentence is kept as the card's personality text, not chopped into traits."""
    prose = "Seraphina is caring, protective and wise, and she never forgets a face."
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Seraphina", "personality": prose, "tags": ["fantasy", "guardian"]},
    }
    parsed = card_parse(json.dumps(card).encode())
    assert parsed.fields["traits"] == ["fantasy", "guardian"]
    assert parsed.extensions["card"]["personality"] == prose
    assert card_build(parsed.fields, parsed.extensions)["data"]["personality"] == prose
