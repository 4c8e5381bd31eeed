"""Splitting a reply into sentences, so speech can start at the first one.

The rule lives here alone, in core, so that chat can mark the sentences of a streamed reply
(the `sentence` events) and voices can speak them; the page speaks the sentences the server
sends. The cases are a table, mybella/tests/data/sentences.json.

A sentence ends at `.`, `!`, `?` or an ellipsis (with any closing quotes or brackets and
emoji after it) followed by whitespace, and at every line break, except:

- after a known abbreviation ("Dr.", "e.g.") or a single letter (an initial: "J. Smith");
- a full stop or an ellipsis followed by a lower-case letter ("Well... maybe");
- decimals ("3.14") never qualify: no whitespace follows their point.

A sentence longer than `max_chars` is cut before it: at its last comma, semicolon, colon
or dash past a third of the bound, else at its last space, else at the bound.
"""

import re

MAX_SENTENCE_CHARS = 240

ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "no",
        "fig",
        "ca",
        "cf",
        "al",
    ]
)
_EMOJI = "(?:[\U0001f000-\U0001faff\u2600-\u27bf]|\ufe0f|\u200d)"
_BOUNDARY = re.compile(rf"([.!?…]+)([\"'”’)\]]*)((?:[ \t]*{_EMOJI}+)*)(?=\s|$)")
_SOFT_BREAK = re.compile(r"[,;:—–]\s")
_MARKS = re.compile(r"[*_`~#]+")


def speakable(text: str) -> str:
    """Return `text` without the marks of emphasis and code a voice would read out."""
    return _MARKS.sub("", text)


def _ends_sentence(text: str, start: int, match: re.Match) -> bool:
    after = text[match.end() :].lstrip()
    if not after:
        return False  # the next words decide, and they have not come yet
    punct = match.group(1)
    if punct in (".", "...", "…") and after[0].islower():
        return False
    if punct == ".":
        word = text[start : match.start(1)].rsplit(None, 1)[-1:] or [""]
        word = word[0].lstrip("(\"'“‘").lower()
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
    return True


def _bounded(sentence: str, max_chars: int) -> list[str]:
    pieces = []
    while len(sentence) > max_chars:
        head = sentence[: max_chars + 1]
        breaks = (m.end() for m in _SOFT_BREAK.finditer(head) if m.end() > max_chars // 3)
        cut = max(breaks, default=0)
        if not cut:
            cut = head.rfind(" ") + 1
        if cut <= 0:
            cut = max_chars
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    return [*pieces, sentence] if sentence else pieces


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Return `text`'s sentences in order, none longer than `max_chars`.

    The last one may be unfinished when `text` is still arriving: a boundary counts only
    once the next word has begun.
    """
    sentences: list[str] = []
    for line in text.split("\n"):
        start = 0
        for match in _BOUNDARY.finditer(line):
            if _ends_sentence(line, start, match):
                sentences.extend(_bounded(line[start : match.end()].strip(), max_chars))
                start = match.end()
        sentences.extend(_bounded(line[start:].strip(), max_chars))
    return [s for s in sentences if s]


class SentenceStream:
    """Tell the sentences of a text that arrives in pieces, each once, as each completes.

    A sentence is complete once the next has begun (see `split_sentences`); `finish()`
    gives what remains. Sentences are those of the text as spoken (`speakable`), so each
    can be handed to a voice as it is.
    """

    def __init__(self, max_chars: int = MAX_SENTENCE_CHARS) -> None:
        self.max_chars = max_chars
        self._pieces: list[str] = []
        self._told = 0

    def feed(self, piece: str) -> list[str]:
        """Add the next piece of text; return the sentences it completed."""
        self._pieces.append(piece)
        return self._tell(final=False)

    def finish(self) -> list[str]:
        """Return the sentences not told yet, the last one included."""
        return self._tell(final=True)

    def _tell(self, *, final: bool) -> list[str]:
        sentences = split_sentences(speakable("".join(self._pieces)), self.max_chars)
        ready = sentences if final else sentences[:-1]
        told, self._told = ready[self._told :], max(self._told, len(ready))
        return told


def leading_sentences(text: str, max_chars: int) -> str:
    """Return as many whole sentences from the start of `text` as fit in `max_chars`."""
    kept, size = [], 0
    for sentence in split_sentences(text):
        size += len(sentence) + (1 if kept else 0)
        if size > max_chars:
            break
        kept.append(sentence)
    return " ".join(kept)
