"""The offline engine answers what the user feels about what they say, in every style.

Negative about a topic gets the difficulty acknowledged and a gentle question, never "I love
hearing about"; good news gets a glad line; a negation turns the feeling around; a neutral
message stays a plain statement.
"""

import re

import pytest

from mybella.providers.llm.offline import VOICES, _feeling, _topic
from mybella.providers.tests.offline_helpers import STYLES, reply, used

NEGATIVE = [
    ("I work as an accountant and I hate it", "your work as an accountant"),
    ("I hate my job", "your job"),
    ("my exam went badly", "your exam"),
    ("I can't stand my boss", "your boss"),
    ("ugh, the commute is killing me", "the commute"),
    ("my cat is sick", "your cat"),
    ("I'm not happy with my landlord", "your landlord"),
    ("I never liked my old school", "your old school"),
    ("I had a long day at work", "work"),
    ("long week at the office, ugh", "the office"),
]
POSITIVE = [
    ("I love my new flat", "your new flat"),
    ("I passed my driving test", "your driving test"),
    ("I can't wait for the concert", "the concert"),
    ("I just got a new puppy named Biscuit", "your new puppy named Biscuit"),
    ("We adopted a kitten called Miso!", "your new kitten called Miso"),
    ("I bought a new car today", "your new car"),
]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("text", "topic"), NEGATIVE)
def test_a_negative_feeling_about_a_topic_is_met_with_sympathy(style, text, topic):
    voice = VOICES[style]
    said = reply(text, style)
    assert used(voice.hard, said), said
    assert topic in said
    assert not used(voice.statement, said) and not used(voice.glad, said)
    assert "love hearing" not in said
    assert said.count("?") == 1, said  # asks gently, once


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("text", "topic"), POSITIVE)
def test_good_news_about_a_topic_is_met_gladly(style, text, topic):
    voice = VOICES[style]
    said = reply(text, style)
    assert used(voice.glad, said) and topic in said, said
    assert not used(voice.hard, said) and not used(voice.comfort, said)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text", ["I got the job!", "yay, I got promoted"])
def test_good_news_without_a_topic_cheers(style, text):
    said = reply(text, style)
    assert used(VOICES[style].cheer, said), said


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["I got the job!", "I passed my driving test", "I'm Tom and I love my new flat"]
)
def test_good_news_ends_on_a_question_that_fits_it(style, text):
    """Not "I'm so glad! What made you think of it?": a question about the good news."""
    voice = VOICES[style]
    said = reply(text, style)
    assert used(voice.savour, said), said
    assert not used(voice.follow, said) and said.count("?") == 1, said


RELIEF = [
    ("I'm not worried about the exam", "the exam"),
    ("I don't hate my job", "your job"),
    ("I'm not nervous about the interview anymore", "the interview"),
]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("text", "topic"), RELIEF)
def test_a_worry_denied_is_met_calmly_not_celebrated(style, text, topic):
    voice = VOICES[style]
    said = reply(text, style)
    assert used(voice.relief, said) and topic in said, said
    assert not used(voice.glad, said) and not used(voice.cheer, said), said
    assert not used(voice.hard, said) and said.count("?") == 1, said


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text", ["not bad at all", "I don't hate it", "I'm not sad anymore"])
def test_a_worry_denied_without_a_topic_is_met_calmly(style, text):
    voice = VOICES[style]
    said = reply(text, style)
    assert used(voice.eased, said), said
    assert not used(voice.cheer, said) and "hate" not in said and said.count("?") == 1, said


MISSED = [
    ("I miss my grandma", "your grandma"),
    ("I'm missing home so much", "home"),
    ("I really miss living by the sea", "living by the sea"),
    ("I miss my mum and dad", "your mum and dad"),
    ("I'm so sad, I miss her", "her"),
]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("text", "missed"), MISSED)
def test_missing_someone_is_met_warmly_naming_them(style, text, missed):
    voice = VOICES[style]
    said = reply(text, style)
    assert used(voice.longing, said) and re.search(rf"(?i)\bmiss(?:ing)? {missed}\b", said), said
    assert not used(voice.statement, said) and said.count("?") == 1, said


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["I don't miss my ex", "I missed the bus", "I miss you", "Miss Lee was my teacher"]
)
def test_what_is_no_longing(style, text):
    assert not used(VOICES[style].longing, reply(text, style))


@pytest.mark.parametrize("style", STYLES)
def test_dread_of_a_day_names_the_day(style):
    said = reply("I'm dreading Monday", style)
    assert used(VOICES[style].hard, said) and "Monday" in said, said


@pytest.mark.parametrize(
    ("text", "feeling"),
    [
        ("I'm not happy", "negative"),
        ("I don't love my new flat", "negative"),
        ("not bad at all", "relief"),
        ("I don't hate it", "relief"),
        ("I'm not worried, and I love it", "positive"),
        ("I miss my grandma", "negative"),
        ("I don't miss my ex", ""),
        ("I'm dreading Monday", "negative"),
        ("I love it, but the commute is killing me", "negative"),
        ("I'm not sure, but I love it", "positive"),
        ("I went hiking in the mountains", ""),
        ("my sister is visiting", ""),
        ("I'm feeling pretty down today", "negative"),
        ("I've been so low lately", "negative"),
        ("I'm down for pizza", ""),
        ("I got a new phone but it's already broken", "negative"),
        ("I got a cold", ""),
    ],
)
def test_feeling_reads_negation_and_clauses(text, feeling):
    assert _feeling(text) == feeling


@pytest.mark.parametrize("style", STYLES)
def test_a_negated_feeling_is_turned_around(style):
    voice = VOICES[style]
    assert used(voice.comfort, reply("I'm not happy", style))
    assert used(voice.hard, reply("I don't love my new flat", style))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text", ["I went hiking in the mountains", "my sister is visiting"])
def test_a_neutral_statement_stays_a_statement(style, text):
    voice = VOICES[style]
    said = reply(text, style)
    assert used(voice.statement, said), said
    assert not used(voice.hard, said) and not used(voice.glad, said)


@pytest.mark.parametrize("style", STYLES)
def test_an_introduction_with_a_feeling_is_met_then_answered_in_tone(style):
    voice = VOICES[style]
    sad = reply("I'm Tom and I hate my job", style)
    assert "Tom" in sad and used(voice.hard, sad) and "your job" in sad, sad
    glad = reply("I'm Tom and I love my new flat", style)
    assert "Tom" in glad and used(voice.glad, glad) and "your new flat" in glad, glad
    stressed = reply("I'm Tom and I'm so stressed", style)
    assert "Tom" in stressed and used(voice.comfort, stressed), stressed


def test_feeling_words_are_no_topic():
    assert _topic("I'm dreading the exam") == "the exam"
    assert _topic("ugh, the commute is killing me") == "the commute"
    assert _topic("my exam went badly") == "your exam"
    assert _topic("I'm dreading Monday") == "Monday"  # a day names no one, but is a topic
    assert _topic("I'm feeling pretty down today") == ""
    assert _topic("Guess what, I got a new job at Google") == "your new job"


@pytest.mark.parametrize("style", STYLES)
def test_a_hard_line_is_not_said_twice_in_a_row(style):
    voice = VOICES[style]
    first = reply("I hate my job", style)
    history = [
        {"role": "user", "content": "I hate my job"},
        {"role": "assistant", "content": first},
    ]
    second = reply("I hate my job", style, history=history)
    lines = [line for line in voice.hard if used((line,), first)]
    assert lines and not used(tuple(lines), second), (first, second)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["I'm not happy", "I feel so stressed and tired", "I'm Tom and I'm sad"]
)
def test_comfort_asks_gently_not_with_the_chirpy_follow_up(style, text):
    voice = VOICES[style]
    said = reply(text, style)
    assert used(voice.comfort, said), said
    assert used(voice.gentle, said), said
    assert not used(voice.follow, said), said


@pytest.mark.parametrize("style", STYLES)
def test_a_goodbye_with_a_dislike_is_still_a_goodbye(style):
    said = reply("I hate that I have to go, good night", style)
    assert used(VOICES[style].farewell, said), said
    assert not used(VOICES[style].hard, said)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text", ["ok great", "awesome", "perfect"])
def test_an_acknowledgement_is_not_celebrated(style, text):
    said = reply(text, style)
    assert not used(VOICES[style].cheer, said) and not used(VOICES[style].glad, said), said


@pytest.mark.parametrize("style", STYLES)
def test_a_plural_topic_reads_well(style):
    said = reply("I'm sick of my neighbours", style)
    assert "your neighbours" in said
    assert "neighbours is" not in said and "neighbours has" not in said, said
