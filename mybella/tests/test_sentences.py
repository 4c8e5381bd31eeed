"""Sentence splitting (mybella.core.sentences), from a table of cases."""

import json
from pathlib import Path

import pytest

from mybella.core.sentences import SentenceStream, leading_sentences, speakable, split_sentences

TABLE = json.loads((Path(__file__).parent / "data" / "sentences.json").read_text())


@pytest.mark.parametrize(
    ("text", "expected"), [case[1:] for case in TABLE["cases"]], ids=[c[0] for c in TABLE["cases"]]
)
def test_split_sentences(text, expected):
    assert split_sentences(text, TABLE["max_chars"]) == expected


def test_no_piece_is_longer_than_the_bound():
    text = "Lorem ipsum, dolor sit amet; " * 40 + "x" * 500
    assert max(len(s) for s in split_sentences(text, 80)) <= 80


@pytest.mark.parametrize(
    ("max_chars", "expected"),
    [(100, "One two. Three four. Five."), (20, "One two. Three four."), (8, "One two."), (5, "")],
)
def test_leading_sentences_keeps_whole_sentences(max_chars, expected):
    assert leading_sentences("One two. Three four. Five.", max_chars) == expected


def test_speakable_drops_markdown_marks():
    assert (
        speakable("*smiles* Hi, **you**! `code` ~~no~~ # Title") == "smiles Hi, you! code no  Title"
    )


@pytest.mark.parametrize(
    ("text", "expected"), [case[1:] for case in TABLE["cases"]], ids=[c[0] for c in TABLE["cases"]]
)
def test_a_stream_tells_the_same_sentences_each_once_in_order(text, expected):
    """Fed a character at a time, the sentences told are those of the whole text."""
    stream = SentenceStream(TABLE["max_chars"])
    told = [s for char in text for s in stream.feed(char)] + stream.finish()
    assert told == split_sentences(speakable(text), TABLE["max_chars"])


def test_a_stream_tells_a_sentence_once_the_next_begins():
    stream = SentenceStream()
    assert stream.feed("Hello there, my friend.") == []
    assert stream.feed(" ") == []
    assert stream.feed("This") == ["Hello there, my friend."]
    assert stream.feed(" is *the* end.") == []
    assert stream.finish() == ["This is the end."]
    assert stream.finish() == []
