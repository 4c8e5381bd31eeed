"""The offline rules: notice what the plain statements of a user's message say about them.

They prefer missing a fact to inventing one: questions, conditionals ("if I lived in…") and
sentences about the persona ("I love talking to you") are left alone.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from memory.extraction.ops import FACT, PREFERENCE, MemoryOp
from memory.recall import terms

# A memory the rules write is one short clause (well under `limits.MEMORY_MAX_CHARS`).
MAX_LENGTH = 120
UPDATE_PREFIXES = ("Their name is", "Lives in", "Is from", "Works at", "Works as")


@dataclass(frozen=True)
class _Proposal:
    prefix: str
    obj: str
    content: str
    kind: str
    importance: int
    preference: tuple[str, str] | None = None
    delete: bool = False


_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
_CLAUSE_END = (
    r"[!?;…()\[\]]|[.:](?=\s|$)|\s[-–—]+\s"
    r"|(?i:\s+(?:but|because|cause|cuz|though|although|while|since|unless|whereas|except)\b)"
    r"|(?i:\s+(?:and|so|or|then)\s+(?=(?:i|im|i['’]m|ive|i['’]ve|id|i['’]d|i['’]ll|you|he|she"
    r"|it|it['’]s|we|they|my|our|that|this|there)\b))"
)
# A comma ends a clause unless a capitalized word follows ("Paris, France").
_BOUNDARY = re.compile(_CLAUSE_END + r"|,(?!\s*[A-Z][a-z])")
_REMEMBER_BOUNDARY = re.compile(_CLAUSE_END)
_TRAILING = re.compile(
    r"(?i:(?:\s+(?:now|currently|right now|these days|at the moment|any\s?more|too|as well|lol"
    r"|haha+|btw|by the way|a lot|so much|very much|tbh|recently|lately|a while ago"
    r"|last (?:year|month|week|summer|winter|spring|fall|autumn)|\w+ (?:year|month|week)s? ago"
    r"|in \d{4}))+$)"
)
_ANYMORE = re.compile(r"(?i:\bany\s?more$)")
_CONDITIONAL = re.compile(
    r"(?i:\b(?:if|when|whenever|unless|once|whether|wish|suppose|imagine|pretend)\s+$)"
)
_PRONOUN = re.compile(
    r"(?i:\b(?:i\s+am|i\s+was|i['’]m|i['’]ve|i['’]ll|i['’]d|i|my|mine|myself|me)\b)"
)
_PRONOUNS = {
    "i am": "they are",
    "i was": "they were",
    "i'm": "they're",
    "i've": "they've",
    "i'll": "they'll",
    "i'd": "they'd",
    "i": "they",
    "my": "their",
    "mine": "theirs",
    "myself": "themselves",
    "me": "them",
}
_ABOUT_PERSONA = {"you", "your", "yours", "yourself", "u", "ur", "our", "ours", "us"}
_VAGUE_OBJECTS = set(
    """it that this these those them him her us me myself when how what where who which whatever
    everything anything nothing something someone somebody to being so too very more most both
    either here there""".split()  # noqa: SIM905
)
_NOT_NAMES = set(
    """fine tired ok okay sorry here good great back home done bored sad happy so not just very
    really also still going trying a an the no yes sure glad busy free sick ill alive awake
    alone lonely hungry thirsty cold hot new old ready late early away out in on up down fed
    afraid scared worried excited nervous confused lost stuck single married divorced engaged
    pregnant gay straight bi trans human online offline vegan vegetarian christian muslim jewish
    catholic buddhist hindu atheist american african asian european canadian mexican brazilian
    italian indian australian russian german korean dutch french greek thai egyptian persian
    norwegian hungarian serious kidding joking curious sleepy hungover drunk high well better
    worse fantastic amazing awesome cool nice bad terrible okey alright gonna about almost
    secret later tomorrow tonight today anytime maybe crazy whatever anything something if
    when whenever sometime soon now again baby babe honey""".split()  # noqa: SIM905
)
_MOMENTS = set(
    """time day night evening morning afternoon weekend week summer winter trip song movie
    film place moment one guy girl party""".split()  # noqa: SIM905
)
_NAME = r"[^\W\d_][\w'’-]*"
_FULL_NAME = _NAME + r"(?:\s+[A-Z][a-z][\w'’-]*){0,2}"
_ADVERBS = (
    r"(?:(?:really|also|just|totally|absolutely|truly|do|still|actually|genuinely|honestly"
    r"|currently|now|kinda|kind\s+of)\s+){0,2}"
)
_I = r"(?i:\bi\s+" + _ADVERBS
_I_AM = r"(?i:\bi(?:['’]m|\s+am|m)\s+"


def _phrase(sentence: str, start: int, boundary: re.Pattern = _BOUNDARY) -> tuple[str, str, int]:
    """Return the phrase from `start` to its clause boundary: as typed, cleaned, and its end."""
    rest = sentence[start:]
    found = boundary.search(rest)
    raw = (rest[: found.start()] if found else rest).strip()
    cleaned = re.sub(r"[^\w)%+#]+$", "", _TRAILING.sub("", raw)).strip(" \"'“”‘’*_")
    if len(cleaned) > MAX_LENGTH:
        cleaned = cleaned[:MAX_LENGTH].rsplit(" ", 1)[0]
    return raw, cleaned, start + (found.start() if found else len(rest))


def _plain_object(obj: str) -> bool:
    words = re.findall(r"[\w'’]+", obj.lower())
    return bool(words) and words[0] not in _VAGUE_OBJECTS and not _ABOUT_PERSONA & set(words)


def _name(match: re.Match, sentence: str, *, announced: bool) -> tuple[_Proposal, int] | None:
    """Read a name; unless announced ("my name is"), it must end its clause and look like one."""
    name = match["name"]
    first = name.split()[0]
    if first.lower().strip("'’") in _NOT_NAMES or len(first) < 2:
        return None
    _raw, rest, end = _phrase(sentence, match.end())
    if not announced and (rest or re.search(r"(?:ish|ese)$", first.lower())):
        return None
    name = " ".join(word[0].upper() + word[1:] for word in name.split())
    return _Proposal(
        "Their name is",
        name,
        f"Their name is {name}",
        FACT,
        8,
        preference=("preferred_name", name.split()[0]),
    ), (match.end() if announced else end)


def _call_me(match: re.Match, sentence: str) -> tuple[_Proposal, int] | None:
    if re.search(r"(?i:\b(?:don['’]?t|do\s+not|never|not|stop)\s+$)", sentence[: match.start()]):
        return None
    return _name(match, sentence, announced=False)


def _about(prefix: str, kind: str, importance: int) -> Callable:
    def handle(match: re.Match, sentence: str) -> tuple[_Proposal, int] | None:
        _raw, obj, end = _phrase(sentence, match.end())
        if not _plain_object(obj):
            return None
        return _Proposal(prefix, obj, f"{prefix} {obj}", kind, importance), end

    return handle


def _dont_like(match: re.Match, sentence: str) -> tuple[_Proposal, int] | None:
    raw, obj, end = _phrase(sentence, match.end())
    if not _plain_object(obj):
        return None
    if _ANYMORE.search(re.sub(r"[^\w\s]+$", "", raw)):
        return _Proposal("Likes", obj, "", PREFERENCE, 5, delete=True), end
    return _Proposal("Dislikes", obj, f"Dislikes {obj}", PREFERENCE, 5), end


def _no_longer(match: re.Match, sentence: str) -> tuple[_Proposal, int] | None:
    _raw, obj, end = _phrase(sentence, match.end())
    if not _plain_object(obj):
        return None
    return _Proposal("Likes", obj, "", PREFERENCE, 5, delete=True), end


def _remember(match: re.Match, sentence: str) -> tuple[_Proposal, int] | None:
    # "Remember that day?" recalls a moment; "can you remember that …?" is a request.
    if sentence.endswith("?") and not re.search(r"(?i:\byou\b)", match[0]):
        return None
    _raw, obj, end = _phrase(sentence, match.end(), _REMEMBER_BOUNDARY)
    if obj.split(" ", 1)[0].lower() in _MOMENTS:
        return None
    obj = _PRONOUN.sub(
        lambda m: _PRONOUNS[re.sub(r"\s+", " ", m[0].lower().replace("’", "'"))], obj
    )
    if not re.search(r"\w", obj):
        return None
    return _Proposal("", obj, obj[0].upper() + obj[1:], FACT, 9), end


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern
    handle: Callable[[re.Match, str], tuple[_Proposal, int] | None]
    in_questions: bool = False


_RULES = (
    _Rule(
        re.compile(
            r"^(?i:\W*(?:\w+,\s*)?(?:(?:please|oh|also|and|hey|just|so|ok|okay|btw)\W+)*"
            r"(?:(?:can|could|will|would)\s+you\s+)?(?:please\s+)?"
            r"(?:remember|don['’]?t\s+forget|do\s+not\s+forget|never\s+forget)\s*(?:that\b|:)\s*)"
        ),
        _remember,
        in_questions=True,
    ),
    _Rule(re.compile(_I + r"no\s+longer\s+(?:like|love|enjoy)\s+)"), _no_longer),
    _Rule(
        re.compile(_I + r"(?:don['’]?t|do\s+not)\s+(?:really\s+)?(?:like|love|enjoy)\s+)"),
        _dont_like,
    ),
    _Rule(
        re.compile(_I + r"(?:hate|dislike|detest|loathe|can['’]?t\s+stand|can\s*not\s+stand)\s+)"),
        _about("Dislikes", PREFERENCE, 5),
    ),
    _Rule(re.compile(_I + r"(?:like|love|enjoy|adore)\s+)"), _about("Likes", PREFERENCE, 5)),
    _Rule(
        re.compile(r"(?i:\bmy\s+name(?:\s+is|['’]s)\s+)(?P<name>" + _FULL_NAME + ")"),
        lambda match, sentence: _name(match, sentence, announced=True),
    ),
    _Rule(
        re.compile(_I_AM + r")(?P<name>[A-Z][\w'’-]*)"),
        lambda match, sentence: _name(match, sentence, announced=False),
    ),
    _Rule(re.compile(r"(?i:\bcall\s+me\s+)(?P<name>" + _NAME + ")"), _call_me),
    _Rule(
        re.compile(r"(?:" + _I + r"live\s+in\s+)|" + _I_AM + r"(?:currently\s+)?living\s+in\s+))"),
        _about("Lives in", FACT, 7),
    ),
    _Rule(
        re.compile(_I + r"(?:just\s+)?(?:moved|relocated)\s+to\s+)"),
        _about("Lives in", FACT, 7),
    ),
    _Rule(
        re.compile(
            r"(?:"
            + _I_AM
            + r"(?:originally\s+)?from\s+)|"
            + _I
            + r"(?:originally\s+)?come\s+from\s+))"
        ),
        _about("Is from", FACT, 7),
    ),
    _Rule(
        re.compile(r"(?:" + _I + r"work\s+(?:at|for)\s+)|" + _I_AM + r"working\s+(?:at|for)\s+))"),
        _about("Works at", FACT, 6),
    ),
    _Rule(
        re.compile(r"(?:" + _I + r"work\s+as\s+)|" + _I_AM + r"working\s+as\s+))(?=(?i:an?)\s)"),
        _about("Works as", FACT, 6),
    ),
)


def _scan(sentence: str) -> list[_Proposal]:
    question = sentence.endswith("?")
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, _Proposal]] = []
    for rule in _RULES:
        if question and not rule.in_questions:
            continue
        for match in rule.pattern.finditer(sentence):
            start = match.start()
            if any(a <= start < b for a, b in taken) or _CONDITIONAL.search(sentence[:start]):
                continue
            result = rule.handle(match, sentence)
            if result:
                taken.append((start, result[1]))
                found.append((start, result[0]))
    return [proposal for _start, proposal in sorted(found, key=lambda item: item[0])]


def _key(content: str) -> tuple[str, ...]:
    return tuple(terms(content)) or (content.strip().lower(),)


def _find(existing: list[tuple[int, str]], prefix: str, obj: str | None = None) -> int | None:
    for memory_id, content in existing:
        head, rest = content[: len(prefix)], content[len(prefix) :]
        matches = obj is None or terms(rest) == terms(obj)
        if head.lower() == prefix.lower() and rest[:1].isspace() and matches:
            return memory_id
    return None


def extract_offline(text: str, existing: list[tuple[int, str]]) -> list[MemoryOp]:
    """Return the memory operations the plain statements of a user's message call for.

    `existing` is the pair's memories as (id, content). A statement already remembered is
    skipped; a new name, home, origin or job updates the memory it replaces; a like turning
    into a dislike (or back) updates it; "I don't like X anymore" deletes "Likes X".
    """
    proposals = [p for s in _SENTENCE.split(text.strip()) if s.strip() for p in _scan(s.strip())]
    known = {_key(content) for _id, content in existing}
    contents = {memory_id: content for memory_id, content in existing}
    ops: list[MemoryOp] = []
    slots: dict[str, int] = {}  # update prefix -> its op, so the last statement wins
    touched: set[int] = set()
    for p in proposals:
        if p.delete:
            target = _find(existing, "Likes", p.obj)
            if target is not None and target not in touched:
                touched.add(target)
                ops.append(MemoryOp("delete", contents[target], p.kind, p.importance, target))
            continue
        key = _key(p.content)
        if key in known:
            continue
        known.add(key)
        if p.prefix in UPDATE_PREFIXES:
            target = _find(existing, p.prefix)
        elif p.prefix in ("Likes", "Dislikes"):
            target = _find(existing, "Dislikes" if p.prefix == "Likes" else "Likes", p.obj)
        else:
            target = None
        if target in touched and p.prefix not in slots:
            target = None
        op = MemoryOp(
            "update" if target is not None else "add",
            p.content,
            p.kind,
            p.importance,
            target,
            p.preference,
        )
        if p.prefix in slots:
            ops[slots[p.prefix]] = op
            continue
        if p.prefix in UPDATE_PREFIXES:
            slots[p.prefix] = len(ops)
        if target is not None:
            touched.add(target)
        ops.append(op)
    return ops
