"""A user introducing themselves: "My name is Ana", "call me jo", "I'm Tom, I just moved…".

The rule lives here alone, in core, so that the offline reply engine (which greets the
name) and the memory rules (which keep it as the user's preferred name) agree on what is
a name. Two kinds of introduction:

- announced: "my name is X", "my name's X", "I'm called X": whatever follows is the name
  (in any case: "my name is sam"), unless it is a known non-name ("My name is not
  important"); a word that is no name after "I'm" is one here with a capital ("My name is
  Brown", but not "I'm Brown"): `not_a_name`;
- unannounced: "I'm X", "I am X", "I go by X", "call me X": X is no known adjective,
  nationality or state ("I'm British", "I'm Happy", "call me crazy") and ends its clause
  ("I'm Tom, I…", "I'm Tom and I…", "I'm Tom from Leeds", "call me Sam, by the way").
  Except after "call me", it must also look like a name: written with a capital (or in a
  script without capitals: "I'm 張偉"), not all in capitals ("I'm LOL", "I'm ADHD"), in a
  sentence whose capitals mean something (not "I'M TIRED" nor "I Am Going To The Store").
"""

import re
from dataclasses import dataclass

# Words that follow "I'm" or "call me" without being a name: states, adjectives,
# nationalities and faiths, fillers. Compared in lower case.
NOT_NAMES = frozenset(
    """fine tired ok okay sorry here good great back home done bored sad happy so not just very
    really also still going trying a an the no yes sure glad busy free sick ill alive awake
    alone lonely hungry thirsty cold hot new old ready late early away out in on up down fed
    afraid scared worried excited nervous confused lost stuck single married divorced engaged
    pregnant gay straight bi trans human online offline vegan vegetarian christian muslim jewish
    catholic buddhist hindu atheist protestant orthodox sikh mormon agnostic
    american african asian european canadian mexican brazilian italian indian australian
    russian german korean dutch french greek thai egyptian persian norwegian hungarian
    british english irish scottish welsh spanish polish swedish danish finnish turkish
    japanese chinese vietnamese portuguese lebanese nepalese sudanese congolese taiwanese
    austrian belgian swiss czech slovak croatian serbian romanian bulgarian ukrainian
    latvian lithuanian estonian icelandic argentinian argentine chilean peruvian colombian
    venezuelan cuban jamaican haitian nigerian ghanaian kenyan ethiopian moroccan algerian
    tunisian iranian iraqi syrian israeli palestinian saudi pakistani bangladeshi filipino
    filipina indonesian malaysian singaporean aussie yankee latino latina hispanic
    black white brown mixed
    serious kidding joking curious sleepy hungover drunk high well better worse fantastic
    amazing awesome cool nice bad terrible okey alright gonna about almost secret later
    tomorrow tonight today anytime maybe crazy whatever anything something if when whenever
    sometime soon now again baby babe honey and or is was monday tuesday wednesday
    thursday friday saturday sunday
    exhausted stressed anxious depressed upset angry mad furious annoyed frustrated hurt
    starving famished freezing sweating dying bored boring broke rich poor sober shy
    proud grateful thankful blessed sure certain positive unsure afraid ashamed
    embarrassed jealous lazy weird strange different normal fine fab wonderful lovely
    beautiful ugly tall short young older retired unemployed employed jobless homeless
    sorry sorta kinda literally totally honestly actually basically finally currently
    back off off-duty working studying sitting standing lying eating drinking reading
    watching listening thinking feeling doing getting having coming leaving trying
    hopeful hopeless helpless useless careful thoughtful nervous jealous famous
    overwhelmed heartbroken miserable lonely scared calm relaxed chill stoked thrilled
    ecstatic sick sickly healthy fit fat thin skinny
    autistic adhd bipolar disabled deaf blind introverted extroverted introvert extrovert
    nonbinary non-binary enby lesbian bisexual queer asexual pansexual cis male female
    bilingual pescatarian diabetic allergic dyslexic
    to for at by with from into as because every all off""".split()  # noqa: SIM905
)
# Of those, the grammatical words and fillers that are no name however it is introduced ("My
# name is not important", "my name is Actually Sam"); the others (Brown, Happy, Friday) are
# a name after an explicit naming phrase, written with a capital: see `not_a_name`.
NEVER_NAMES = NOT_NAMES & frozenset(
    """so not just very really also still going trying a an the no yes sure here back home done
    ok okay in on up down out away gonna about almost secret later tomorrow tonight today anytime
    maybe whatever anything something if when whenever sometime soon now again and or is was
    sorry sorta kinda literally totally honestly actually basically finally currently off to for
    at by with from into as because every all kidding joking working studying sitting standing
    lying eating drinking reading watching listening thinking feeling doing getting having
    coming leaving""".split()  # noqa: SIM905
)
_NAME = r"[^\W\d_][\w'’-]*"
# An announced name may run to three words ("My name is Ana Lucia Reyes").
_ANNOUNCED = (
    r"(?i:\bmy\s+name(?:\s+is|['’]s)|\bi(?:['’]m|\s+am|m)\s+called)\s+"
    r"(?P<full>" + _NAME + r"(?:\s+" + _NAME + r"){0,2})"
)
_CALL_ME = r"(?i:\bcall\s+me)\s+(?P<call>" + _NAME + ")"
_I_AM = r"(?i:\bi(?:['’]m|\s+am|m)|\bi\s+go\s+by)\s+(?P<bare>" + _NAME + ")"
INTRODUCTION = re.compile(f"{_ANNOUNCED}|{_CALL_ME}|{_I_AM}")
_NEGATED = re.compile(r"(?i:\b(?:don['’]?t|do\s+not|never|not|stop)\s+$)")
# What may follow an unannounced name: the clause's end, or a filler before it.
_CLAUSE_ENDS = re.compile(
    r"(?i:(?:\s+(?:now|here|too|btw|lol|haha+|by\s+the\s+way))*"
    r"(?:\s*(?:$|[,.!?;:…)]|\s[-–—])|\s+from\s+(?=[A-Z])"
    r"|\s+(?:but|because|though|although)\b"
    r"|\s+(?:and|so|then)\s+(?:i|im|i['’]m|i['’]ve|i['’]d|i['’]ll|my|you|it|we|this)\b))"
)


@dataclass(frozen=True)
class Introduction:
    """A name a user gave: `name` as written with capitals ("Ana Lucia Reyes"), `first`
    the one to call them by ("Ana"), `start`/`end` its span in the sentence."""

    name: str
    start: int
    end: int

    @property
    def first(self) -> str:
        return self.name.split()[0]


def not_a_name(word: str, *, explicit: bool = False) -> bool:
    """Say whether `word` is no name: one of NOT_NAMES ("I'm Black", "I'm Happy"). After an
    explicit naming phrase ("my name is", "is called", "named": `explicit`), such a word is a
    name when written with a capital and not all in capitals ("my dog is called Brown"),
    unless it is a grammatical word or a filler (NEVER_NAMES: "My name is Not important")."""
    low = word.lower().strip("'’")
    if low not in NOT_NAMES:
        return False
    capital = word[0].isupper() and not word.isupper()
    return not (explicit and capital and low not in NEVER_NAMES)


def _capitalised(word: str) -> str:
    return word[0].upper() + word[1:]


def _looks_like_name(word: str) -> bool:
    """A word in a script with capitals begins with one; one without ("張偉") is letters."""
    if word[0].isupper():
        return True
    return not word[0].islower() and word.replace("'", "").replace("-", "").isalpha()


def _capitals_mean_something(sentence: str, name: str) -> bool:
    """Capitals tell a name only where they are not everywhere: not in "I'M TIRED", nor in
    a sentence whose other words (past its first, besides "I" and the name) are three or
    more All Capitalised ("I Am Going To The Store"); "Hey Bella, I'm Tom" is fine."""
    words = re.findall(_NAME, sentence)
    cased = [w for w in words if w[0].isupper() or w[0].islower()]
    if cased and not any(c.islower() for w in cased for c in w):
        return False
    others = [
        w for w in cased[1:] if w != name and not re.fullmatch(r"(?i)i(?:['’](?:m|ve|ll|d))?|am", w)
    ]
    return len(others) < 3 or any(w[0].islower() for w in others)


def _read(found: re.Match, sentence: str) -> Introduction | None:
    if found["full"]:
        words = found["full"].split()
        if not_a_name(words[0], explicit=True) or len(words[0]) < 2:
            return None
        # Words after the first belong to the name only while they look like one.
        kept = words[:1]
        for word in words[1:]:
            if not word[0].isupper() or not_a_name(word, explicit=True):
                break
            kept.append(word)
        end = found.start("full") + len(" ".join(kept))
        names = " ".join(_capitalised(w.replace("’", "'")) for w in kept)
        return Introduction(names, found.start(), end)
    word, group = (found["call"], "call") if found["call"] else (found["bare"], "bare")
    parts = word.lower().strip("'’").split("-")  # "Irish-American"
    if any(part in NOT_NAMES for part in parts) or len(word) < 2:
        return None
    if not _CLAUSE_ENDS.match(sentence, found.end()):
        return None
    if group == "call":
        if _NEGATED.search(sentence[: found.start()]):
            return None  # "Don't call me Sam"
    elif (
        not _looks_like_name(word)
        or word.isupper()  # "I'm LOL", "I'm ADHD": an acronym, a shout
        or any(re.search(r"(?:ish|ese)$", part) for part in parts)
        or not _capitals_mean_something(sentence, word)
    ):
        return None
    return Introduction(_capitalised(word.replace("’", "'")), found.start(), found.end())


def introductions(sentence: str) -> list[Introduction]:
    """Return every introduction in one sentence, in order (usually none or one)."""
    return [intro for found in INTRODUCTION.finditer(sentence) if (intro := _read(found, sentence))]


_SENTENCE = re.compile(r"[^\n]+?(?:[.!?…]+(?=\s|$)|$)", re.MULTILINE)


def introduced_name(text: str) -> Introduction | None:
    """Return the first introduction in `text` (any number of sentences), or None; its
    span is in `text`."""
    for sentence in _SENTENCE.finditer(text):
        found = introductions(sentence.group())
        if found:
            first, offset = found[0], sentence.start()
            return Introduction(first.name, first.start + offset, first.end + offset)
    return None
