"""A question turned back at the persona ("…, and you?", "How was yours?") is answered by it.

The user answers the persona's "how are you?" and asks back ("Good, thanks, and you?"), or
tells of their weekend and asks about the persona's ("I had a great weekend! How was
yours?"): the offline engine reads that question off the end of the message through the same
`_ASKED` table, answers as the persona (its weekend, how it is), asks one question, and never
takes "yours" or "you" for a topic. Sadness, longing, a goodbye or an introduction still come
first.
"""

import re

import pytest

from mybella.providers.llm.offline import VOICES, Opening, _opening
from mybella.providers.tests.offline_helpers import STYLES, reply, used
from mybella.providers.tests.test_offline_asked import answers_as_itself, asked_lines


def no_topic_of_you(style: str, answer: str) -> bool:
    """Say whether `answer` takes neither "you" nor "yours" for a topic, nor wonders."""
    voice = VOICES[style]
    topic = re.search(r"(?i)\babout (?:you|yours)\b(?!\s*[?!])", answer)  # not "What about you?"
    return not topic and not used(voice.question + voice.wonder + voice.statement, answer)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("I had a great weekend! How was yours?", "weekend"),
        ("I had a great weekend, and you?", "weekend"),
        ("I'm having a lovely morning, what about yours?", "morning"),
    ],
)
def test_good_news_then_a_question_back_is_glad_and_answers_its_own(style, text, span):
    voice = VOICES[style]
    answer = reply(text, style)
    assert used(voice.glad, answer) and re.search(rf"your (?:great|lovely) {span}", answer), answer
    assert used(voice.day, answer) and re.search(rf"\b{span}\b", answer), answer
    assert answer.count("?") == 1 and no_topic_of_you(style, answer), answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text",
    [
        "Good, thanks, and you?",
        "Not bad, you?",
        "I'm good thanks, how about you?",
        "Pretty good! What about you?",
        "Hey Bella! Fine, thank you. And you?",
    ],
)
def test_a_reply_to_how_are_you_asked_back_is_answered_with_how_it_is(style, text):
    voice = VOICES[style]
    answer = reply(text, style)
    assert used(voice.well, answer) and not used(voice.thanks, answer), answer
    assert answer.count("?") == 1 and no_topic_of_you(style, answer), answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["What about you?", "And you?", "How about you?", "yours?", "and u", "You?"]
)
def test_a_question_back_alone_is_answered_as_the_persona(style, text):
    voice = VOICES[style]
    answer = reply(text, style)  # nothing asked before: how it is
    assert used(voice.well, answer) and answer.count("?") == 1, answer
    assert no_topic_of_you(style, answer), answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("asked", "kind", "said"),
    [
        ("Hi! How was your weekend?", "day", "weekend"),
        ("What's your favourite movie?", "favourite", "my favourite movie"),
        ("Do you like music?", "likes", "music"),
    ],
)
@pytest.mark.parametrize("text", ["What about you?", "And you?", "How about yours?"])
def test_a_question_back_answers_what_the_persona_had_asked(style, asked, kind, said, text):
    """The persona's previous turn says what "you" is asked about."""
    voice = VOICES[style]
    history = [{"role": "assistant", "content": asked}]
    answer = reply(text, style, history=history)
    assert used(getattr(voice, kind), answer) and said in answer, answer
    assert answers_as_itself(answer) and no_topic_of_you(style, answer), answer


@pytest.mark.parametrize("style", STYLES)
def test_its_favourite_asked_back(style):
    answer = reply("My favourite movie is Alien, what's yours?", style)
    assert used(VOICES[style].favourite, answer) and "my favourite movie" in answer, answer
    assert answer.count("?") == 1 and "about yours" not in answer, answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("I'm so stressed about my exam, and you?", ("hard", "comfort")),
        ("I miss my grandma so much, what about you?", ("longing",)),
        ("Good night, and you?", ("farewell",)),
        ("I'm Tom, and you?", ("meet",)),
    ],
)
def test_what_comes_before_a_question_back_keeps_its_precedence(style, text, kinds):
    voice = VOICES[style]
    answer = reply(text, style)
    assert used(tuple(line for kind in kinds for line in getattr(voice, kind)), answer), answer
    assert not used(asked_lines(style), answer), answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text",
    ["Did I tell you?", "Thank you", "What about your sister?", "How about you come over?"],
)
def test_you_in_another_question_asks_nothing_back(style, text):
    assert not used(asked_lines(style), reply(text, style))


@pytest.mark.parametrize(
    ("text", "read"),
    [
        (
            "I had a great weekend! How was yours?",
            ("", "day", "I had a great weekend!", "weekend", True),
        ),
        ("Good, thanks, and you?", ("", "well", "Good, thanks", "", True)),
        ("What about you, Bella?", ("", "well", "", "")),
        ("Hey! Not much, you?", ("Hey", "well", "Not much", "", True)),
        ("How are you? I'm great, what about you?", ("", "well", "I'm great", "", True)),
        ("Did I tell you?", ("", "", "Did I tell you?", "")),
    ],
)
def test_the_question_back_is_read_off_the_end(text, read):
    """Its hello, what it asks of the persona, the rest, what it is about, and whether the
    question came after what they told."""
    assert _opening(text, "Bella") == Opening(*read)
