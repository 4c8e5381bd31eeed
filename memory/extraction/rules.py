"""The offline rules: notice what the plain statements of a user's message say about them.

They prefer missing a fact to inventing one: questions, conditionals ("if I lived in…") and
sentences about the persona ("I love talking to you") are left alone. Each memory is one
short clause about the user in the third person, from a template the slot reader
(`memory.extraction.slots`) knows: "Lives in Lisbon", "Their dog is called Pixel",
"Their birthday is on 3 March". Dates ("tomorrow", "next Friday") are written out from
the day the message was written (`memory.extraction.dates`).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from chat.rendering import plain_text
from memory.extraction import slots
from memory.extraction.dates import MONTHS, find_date, with_date
from memory.extraction.ops import EVENT, FACT, PREFERENCE, MemoryOp
from mybella.core.introductions import INTRODUCTION, introductions, not_a_name

# A memory the rules write is one short clause (well under `limits.MEMORY_MAX_CHARS`).
MAX_LENGTH = 120


@dataclass(frozen=True)
class _Proposal:
    obj: str  # what a like is about, for "I don't like X anymore"
    content: str
    kind: str
    importance: int
    preference: tuple[str, str] | None = None
    delete: bool = False
    happened_on: date | None = None


_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
_CLAUSE_END = (
    r"[!?;…()\[\]]|[.:](?=\s|$)|\s?[-–—]+\s"
    r"|(?i:\s+(?:but|because|cause|cuz|though|although|while|since|unless|whereas|except|if)\b)"
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
_MOMENTS = set(
    """time day night evening morning afternoon weekend week summer winter trip song movie
    film place moment one guy girl party""".split()  # noqa: SIM905
)
_NAME = r"[^\W\d_][\w'’-]*"
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


_Found = tuple[_Proposal, int] | None


def _introduction(match: re.Match, sentence: str, today: date) -> _Found:
    """ "My name is Sam", "I'm Tom, …", "call me jo": the rule in `mybella.core.introductions`,
    shared with the offline reply engine, says what is a name."""
    intro = next((i for i in introductions(sentence) if i.start == match.start()), None)
    if intro is None:
        return None
    return _Proposal(
        intro.name,
        f"Their name is {intro.name}",
        FACT,
        8,
        preference=("preferred_name", intro.first),
    ), intro.end


def _about(prefix: str, kind: str, importance: int) -> Callable:
    def handle(match: re.Match, sentence: str, today: date) -> _Found:
        _raw, obj, end = _phrase(sentence, match.end())
        if not _plain_object(obj):
            return None
        obj = _third_person(obj)
        return _Proposal(obj, f"{prefix} {obj}", kind, importance), end

    return handle


def _dont_like(match: re.Match, sentence: str, today: date) -> _Found:
    raw, obj, end = _phrase(sentence, match.end())
    if not _plain_object(obj):
        return None
    if _ANYMORE.search(re.sub(r"[^\w\s]+$", "", raw)):
        return _Proposal(obj, "", PREFERENCE, 5, delete=True), end
    return _Proposal(obj, f"Dislikes {obj}", PREFERENCE, 5), end


def _no_longer(match: re.Match, sentence: str, today: date) -> _Found:
    _raw, obj, end = _phrase(sentence, match.end())
    if not _plain_object(obj):
        return None
    return _Proposal(obj, "", PREFERENCE, 5, delete=True), end


def _third_person(text: str) -> str:
    return _PRONOUN.sub(
        lambda m: _PRONOUNS[re.sub(r"\s+", " ", m[0].lower().replace("’", "'"))], text
    )


def _remember(match: re.Match, sentence: str, today: date) -> _Found:
    # "Remember that day?" recalls a moment; "can you remember that …?" is a request.
    if sentence.endswith("?") and not re.search(r"(?i:\byou\b)", match[0]):
        return None
    _raw, obj, end = _phrase(sentence, match.end(), _REMEMBER_BOUNDARY)
    if obj.split(" ", 1)[0].lower() in _MOMENTS:
        return None
    obj = _third_person(obj)
    if not re.search(r"\w", obj):
        return None
    found = find_date(obj, today)
    obj = with_date(obj, found) if found else obj
    day = found.day if found else None
    return _Proposal(obj, obj[0].upper() + obj[1:], FACT, 9, happened_on=day), end


_NAMED = re.compile(
    r"(?i:(?P<count>a|an|one)\s+(?:(?P<adj>[a-z]+)\s+)??(?P<noun>guinea\s+pig|[a-z]+)"
    r"(?:\s*,\s*|\s+(?:called|named)\s+))(?P<name>" + _NAME + r")$"
)
_COUNTED = re.compile(
    r"(?i:(?:a|an|one|two|three|four|five|\d+)\s+(?:[a-z]+\s+)??(?P<noun>guinea\s+pigs?|[a-z]+))$"
)
_KIN = sorted(slots.ONE_OF | slots.MANY_OF | slots.PETS, key=len, reverse=True)
_KIN_WORD = r"(?P<noun>" + "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in _KIN) + ")"


def _called(noun: str, name: str, *, importance: int = 7) -> _Proposal:
    noun = re.sub(r"\s+", " ", noun.lower())
    name = re.sub(r"['’]s?$", "", name)  # "my daughter Sara's birthday": Sara
    name = " ".join(word[0].upper() + word[1:] for word in name.split())
    return _Proposal(name, f"Their {noun} is called {name}", FACT, importance)


def _a_name(name: str, *, explicit: bool) -> bool:
    """Say whether `name` is one: not a pet's kind, nor a word the introductions' rule says is
    no name ("my dog is Happy"); after "called"/"named"/"'s name is" (`explicit`) a
    capitalised colour or state is one ("my dog is called Brown")."""
    first = name.split()[0]
    if len(first) < 2 or first.lower().strip("'’") in slots.PETS:
        return False
    return not not_a_name(first, explicit=explicit)


def _have(match: re.Match, sentence: str, today: date) -> _Found:
    """ "I have a dog called Pixel", "I've got a car named Betsy", "I have two cats"."""
    _raw, obj, end = _phrase(sentence, match.end())
    named = _NAMED.match(obj)
    if named and (named["name"][0].isupper() or not obj[named.start("name") - 2].isspace()):
        explicit = not obj[: named.start("name")].rstrip().endswith(",")  # "called", "named"
        if not _a_name(named["name"], explicit=explicit) or named["noun"].lower() in _VAGUE_OBJECTS:
            return None
        return _called(named["noun"], named["name"]), end
    counted = _COUNTED.match(obj)
    if counted and slots.claim(f"Has {obj}").slot.startswith("has:"):
        return _Proposal(obj, f"Has {obj}", FACT, 6), end
    return None


def _my_named(match: re.Match, sentence: str, today: date) -> _Found:
    """ "my dog's name is Pixel", "my sister is called Ana", "my best friend is Tom", "my sister
    Ana"."""
    name = match["name"]
    explicit = bool(re.search(r"(?i)name|called", match["how"]))  # "is called", "'s name is"
    if not _a_name(name, explicit=explicit):
        return None
    _raw, rest, _end = _phrase(sentence, match.end())
    if match["how"].strip() == "is" and rest:
        return None  # "my dog is Rex's best friend"
    return _called(match["noun"], name), match.end()


def _birthday(match: re.Match, sentence: str, today: date) -> _Found:
    """ "my birthday is on March 3rd", "my sister's birthday is tomorrow", "I was born on …"."""
    raw, _obj, end = _phrase(sentence, match.end())
    found = find_date(raw, today)
    # Nothing but "on" or "the" before the date, and a day in it ("next month" is none).
    if found is None or found.start > 3 or found.precision not in ("day", "yearless"):
        return None
    who = match.groupdict().get("who")
    whose = "Their " + (" ".join(who.lower().split()) + "'s" if who else "").strip()
    month = MONTHS[found.day.month - 1].capitalize()
    content = f"{whose.strip()} birthday is on {found.day.day} {month}"
    return _Proposal(content, content, FACT, 8, happened_on=found.day), end


def _my_dated(match: re.Match, sentence: str, today: date) -> _Found:
    """ "my exam is on Friday", "my sister's wedding is next month"."""
    raw, _obj, end = _phrase(sentence, match.end())
    found = find_date(raw, today)
    if found is None or found.start > 3:  # "on", "the": nothing else before the date
        return None
    noun = " ".join(match["noun"].lower().split()).replace("’", "'")
    verb = "was" if match["verb"].lower() == "was" else "is"
    content = f"Their {noun} {verb} {found.words()}"
    return _Proposal(content, content, EVENT, 6, happened_on=found.day), end


def _favourite(match: re.Match, sentence: str, today: date) -> _Found:
    _raw, obj, end = _phrase(sentence, match.end())
    if not _plain_object(obj):
        return None
    what = re.sub(r"\s+", " ", match["what"].lower())
    content = f"Their favourite {what} is {obj}"
    return _Proposal(obj, content, PREFERENCE, 5), end


def _event(match: re.Match, sentence: str, today: date) -> _Found:
    """A plan or an event with its date: "I'm going to Porto next week", "I have an exam on
    Friday", "I moved here two weeks ago"."""
    if not _CLAUSE_START.search(sentence[: match.start()]):
        return None  # "here's what I got from my walk last week"
    rest = sentence[match.start() :]
    found_end = _REMEMBER_BOUNDARY.search(rest)
    clause = rest[: found_end.start() if found_end else len(rest)]
    clause = re.sub(r"[^\w)]+$", "", clause)
    found = find_date(clause, today)
    said = set(re.findall(r"[\w'’]+", clause[match.end() - match.start() :].lower()))
    if found is None or _ABOUT_PERSONA & said:
        return None
    text = _third_person(with_date(clause, found))
    if len(text) > MAX_LENGTH:
        return None
    content = text[0].upper() + text[1:]
    return _Proposal(content, content, EVENT, 6, happened_on=found.day), (
        match.start() + len(clause)
    )


_CLAUSE_START = re.compile(
    r"(?:^|[,;:!?.…-]|(?i:\b(?:and|so|but|then|also|oh|well|yeah|yes|yep|hey|actually|btw"
    r"|anyway|guess\s+what|now|and\s+now|finally)))\W*$"
)
_PROFESSIONS = """nurse teacher doctor developer programmer engineer designer lawyer chef cook
    baker writer journalist artist musician photographer accountant architect pharmacist
    dentist vet veterinarian scientist researcher librarian electrician plumber carpenter
    mechanic pilot firefighter paramedic therapist psychologist translator barista waiter
    waitress cashier farmer consultant manager professor lecturer surgeon midwife tailor
    hairdresser painter sculptor actor actress dancer singer""".split()  # noqa: SIM905
_EVENT_VERBS = """go going went fly flying flew travel traveling travelling travelled traveled
    visit visiting visited move moving moved start starting started leave leaving left meet
    meeting met see seeing saw have having had get getting got begin beginning began finish
    finishing finished graduate graduating graduated marry marrying married run running ran
    take taking took return returning returned come coming came head heading headed quit
    quitting join joining joined celebrate celebrating celebrated host hosting hosted attend
    attending attended book booked""".split()  # noqa: SIM905


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern
    handle: Callable[[re.Match, str, date], _Found]
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
    _Rule(INTRODUCTION, _introduction),
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
    _Rule(
        re.compile(
            r"(?:" + _I + r"work\s+as\s+)|" + _I_AM + r"working\s+as\s+)|" + _I_AM + r"))"
            r"(?=(?i:an?)\s(?:[a-z]+\s)?(?i:" + "|".join(_PROFESSIONS) + r")\b)"
        ),
        _about("Works as", FACT, 6),
    ),
    _Rule(re.compile(_I + r"grew\s+up\s+in\s+)"), _about("Grew up in", FACT, 6)),
    _Rule(
        re.compile(
            r"(?i:\bmy\s+(?:(?P<who>best\s+friend|[a-z]+)['’]s\s+)?birthday"
            r"(?:\s+(?:is|was|falls)|['’]s)\s+|\bi\s+was\s+born\s+(?=on\b|in\s+[a-z]+\s+\d))"
        ),
        _birthday,
    ),
    _Rule(
        re.compile(
            r"(?i:\bmy\s+(?P<noun>(?:[a-z]+['’]s\s+)?[a-z]+)(?:\s+(?P<verb>is|was)|['’]s)\s+)"
        ),
        _my_dated,
    ),
    _Rule(
        re.compile(r"(?i:\bmy\s+fav(?:ou?rite)?\s+(?P<what>[a-z]+(?:\s+[a-z]+)?)\s+(?:is|are)\s+)"),
        _favourite,
    ),
    _Rule(
        re.compile(
            r"(?i:\bmy\s+)(?P<noun>(?i:best\s+friend|guinea\s+pig|[a-z]+))"
            r"(?P<how>(?i:['’]s\s+name\s+is|\s+is\s+(?:called|named))\s+)(?P<name>" + _NAME + ")"
        ),
        _my_named,
    ),
    _Rule(
        re.compile(
            r"(?i:\bmy\s+)" + _KIN_WORD + r"(?P<how>\s+is\s+|\s*,\s*|\s+)"
            r"(?P<name>[A-Z][\w'’-]*(?:\s+[A-Z][a-z][\w'’-]*)?)"
        ),
        _my_named,
    ),
    _Rule(
        re.compile(
            # "I have", "I've got", "I own", and news of one: "I just got", "we finally
            # adopted", "I recently bought" (a pet or a thing with a name).
            r"(?i:\b(?:i|we)(?:['’]ve|\s+have)\s+(?:got\s+)?|\b(?:i|we)(?:['’]ve)?"
            r"(?:\s+(?:just|finally|recently|also|now|have))*"
            r"\s+(?:own|got|bought|adopted|rescued)\s+)"
            r"(?=(?i:a|an|one|two|three|four|five|\d+)\s)"
        ),
        _have,
    ),
    _Rule(
        re.compile(
            r"(?i:\bi(?:['’]m|\s+am|['’]ll|\s+will|\s+was|['’]ve|\s+have|\s+had|['’]d)?"
            r"(?:\s+(?:be|been|just|finally|also|really|probably|definitely|gonna|going\s+to"
            r"|planning\s+to|about\s+to|hoping\s+to))*\s+(?:" + "|".join(_EVENT_VERBS) + r")\b)"
        ),
        _event,
    ),
)


def _scan(sentence: str, today: date) -> list[_Proposal]:
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
            result = rule.handle(match, sentence, today)
            if result:
                taken.append((start, result[1]))
                found.append((start, result[0]))
    return [proposal for _start, proposal in sorted(found, key=lambda item: item[0])]


def _find(existing: list[tuple[int, str]], prefix: str, obj: str) -> int | None:
    for memory_id, content in existing:
        head, rest = content[: len(prefix)], content[len(prefix) :]
        if (
            head.lower() == prefix.lower()
            and rest[:1].isspace()
            and slots.normalise(rest) == slots.normalise(obj)
        ):
            return memory_id
    return None


def extract_offline(
    text: str, existing: list[tuple[int, str]], *, today: date | None = None
) -> list[MemoryOp]:
    """Return the memory operations the plain statements of a user's message call for.

    The message is read as its reader sees it (`chat.rendering.plain_text`), markdown's
    marks dropped. `existing` is the pair's memories as (id, content); `today` the day the
    message was written, from which "tomorrow" or "next Friday" are resolved (default:
    today). Every statement is proposed as an addition, once, the last one about a slot winning
    ("I live in Oslo. Well, I moved to Bergen"); the memory services merge what is already
    remembered and let a new fact supersede the one it contradicts. "I don't like X
    anymore" deletes "Likes X".
    """
    today = today or date.today()
    text = plain_text(text)  # what a reader sees: `I love **hiking**` likes hiking
    proposals = [p for s in _SENTENCE.split(text) if s.strip() for p in _scan(s.strip(), today)]
    contents = dict(existing)
    ops: list[MemoryOp] = []
    claims: dict[tuple[str, str], int] = {}  # a claim, or a slot -> the op that says it
    for p in proposals:
        if p.delete:
            target = _find(existing, "Likes", p.obj)
            if target is not None and all(op.memory_id != target for op in ops):
                ops.append(MemoryOp("delete", contents[target], p.kind, p.importance, target))
            continue
        claim = slots.claim(p.content)
        key = (claim.slot, "") if claim.slot else ("", claim.value)
        op = MemoryOp(
            "add", p.content, p.kind, p.importance, None, p.preference, happened_on=p.happened_on
        )
        if key in claims:
            ops[claims[key]] = op
            continue
        claims[key] = len(ops)
        ops.append(op)
    return ops
