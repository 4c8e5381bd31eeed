"""A hello opens a message; what follows it is what the offline engine answers.

"Hi! I just got a new puppy named Biscuit." is news about a puppy, met gladly after a short
hello back; a hello with a sad feeling after it gets sympathy and no cheery hello; a hello
with nothing more ("hey!!") is greeted, and "how are you?" is answered, in every style.
"""

import pytest

from mybella.providers.llm.offline import VOICES, Opening, _opening
from mybella.providers.tests.offline_helpers import STYLES, reply, used


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Hi! I just got a new puppy named Biscuit.", "your new puppy named Biscuit"),
        ("Hey there, we adopted a kitten!", "your new kitten"),
        ("hii, I passed my driving test!", "your driving test"),
    ],
)
def test_good_news_after_a_hello_is_met_gladly(style, text, said):
    voice = VOICES[style]
    answer = reply(text, style)
    assert said in answer and used(voice.glad, answer), answer
    assert used(voice.hello, answer), answer
    assert not used(voice.greet, answer), answer


@pytest.mark.parametrize("style", STYLES)
def test_good_news_without_a_topic_after_a_hello_cheers(style):
    voice = VOICES[style]
    answer = reply("Good morning! Guess what, I got the job!", style)
    assert answer.startswith("Good morning"), answer  # the user's hello, said back
    assert used(voice.cheer, answer) and used(voice.savour, answer), answer
    assert "Guess" not in answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Hey there, what do you think about learning the piano?", "the piano"),
        ("Hiya! My sister is getting married.", "your sister"),
        ("hey how's it going? I moved to Berlin last week", "your move to Berlin"),
    ],
)
def test_a_question_or_news_after_a_hello_is_answered(style, text, said):
    voice = VOICES[style]
    answer = reply(text, style)
    assert said in answer, answer
    assert not used(voice.greet, answer) and not used(voice.well, answer), answer
    assert answer.count("?") <= 1


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text",
    [
        "Hey, I'm feeling pretty down today",
        "Hi. I've been really low lately",
        "Hi! I'm so stressed about my exam",
        "Hey Bella, I miss my grandma so much",
    ],
)
def test_a_sad_feeling_after_a_hello_gets_sympathy_not_a_cheery_hello(style, text):
    voice = VOICES[style]
    answer = reply(text, style)
    assert used(voice.comfort + voice.hard + voice.longing, answer), answer
    assert not used(voice.hello + voice.greet + voice.glad + voice.statement, answer), answer
    assert "pretty" not in answer and "I've" not in answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "hey!!",
        "Hello there",
        "Good evening",
        "Morning!",
        "Hi Bella!",
        "hi :)",
        "Hi, I'm back!",
        "hello? anyone there?",
    ],
)
def test_a_hello_with_nothing_more_is_greeted(style, text):
    voice = VOICES[style]
    answer = reply(text, style)
    assert used(voice.greet, answer), answer
    assert not used(voice.hello + voice.statement + voice.ack, answer), answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["hello how are you", "how are you?", "Hey Bella, how are you?", "Yo, what's up"]
)
def test_how_are_you_is_answered_and_asked_back(style, text):
    voice = VOICES[style]
    answer = reply(text, style)
    assert used(voice.well, answer), answer
    assert not used(voice.wonder + voice.question, answer), answer
    assert answer.count("?") == 1


def test_a_short_reply_has_no_hello_back():
    answer = reply("Hi! I got the job!", "warm", preferences={"reply_length": "short"})
    assert not used(VOICES["warm"].hello, answer)
    assert used(VOICES["warm"].cheer, answer)


@pytest.mark.parametrize(
    ("text", "opening"),
    [
        ("Hi Bella! I got a puppy", Opening("Hi", "", "I got a puppy")),
        ("hey bella how are you", Opening("hey", "well", "")),
        ("Hey Sam, I'm sad", Opening("Hey", "", "I'm sad")),
        ("How are you, Bella? I passed!", Opening("", "well", "I passed!")),
        ("Hey, Monday was awful", Opening("Hey", "", "Monday was awful")),
        ("Hey there's a problem", Opening("Hey", "", "there's a problem")),
        ("Morning runs are the best", Opening("", "", "Morning runs are the best")),
        ("history", Opening("", "", "history")),
        ("Yoga was great", Opening("", "", "Yoga was great")),
        ("What's up with my phone?", Opening("", "", "What's up with my phone?")),
    ],
)
def test_the_opening_is_read_off_the_front_only(text, opening):
    assert _opening(text, "Bella") == opening
