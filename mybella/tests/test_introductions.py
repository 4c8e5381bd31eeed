"""One rule says what is a name a user gives: the offline engine greets it, memory keeps it."""

import pytest

from mybella.core.introductions import introduced_name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("I'm Tom, I just moved to Berlin and I work as a nurse", "Tom"),
        ("I am Tom", "Tom"),
        ("I'm Tom.", "Tom"),
        ("Hi, I'm Tom!", "Tom"),
        ("I'm Tom and I'm a teacher", "Tom"),
        ("my name is tom", "Tom"),
        ("my name's zoë", "Zoë"),
        ("My name is Ana Lucia Reyes and I live in Leeds", "Ana Lucia Reyes"),
        ("call me Tom", "Tom"),
        ("Hi! Call me Sam, by the way", "Sam"),
        ("I'm called Robin and I live in Leeds", "Robin"),
        ("Okay. I'm Дмитрий", "Дмитрий"),  # a script with capitals
        ("I'm 張偉", "張偉"),  # a script without
        ("I'm Tom from Leeds", "Tom"),
        ("Hey Bella, I'm Tom", "Tom"),
        ("Good Morning Bella, I'm Tom", "Tom"),
        ("I go by Jo", "Jo"),
        ("I'm Jean-Luc", "Jean-Luc"),
        # A word that is no name after "I'm" is one when announced, with a capital.
        ("My name is Brown", "Brown"),
        ("my name is Sam Brown", "Sam Brown"),
        ("I'm called Happy", "Happy"),
    ],
)
def test_a_name_given_is_read(text, name):
    intro = introduced_name(text)
    assert intro is not None
    assert intro.name == name
    assert text[intro.start : intro.end].lower().endswith(name.lower())


@pytest.mark.parametrize(
    "text",
    [
        "I'm British",
        "I'm Happy",
        "I'm tired",
        "I'm Sorry",
        "I'm English",
        "I'm Japanese",
        "I'm Starving!",
        "I'm Exhausted",
        "I'M TIRED",  # capitals everywhere tell nothing
        "I Am Going To The Store",
        "I'm Going to the store",  # the clause goes on: no name
        "i'm sam",  # lower case after "I'm" is too often no name
        "Don't call me Sam",
        "call me crazy but I trust you",
        "Call me later",
        "My name is not important",
        "Ich bin Tom",
        "I'm LOL",
        "I'm ADHD",
        "I'm Autistic",
        "I'm Irish-American",
        "I'm called to serve",
        "I go by bus",
        "I'm Back from Paris",
        "I'm Black",
        "I'm Brown",
        "my name is weird",  # no capital: said of the name, not the name
        "My name is Not important",  # a grammatical word, whatever its case
        "MY NAME IS NOT IMPORTANT",
    ],
)
def test_what_is_no_name_is_not_read_as_one(text):
    assert introduced_name(text) is None


def test_the_span_is_the_introduction_in_the_whole_text():
    text = "Hello there. I'm Tom, I just moved"
    intro = introduced_name(text)
    assert intro is not None
    assert text[intro.start : intro.end] == "I'm Tom"
    assert intro.first == "Tom"
