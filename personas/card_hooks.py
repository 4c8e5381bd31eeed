"""Blocks another app adds to a persona's Character Card, in the card's `data.extensions`.

personas imports no app above it. An app that keeps something per persona which should
travel with it (voices: the persona's voice) registers a `CardExtension` into
`card_extensions` from its `AppConfig.ready()`: an export writes the block `export`
returns under `data.extensions[name]`; an import hands the block found there to `apply`
inside the import's transaction, and keeps it out of the persona's stored extensions.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mybella.core.hooks import Registry
from mybella.users.models import User
from personas.models import PersonaProfile


@dataclass(frozen=True)
class CardExtension:
    """One app's block of a card.

    `name` is its key under `data.extensions` (e.g. "mybella_voice").
    `export(persona)` returns the block, or None to write none.
    `apply(*, persona, user, block)` applies a block read from a card to the persona just
    imported by `user`: what it can't use it leaves out (the card came from elsewhere).
    """

    name: str
    export: Callable[[PersonaProfile], dict[str, Any] | None]
    apply: Callable[..., None]


card_extensions: Registry[CardExtension] = Registry("card_extensions")


def card_blocks(persona: PersonaProfile) -> dict[str, Any]:
    """Return every registered app's card block for `persona`, by name."""
    blocks = {}
    for extension in card_extensions:
        block = extension.export(persona)
        if block is not None:
            blocks[extension.name] = block
    return blocks


def card_blocks_take(extensions: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a parsed card's `extensions` (PersonaProfile.extensions) into (what the
    persona stores, the registered apps' blocks by name)."""
    stored = dict(extensions)
    card = dict(stored.get("extensions") or {})
    blocks = {name: card.pop(name) for name in card_extensions.names() if name in card}
    if card:
        stored["extensions"] = card
    else:
        stored.pop("extensions", None)
    return stored, blocks


def card_blocks_apply(*, persona: PersonaProfile, user: User, blocks: Mapping[str, Any]) -> None:
    """Hand each registered app its block read from a card."""
    for extension in card_extensions:
        if extension.name in blocks:
            extension.apply(persona=persona, user=user, block=blocks[extension.name])
