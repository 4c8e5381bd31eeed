"""What a memory is a fact about: the one place that decides when two memories say the same
thing (merge them) and when a newer one contradicts an older one (it supersedes it).

A memory's *claim* is its slot ("lives_in", "called:dog", "taste:coffee", "" for none)
and its value ("lisbon", "pixel", "like"). Two memories with the same slot say the same
thing when their values are equal, and contradict each other when not. Without a slot,
only the same words (whatever the case and punctuation) make a duplicate.

The offline rules' templates ("Lives in Lisbon", "Their dog is called Pixel") and the usual
phrasings of a model ("The user lives in Lisbon", "User's dog is named Pixel") are read.
"""

import re
from dataclasses import dataclass

from memory.rules import SLOT_MAX_CHARS

# Relations a person has one of at a time: a new name replaces the old one. Of the
# others (sisters, friends, …) there may be several, so each name is its own slot.
PARTNERS = {
    "partner", "husband", "wife", "boyfriend", "girlfriend", "fiance", "fiancé", "fiancee",
    "fiancée", "spouse",
}  # fmt: skip
ONE_OF = PARTNERS | {
    "mom", "mum", "mother", "dad", "father", "best friend", "boss", "stepmom", "stepdad",
}  # fmt: skip
MANY_OF = {
    "sister", "brother", "son", "daughter", "friend", "cousin", "aunt", "uncle", "grandma",
    "grandmother", "grandpa", "grandfather", "niece", "nephew", "roommate", "flatmate", "kid",
    "child", "baby", "twin", "colleague", "coworker", "neighbour", "neighbor",
}  # fmt: skip
PETS = {
    "dog", "cat", "puppy", "kitten", "bird", "parrot", "hamster", "rabbit", "bunny", "fish",
    "horse", "turtle", "tortoise", "snake", "lizard", "ferret", "pony", "budgie", "guinea pig",
}  # fmt: skip
_LIKE = {"like", "likes", "love", "loves", "enjoy", "enjoys", "adore", "adores"}

_SUBJECT = r"^(?:the\s+user\s+|user\s+|they\s+|he\s+|she\s+)?"
_OWNER = r"^(?:the\s+user['’]s|user['’]s|their|his|her)\s+"
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (slot, re.compile(pattern, re.IGNORECASE))
    for slot, pattern in (
        ("name", _OWNER + r"(?:full\s+)?name\s+is\s+(?P<value>.+)"),
        (
            "birthday",
            _OWNER + r"(?:(?P<noun>[a-z]+(?:\s+[a-z]+)?)['’]s\s+)?birthday\s+is\s+(?:on\s+)?"
            r"(?P<value>.+)",
        ),
        ("favourite", _OWNER + r"favou?rite\s+(?P<noun>[a-z]+(?:\s+[a-z]+)?)\s+is\s+(?P<value>.+)"),
        (
            "called",
            _OWNER + r"(?P<noun>[a-z]+(?:\s+[a-z]+)?)(?:['’]s\s+name\s+is|\s+is\s+(?:called|named))"
            r"\s+(?P<value>.+)",
        ),
        (
            "called",
            _SUBJECT + r"(?:has|have|owns|own)\s+(?:a|an|one)\s+(?P<noun>[a-z]+(?:\s+pig)?)"
            r"\s+(?:called|named)\s+(?P<value>.+)",
        ),
        ("lives_in", _SUBJECT + r"(?:lives|live|is\s+living|are\s+living)\s+in\s+(?P<value>.+)"),
        ("is_from", _SUBJECT + r"(?:is|are|comes|come)\s+(?:originally\s+)?from\s+(?P<value>.+)"),
        ("works_at", _SUBJECT + r"(?:works|work|is\s+working)\s+(?:at|for)\s+(?P<value>.+)"),
        ("works_as", _SUBJECT + r"(?:works|work|is\s+working)\s+as\s+(?P<value>.+)"),
        ("grew_up_in", _SUBJECT + r"grew\s+up\s+in\s+(?P<value>.+)"),
        ("born_in", _SUBJECT + r"(?:was|were)\s+born\s+in\s+(?P<value>[^\d].*)"),
        (
            "taste",
            _SUBJECT + r"(?P<verb>likes|like|loves|love|enjoys|enjoy|adores|adore|dislikes"
            r"|dislike|hates|hate|detests|loathes|can['’]?t\s+stand)\s+(?P<value>.+)",
        ),
        (
            "has",
            _SUBJECT + r"(?:has|have)\s+(?P<value>(?:a|an|one|two|three|four|\d+)\s+(?:pet\s+)?"
            r"(?P<noun>[a-z]+(?:\s+pig)?))$",
        ),
    )
)


@dataclass(frozen=True)
class Claim:
    """What a memory says: about what (`slot`, "" for nothing in particular), and what."""

    slot: str
    value: str


def normalise(text: str) -> str:
    """Return `text` as plain lowercase words, without articles or punctuation."""
    words = re.findall(r"[^\W_]+", text.casefold().replace("’", "'").replace("'", ""))
    return " ".join(word for word in words if word not in ("a", "an", "the"))


def _singular(noun: str) -> str:
    noun = normalise(noun)
    return noun[:-1] if noun.endswith("s") and not noun.endswith("ss") and len(noun) > 3 else noun


def _slot(slot: str, noun: str, value: str, verb: str) -> tuple[str, str]:
    if slot == "called":
        if noun in PARTNERS:
            return "called:partner", value
        if noun in MANY_OF:
            return f"called:{noun}:{value}", value
        return f"called:{noun}", value
    if slot == "taste":
        return f"taste:{_singular(value)}", "like" if verb in _LIKE else "dislike"
    if slot == "has":
        return f"has:{_singular(noun)}", value
    if noun:
        return f"{slot}:{noun}", value
    return slot, value


def claim(content: str, slot: str = "") -> Claim:
    """Return what `content` says; `slot`, when given (a model may name one), is kept."""
    text = content.strip().rstrip(".!")
    for name, pattern in _PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        groups = found.groupdict()
        noun = normalise(groups.get("noun") or "")
        verb = normalise(groups.get("verb") or "")
        if name == "has" and _singular(noun) not in PETS:
            continue
        found_slot, value = _slot(name, noun, normalise(groups["value"]), verb)
        return Claim((slot or found_slot)[:SLOT_MAX_CHARS], value)
    return Claim(slot[:SLOT_MAX_CHARS], normalise(content))


def _within(short: str, long: str) -> bool:
    return f" {short} " in f" {long} "


def same_claim(a: Claim, b: Claim) -> bool:
    """Return whether two claims say the same thing (a near-duplicate).

    In a slot, a value said within the other counts as the same ("porto", "porto now").
    """
    if a.slot != b.slot:
        return False
    if a.value == b.value:
        return True
    return bool(a.slot) and (_within(a.value, b.value) or _within(b.value, a.value))


def contradicts(new: Claim, old: Claim) -> bool:
    """Return whether `new` replaces `old`: the same slot, something else in it."""
    return bool(new.slot) and new.slot == old.slot and not same_claim(new, old)
