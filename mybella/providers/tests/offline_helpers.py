"""What the offline engine's tests share: one reply to a message, and whether a line was used."""

import re

from mybella.providers.llm import Prompt
from mybella.providers.llm.offline import VOICES, OfflineProvider

STYLES = sorted(VOICES)


def reply(
    text: str, style: str = "warm", *, history: list[dict] | None = None, **fields: object
) -> str:
    """Return the offline reply to `text` in `style`, after `history` (turns of role/content);
    `fields` are the Prompt's others (user_name, greeting, …)."""
    messages = [*(history or []), {"role": "user", "content": text}]
    prompt = Prompt(
        messages=messages,
        persona_name="Bella",
        user_message=text,
        communication_style=style,
        turn=len(messages) // 2,
        **fields,
    )
    return OfflineProvider().reply(prompt)


def used(lines: tuple[str, ...], text: str) -> bool:
    """Say whether one of a voice's `lines` (whatever fills its {topic} or {name}) is in `text`."""
    for line in lines:
        pieces = [piece for piece in re.split(r"\{\w+\}", line) if piece.strip()]
        if all(piece in text for piece in pieces):
            return True
    return False
