"""Convert MyBella persona fields to and from Character Cards (V1, V2, V3) as JSON or PNG.

A pure codec: no database access. The card fields MyBella has no use for travel in
``PersonaProfile.extensions`` so that a card survives an import and an export unchanged.
"""

import base64
import binascii
import copy
import io
import json
import logging
import re
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core.exceptions import ValidationError
from PIL import Image, ImageColor, ImageDraw, ImageFont, PngImagePlugin

from mybella.core import limits
from mybella.core.parsers import json_loads_strict
from personas import rules
from personas.macros import fill_macros, name_without_macros
from personas.models import CommunicationStyle, LorebookEntry, PersonaProfile

logger = logging.getLogger(__name__)

MYBELLA_FIELDS = PersonaProfile.EDITABLE_FIELDS
SPEC_V1, SPEC_V2, SPEC_V3 = "chara_card_v1", "chara_card_v2", "chara_card_v3"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Caps what a compressed text chunk may inflate to, so that a zip bomb costs nothing.
MAX_TEXT_BYTES = 2 * 1024 * 1024
PLACEHOLDER_SIZE = 512
WARM = CommunicationStyle.WARM.value

V2_DEFAULTS: dict[str, Any] = {
    "name": "",
    "description": "",
    "personality": "",
    "scenario": "",
    "first_mes": "",
    "mes_example": "",
    "creator_notes": "",
    "system_prompt": "",
    "post_history_instructions": "",
    "alternate_greetings": [],
    "tags": [],
    "creator": "",
    "character_version": "",
    "extensions": {},
}
V3_DEFAULTS: dict[str, Any] = {**V2_DEFAULTS, "group_only_greetings": []}
STRING_KEYS = tuple(key for key, value in V2_DEFAULTS.items() if isinstance(value, str))
LIST_KEYS = ("alternate_greetings", "tags", "group_only_greetings")
# Card keys that map one to one onto a MyBella field: never kept in extensions.
MAPPED_KEYS = {
    "name": "name",
    "description": "bio",
    "first_mes": "greeting",
    "mes_example": "example_dialogue",
    "system_prompt": "system_prompt",
}
# Card keys MyBella generates on export; kept in extensions only when they say something else.
GENERATED_KEYS = ("personality", "tags")
# Card keys with a MyBella field or model of their own (besides MAPPED_KEYS).
OWN_KEYS = ("creator_notes", "alternate_greetings", "character_book")

# A lorebook entry's fields (V2 spec) that LorebookEntry models, with their defaults.
ENTRY_FIELDS: dict[str, Any] = {
    "keys": [],
    "content": "",
    "enabled": True,
    "insertion_order": 100,
    "comment": "",
    "secondary_keys": [],
    "selective": False,
    "constant": False,
    "case_sensitive": False,
    "position": LorebookEntry.Position.BEFORE_CHAR.value,
}
# Where an entry's `extra` notes the fields the card left out, so the export leaves them out.
ABSENT_KEY = "mybella_absent"
ENTRY_TYPES: dict[str, type | tuple[type, ...]] = {
    "keys": list,
    "content": str,
    "enabled": bool,
    "insertion_order": int,
    "comment": str,
    "secondary_keys": list,
    "selective": bool,
    "constant": bool,
    "case_sensitive": bool,
    "position": str,
}
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s")
# W++ blocks ([character("X") { Key("a" + "b") }]) and bracketed lists ([Likes: a, b]).
WPP_BLOCK = re.compile(r"\[[^\[\]]*\]|\{[^{}]*\}")


class CardError(ValueError):
    """A card that can't be read; str(error) says what is wrong, for the user."""


@dataclass
class ParsedCard:
    """A card read into MyBella terms."""

    fields: dict[str, Any]  # Every key of MYBELLA_FIELDS.
    extensions: dict[str, Any]  # For PersonaProfile.extensions; empty parts are left out.
    image: bytes | None  # The PNG file without its card chunks when the card was a PNG.
    spec: str  # chara_card_v1, chara_card_v2 or chara_card_v3.
    # The lorebook's entries as LorebookEntry fields (`extra`: the card fields it has no use for).
    lorebook: list[dict[str, Any]] = dataclass_field(default_factory=list)


# Export


def card_build(
    fields: Mapping[str, Any],
    extensions: Mapping[str, Any],
    *,
    version: int = 2,
    lorebook: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Return the card (V2 or V3) for a persona's fields, stored extensions and lorebook.

    `lorebook` holds the entries as LorebookEntry fields, in their order.
    """
    if version not in (2, 3):
        raise ValueError(f"Unsupported card version {version}: expected 2 or 3")
    extensions = _exportable(extensions)
    stored = copy.deepcopy(dict(extensions.get("card") or {}))
    traits = list(fields.get("traits") or [])
    tagline = fields.get("tagline") or ""
    defaults = V3_DEFAULTS if version == 3 else V2_DEFAULTS
    data = {**copy.deepcopy(defaults), **stored}
    data.update(
        {key: fields.get(field) or "" for key, field in MAPPED_KEYS.items()},
        personality=stored.get("personality", ", ".join(traits)),
        creator_notes=fields.get("creator_notes") or tagline,
        alternate_greetings=list(fields.get("alternate_greetings") or []),
        tags=stored.get("tags", traits),
    )
    book = stored.get("character_book")
    if lorebook or isinstance(book, Mapping):
        book = dict(book) if isinstance(book, Mapping) else {"extensions": {}}
        book["entries"] = [entry_to_card(entry) for entry in lorebook]
        data["character_book"] = book
    data["extensions"] = {
        **copy.deepcopy(dict(extensions.get("extensions") or {})),
        "mybella": {
            "tagline": tagline,
            "traits": traits,
            "communication_style": fields.get("communication_style") or WARM,
            "communication_notes": fields.get("communication_notes") or "",
        },
    }
    if version == 3:
        return {"spec": SPEC_V3, "spec_version": "3.0", "data": data}
    return {"spec": SPEC_V2, "spec_version": "2.0", "data": data}


def _exportable(extensions: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return stored extensions an export can write, or none at all.

    Import refuses what this refuses; data stored before those checks (nested too deep to
    copy or encode, say) is left out of the export rather than failing it.
    """
    if not isinstance(extensions, Mapping):
        return {}
    problem = limits.json_problem(extensions)
    if problem is None and all(
        isinstance(extensions.get(key) or {}, Mapping) for key in ("card", "extensions")
    ):
        return extensions
    logger.warning("Card export leaves out stored extensions: %s", problem or "not objects")
    return {}


def entry_to_card(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Return a lorebook entry (LorebookEntry fields) as a V2 card's entry."""
    extra = copy.deepcopy(dict(entry.get("extra") or {}))
    absent = set(extra.pop(ABSENT_KEY, []))
    card = {**extra, "extensions": extra.get("extensions", {})}
    for key, default in ENTRY_FIELDS.items():
        value = entry.get(key, default)
        # A field the card left out, or had but MyBella couldn't model (a null, say), goes
        # back as it was unless it was changed since.
        if (key in extra or key in absent) and value == default:
            continue
        card[key] = list(value) if isinstance(value, list) else value
    return card


def card_to_json(
    fields: Mapping[str, Any],
    extensions: Mapping[str, Any],
    *,
    lorebook: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """Return the V2 card as indented UTF-8 JSON."""
    card = card_build(fields, extensions, version=2, lorebook=lorebook)
    return json.dumps(card, indent=2, ensure_ascii=False).encode()


def card_to_png(
    fields: Mapping[str, Any],
    extensions: Mapping[str, Any],
    *,
    image: bytes | None,
    lorebook: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """Return a PNG of `image` (or a placeholder) carrying the card in `chara` and `ccv3` chunks."""
    picture = Image.open(io.BytesIO(image)) if image else _placeholder(fields.get("name") or "")
    if picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if picture.has_transparency_data else "RGB")
    info = PngImagePlugin.PngInfo()
    for keyword, version in (("chara", 2), ("ccv3", 3)):
        card = json.dumps(
            card_build(fields, extensions, version=version, lorebook=lorebook), ensure_ascii=False
        )
        info.add_text(keyword, base64.b64encode(card.encode()).decode("ascii"))
    out = io.BytesIO()
    picture.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _placeholder(name: str) -> Image.Image:
    hue = sum(ord(c) * (i + 1) for i, c in enumerate(name)) % 360
    picture = Image.new("RGB", (PLACEHOLDER_SIZE,) * 2, ImageColor.getrgb(f"hsl({hue}, 55%, 85%)"))
    font = ImageFont.load_default(size=PLACEHOLDER_SIZE // 2)
    ImageDraw.Draw(picture).text(
        (PLACEHOLDER_SIZE / 2,) * 2,
        (name[:1] or "?").upper(),
        fill=ImageColor.getrgb(f"hsl({hue}, 45%, 35%)"),
        font=font,
        anchor="mm",
    )
    return picture


# Import


def card_parse(data: bytes) -> ParsedCard:
    """Read a card from a JSON or PNG file; raise CardError if it can't be read."""
    if not data.strip():
        raise CardError("The card file is empty")
    if data.startswith(PNG_SIGNATURE):
        text, picture = _png_card(data)
        return _from_card(_load_json(text, file=False), image=picture)
    return _from_card(_load_json(data, file=True), image=None)


def _load_json(raw: bytes, *, file: bool) -> dict[str, Any]:
    try:
        card = json_loads_strict(raw.decode("utf-8-sig"))
    except ValueError as error:
        if file and not raw.lstrip().startswith((b"{", b"[", b"\xef\xbb\xbf")):
            raise CardError("The card is neither JSON nor a PNG image") from None
        raise CardError(f"The card is not valid JSON: {error}") from None
    if not isinstance(card, dict):
        raise CardError("The card must be a JSON object")
    return card


def _png_card(data: bytes) -> tuple[bytes, bytes]:
    """Return the card text from the `ccv3` chunk, else the `chara` one, and the picture.

    The picture is the PNG without its card chunks: they are read into fields, and left in
    they would be judged as the avatar's own metadata, where a card that some writer stored
    as plain JSON (not base64) and that mentions `<html>` or `<svg>` looks like a payload.
    """
    texts, picture = _png_texts(data, keywords=("ccv3", "chara"))
    keyword = next((k for k in ("ccv3", "chara") if k in texts), None)
    if keyword is None:
        raise CardError("The PNG has no character card in it (no 'chara' or 'ccv3' text chunk)")
    if texts[keyword].lstrip().startswith(b"{"):  # Some writers store plain JSON, not base64.
        return texts[keyword], picture
    text = b"".join(texts[keyword].split())
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), validate=True), picture
    except binascii.Error:
        raise CardError(f"The PNG's '{keyword}' chunk is not valid base64") from None


def _png_texts(data: bytes, *, keywords: tuple[str, ...]) -> tuple[dict[str, bytes], bytes]:
    """Walk the PNG chunks up to IEND; return the text of the first chunk of each keyword
    and the file without the text chunks of those keywords.

    The pixels are never decoded: only the chunk framing, the CRCs and the text chunks are read.
    """
    texts: dict[str, bytes] = {}
    kept: list[bytes] = [PNG_SIGNATURE]
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise CardError("The PNG is truncated or damaged")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body, end = data[pos + 8 : pos + 8 + length], pos + 12 + length
        if end > len(data):
            raise CardError("The PNG is truncated or damaged")
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4 : end])[0]:
            raise CardError(
                f"The PNG is truncated or damaged (bad {kind.decode('latin-1')} checksum)"
            )
        if kind == b"IEND":
            # Whatever follows IEND stays, for the avatar's check to refuse.
            kept.append(data[pos:])
            return texts, b"".join(kept)
        name = ""
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, _, rest = body.partition(b"\0")
            name = keyword.decode("latin-1")
            if name in keywords and name not in texts:
                texts[name] = _chunk_text(kind, rest, name)
        if name not in keywords:
            kept.append(data[pos:end])
        pos = end


def _chunk_text(kind: bytes, rest: bytes, keyword: str) -> bytes:
    if kind == b"tEXt":
        return rest
    if kind == b"zTXt":
        return _inflate(rest[1:], keyword)
    compressed, text = rest[:1] == b"\x01", rest[2:]
    text = text.split(b"\0", 2)[-1]  # Skip the language tag and the translated keyword.
    return _inflate(text, keyword) if compressed else text


def _inflate(data: bytes, keyword: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_TEXT_BYTES)
    except zlib.error:
        raise CardError(f"The PNG's '{keyword}' chunk can't be decompressed") from None
    if inflater.unconsumed_tail or len(text) >= MAX_TEXT_BYTES:
        raise CardError(f"The PNG's '{keyword}' chunk is too large")
    if not inflater.eof:
        raise CardError(f"The PNG's '{keyword}' chunk can't be decompressed")
    return text


def _from_card(card: dict[str, Any], *, image: bytes | None) -> ParsedCard:
    spec = card.get("spec")
    if spec is None:
        data, spec, where = card, SPEC_V1, ""
    elif spec in (SPEC_V2, SPEC_V3):
        data, where = card.get("data"), "data."
        if not isinstance(data, dict):
            raise CardError("The card has no 'data' object")
    else:
        raise CardError(f"Unsupported card spec '{spec}': expected {SPEC_V2} or {SPEC_V3}")
    _check_types(data, where)

    name = (data.get("name") or "").strip()
    if not name:
        raise CardError(f"{where}name is required")
    fields = {field: (data.get(key) or "").strip() for key, field in MAPPED_KEYS.items()}
    # Macros mean nothing in a name ("{{user}}'s friend {{char}}"): they are left out, at
    # import, so the API, the pages and the admin show one name, and {{char}} fills with it.
    fields["name"] = name_without_macros(name)
    if not fields["name"]:
        nickname = data.get("nickname")
        fields["name"] = name_without_macros(nickname.strip()) if isinstance(nickname, str) else ""
    if not fields["name"]:
        raise CardError(f"{where}name holds only macros such as {{{{char}}}}: it needs a name")
    for key, field in MAPPED_KEYS.items():
        _check_length(fields[field], field, f"{where}{key}")
    notes = data.get("creator_notes") or ""
    _check_length(notes, "creator_notes", f"{where}creator_notes")
    fields["alternate_greetings"] = _alternate_greetings(data, where)
    book = data.get("character_book")
    lorebook = lorebook_from_card(book, f"{where}character_book.") if book is not None else []
    card_extensions = dict(data.get("extensions") or {})
    mybella = card_extensions.pop("mybella", None)
    stored = {
        key: value
        for key, value in data.items()
        if key not in MAPPED_KEYS
        and key not in GENERATED_KEYS
        and key not in OWN_KEYS
        and key != "extensions"
        and not (key in V3_DEFAULTS and value == V3_DEFAULTS[key])
    }
    stored.update({key: data[key] for key in GENERATED_KEYS if key in data})
    if book is not None:  # The book's own settings; its entries are LorebookEntry rows.
        stored["character_book"] = {key: v for key, v in book.items() if key != "entries"}

    if isinstance(mybella, dict):
        fields.update(_from_mybella(mybella, f"{where}extensions.mybella."))
        # A MyBella card writes the tagline as the notes when there are none.
        fields["creator_notes"] = "" if notes.strip() == fields["tagline"] else notes
    else:
        foreign, traits_from_personality = _from_foreign(data, name=fields["name"])
        fields.update(foreign, creator_notes=notes)
        if traits_from_personality:  # The traits now stand for the personality.
            stored.pop("personality", None)
    generated = {
        "personality": ", ".join(fields["traits"]),
        "tags": fields["traits"],
    }
    for key, value in generated.items():
        if key in stored and stored[key] == value:
            del stored[key]

    extensions = {"card": stored, "extensions": card_extensions}
    return ParsedCard(
        fields={field: fields[field] for field in MYBELLA_FIELDS},
        extensions={key: value for key, value in extensions.items() if value},
        image=image,
        spec=spec,
        lorebook=lorebook,
    )


def _alternate_greetings(data: dict[str, Any], where: str) -> list[str]:
    greetings = list(data.get("alternate_greetings") or [])
    if len(greetings) > limits.PERSONA_ALTERNATE_GREETINGS_MAX:
        raise CardError(
            f"{where}alternate_greetings has more than "
            f"{limits.PERSONA_ALTERNATE_GREETINGS_MAX} greetings"
        )
    for index, greeting in enumerate(greetings):
        _check_length(greeting, "greeting", f"{where}alternate_greetings[{index}]")
    return greetings


def lorebook_from_card(book: dict[str, Any], where: str = "") -> list[dict[str, Any]]:
    """Return a card's lorebook entries as LorebookEntry fields; raise CardError if one is bad."""
    entries = book.get("entries") or []
    if not isinstance(entries, list):
        raise CardError(f"{where}entries must be a list")
    if len(entries) > limits.LOREBOOK_ENTRIES_MAX:
        raise CardError(f"{where}entries has more than {limits.LOREBOOK_ENTRIES_MAX} entries")
    return [
        entry_from_card(entry, f"{where}entries[{index}].") for index, entry in enumerate(entries)
    ]


def entry_from_card(entry: object, where: str = "") -> dict[str, Any]:
    """Return a card's lorebook entry as LorebookEntry fields; raise CardError if it is bad.

    A field left out takes its default; a null is kept in `extra` (so it goes back out
    as it came) and taken as absent.
    """
    if not isinstance(entry, dict):
        raise CardError(f"{where.rstrip('.')} must be an object")
    fields: dict[str, Any] = {}
    for key, default in ENTRY_FIELDS.items():
        value = entry.get(key)
        if value is None:
            fields[key] = copy.deepcopy(default)
            continue
        kind = ENTRY_TYPES[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CardError(f"{where}{key} must be {_type_name(kind)}")
        fields[key] = value
    for key in ("keys", "secondary_keys"):
        if not _is_string_list(fields[key]):
            raise CardError(f"{where}{key} must be a list of strings")
        if len(fields[key]) > limits.LOREBOOK_KEYS_MAX:
            raise CardError(f"{where}{key} has more than {limits.LOREBOOK_KEYS_MAX} keys")
        if any(len(key_) > limits.LOREBOOK_KEY_MAX_CHARS for key_ in fields[key]):
            raise CardError(
                f"{where}{key} has a key longer than {limits.LOREBOOK_KEY_MAX_CHARS} characters"
            )
    if fields["position"] not in LorebookEntry.Position.values:
        raise CardError(f"{where}position must be before_char or after_char")
    if abs(fields["insertion_order"]) > 1_000_000:
        raise CardError(f"{where}insertion_order must be between -1000000 and 1000000")
    for key, limit in (
        ("content", limits.LOREBOOK_CONTENT_MAX_CHARS),
        ("comment", limits.LOREBOOK_COMMENT_MAX_CHARS),
    ):
        if len(fields[key]) > limit:
            raise CardError(f"{where}{key} is longer than {limit} characters")
    extensions = entry.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise CardError(f"{where}extensions must be an object")
    extra = {key: value for key, value in entry.items() if key not in ENTRY_FIELDS or value is None}
    if extra.get("extensions") == {}:
        del extra["extensions"]
    absent = [key for key in ENTRY_FIELDS if key not in entry]
    if absent:
        extra[ABSENT_KEY] = absent
    fields["extra"] = extra
    return fields


def _type_name(kind: type | tuple[type, ...]) -> str:
    return {list: "a list", str: "a string", bool: "true or false", int: "a whole number"}[kind]


def tagline_from(description: str, *, name: str) -> str:
    """Return the first sentence of a card's description, to stand as its tagline.

    Bracketed W++ blocks are left out and the names filled in; cut to the tagline's length.
    """
    text = WPP_BLOCK.sub(" ", fill_macros(description, char=name, user=""))
    text = " ".join(word for word in text.split() if word.upper() != "<START>")
    if not text:
        return ""
    first = SENTENCE_END.split(text, maxsplit=1)[0].strip()
    limit = rules.field_max_chars("tagline") or len(first)
    if len(first) <= limit:
        return first
    return first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _check_length(value: str, field: str, where: str) -> None:
    """Refuse a card value longer than the MyBella field it fills, naming the card's key."""
    limit = rules.field_max_chars(field)
    if limit is not None and len(value) > limit:
        raise CardError(f"{where} is longer than {limit} characters")


def _check_types(data: dict[str, Any], where: str) -> None:
    # null is taken as "absent": some writers emit it for empty fields.
    for key in STRING_KEYS:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise CardError(f"{where}{key} must be a string")
    for key in LIST_KEYS:
        if data.get(key) is not None and not _is_string_list(data[key]):
            raise CardError(f"{where}{key} must be a list of strings")
    for key in ("extensions", "character_book"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise CardError(f"{where}{key} must be an object")


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _from_mybella(mybella: dict[str, Any], where: str) -> dict[str, Any]:
    for key in ("tagline", "communication_notes"):
        if mybella.get(key) is not None and not isinstance(mybella[key], str):
            raise CardError(f"{where}{key} must be a string")
    tagline = (mybella.get("tagline") or "").strip()
    _check_length(tagline, "tagline", f"{where}tagline")
    notes = (mybella.get("communication_notes") or "").strip()
    _check_length(notes, "communication_notes", f"{where}communication_notes")
    traits = mybella.get("traits") or []
    if not _is_string_list(traits):
        raise CardError(f"{where}traits must be a list of strings")
    style = mybella.get("communication_style")
    return {
        "tagline": tagline,
        "traits": _strict_traits(traits, where=f"{where}traits"),
        "communication_style": style if style in CommunicationStyle.values else WARM,
        "communication_notes": notes,
    }


def _from_foreign(data: dict[str, Any], *, name: str) -> tuple[dict[str, Any], bool]:
    """Derive the MyBella-only fields of a card another tool wrote.

    Return them and whether the traits came from the personality (rather than the tags).
    """
    pieces = [p.strip() for p in re.split(r"[,;\n]", data.get("personality") or "")]
    pieces = [p for p in pieces if p]
    # Only a list of short words is traits; prose ("She is kind, and wise.") stays prose.
    from_personality = 0 < len(pieces) <= PersonaProfile.TRAITS_MAX and all(
        len(p) <= PersonaProfile.TRAIT_MAX_LENGTH and len(p.split()) <= 3 and p[-1] not in ".!?"
        for p in pieces
    )
    # Traits guessed from another tool's card: cut to fit rather than refused.
    traits = rules.clean_traits(
        pieces if from_personality else data.get("tags") or [], mode="lenient"
    )
    fields = {
        "tagline": tagline_from(data.get("description") or "", name=name),
        "traits": traits,
        "communication_style": WARM,
        "communication_notes": "",
    }
    return fields, from_personality


def _strict_traits(items: list[str], *, where: str) -> list[str]:
    """Return the traits of MyBella's own card extension, cleaned like a person's input.

    They are what someone typed, so too many or one too long is refused, never cut.
    """
    try:
        return rules.clean_traits(items, mode="strict")
    except ValidationError as error:
        problem = {
            "too_many": f"has more than {limits.PERSONA_TRAITS_MAX} traits",
            "max_length": f"has a trait longer than {limits.PERSONA_TRAIT_MAX_CHARS} characters",
        }.get(error.code or "", "must be a list of strings")
        raise CardError(f"{where} {problem}") from None
