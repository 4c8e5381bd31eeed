"""The offline engine's own phrasing reads well turn after turn, in each persona's style.

Rules, checked for every style: a name given is greeted, a goodbye is a goodbye, a laugh or
an adjective is no topic, a question without a topic gets no "about that", no fixed line
comes back within a few replies, and one question a reply at most.
"""

import pytest

from mybella.providers.llm import Prompt
from mybella.providers.llm.offline import (
    REPEAT_WINDOW,
    VOICES,
    OfflineProvider,
    _topic,
    _was_said,
)
from mybella.providers.tests.offline_helpers import STYLES, reply, used


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("My name is Ana.", "Ana"),
        ("my name's zoë", "Zoë"),
        ("Hi! Call me Sam, by the way", "Sam"),
        ("I'm called Robin and I live in Leeds", "Robin"),
    ],
)
def test_a_name_given_is_met_not_echoed_as_a_topic(style, text, name):
    answer = reply(text, style, user_name="Ana")
    assert name in answer
    assert used(VOICES[style].meet, answer)
    assert "your name" not in answer
    assert answer.count("Ana") <= (2 if name == "Ana" else 1)  # not "…, Ana, Ana"


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["Good night!", "bye", "Okay, I have to go now.", "See you tomorrow", "Talk soon!"]
)
def test_a_goodbye_is_answered_with_a_goodbye(style, text):
    answer = reply(text, style)
    assert used(VOICES[style].farewell, answer)
    assert not used(VOICES[style].follow, answer)
    assert "night" not in answer.lower().replace("good night", "")


@pytest.mark.parametrize(
    "text",
    [
        "I need to go to the doctor on Monday.",
        "I had a good night's sleep.",
        "Did you see your friends?",
    ],
)
def test_going_somewhere_is_no_goodbye(text):
    for style in STYLES:
        assert not used(VOICES[style].farewell, reply(text, style))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text", ["haha", "hahaha", "lol", "LOOOL", "yeah", "hehe", "Wow"])
def test_a_laugh_or_a_yeah_is_acknowledged_not_echoed(style, text):
    answer = reply(text, style)
    assert text.lower() not in answer.lower()
    assert used(VOICES[style].ack, answer)


@pytest.mark.parametrize("style", STYLES)
def test_an_adjective_is_no_topic(style):
    answer = reply("I went hiking at the weekend and it was beautiful.", style)
    assert "beautiful" not in answer
    assert "the weekend" in answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["What should I cook tonight?", "What would you do?", "why though"]
)
def test_a_question_without_a_topic_is_no_question_about_that(style, text):
    answer = reply(text, style)
    assert used(VOICES[style].wonder, answer)
    assert not used(VOICES[style].question, answer)  # no "a question about that"
    assert answer.count("?") <= 1


@pytest.mark.parametrize("style", STYLES)
def test_fixed_lines_do_not_come_back_within_a_few_replies(style):
    """Twelve turns of small talk: no follow-up or opener comes back while another can say it."""
    said = [
        "I just moved to Lisbon.",
        "ok",
        "I've been learning the guitar.",
        "My sister is getting married.",
        "I went to the market.",
        "hmm",
        "My boss called me.",
        "I cooked the dinner.",
        "Nice.",
        "I watched the film.",
        "I read the book.",
        "I saw the ocean.",
    ]
    voice = VOICES[style]
    history: list[dict] = []
    replies: list[str] = []
    for text in said:
        answer = reply(text, style, history=history)
        for group in (voice.follow, voice.ack, voice.statement):
            # A line rests for REPEAT_WINDOW replies, or as long as its others can stand in.
            window = min(REPEAT_WINDOW, len(group) - 1)
            for line in group:
                if _was_said(line, [answer]) and window:
                    assert not _was_said(line, replies[-window:]), (line, replies, answer)
        replies.append(answer)
        history += [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]


def test_each_style_has_its_own_lines():
    """No two styles share a fixed line: a persona's voice shows in what it says."""
    lines = [line for voice in VOICES.values() for lines in vars(voice).values() for line in lines]
    assert len(lines) == len(set(lines))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["I just moved to Lisbon.", "What do you think about Lisbon?", "ok", "Thanks!"]
)
def test_a_reply_asks_one_question_at_most(style, text):
    assert reply(text, style).count("?") <= 1


@pytest.mark.parametrize("style", STYLES)
def test_a_hi_after_the_greeting_does_not_introduce_the_persona_again(style):
    """A conversation opened with the greeting: the user's "hi" gets a hello, not the greeting."""
    greeting = "Hi, I'm Isabella. I'm really glad you're here. How has your day been?"
    prompt = Prompt(
        messages=[{"role": "assistant", "content": greeting}, {"role": "user", "content": "hi"}],
        persona_name="Isabella",
        user_message="hi",
        communication_style=style,
        greeting=greeting,
        turn=0,  # the user's first message: the greeting is the persona's
    )

    answer = OfflineProvider().reply(prompt)

    assert "I'm Isabella" not in answer
    assert used(VOICES[style].greet, answer)


@pytest.mark.parametrize("style", STYLES)
def test_a_hi_in_a_conversation_without_the_greeting_is_met_by_it(style):
    greeting = "Hi, I'm Isabella. I'm really glad you're here. How has your day been?"
    assert reply("hi", style, greeting=greeting).startswith("Hi, I'm Isabella.")


@pytest.mark.parametrize("style", STYLES)
def test_an_introduction_is_met_and_what_else_was_said_picked_up(style):
    answer = reply("I'm Tom, I just moved to Berlin and I work as a nurse", style)
    assert used(VOICES[style].meet, answer)
    assert "Tom" in answer
    assert "your move to Berlin and your work as a nurse" in answer
    assert "about a nurse" not in answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text", ["I am Tom", "I'm Tom.", "Hi, I'm Tom!", "I'm Дмитрий"])
def test_i_am_and_a_name_is_an_introduction(style, text):
    answer = reply(text, style)
    assert used(VOICES[style].meet, answer)
    assert not used(VOICES[style].follow, answer)  # nothing else said: nothing to ask about


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("text", ["I'm British", "I'm Happy", "I'm tired", "I'M TIRED"])
def test_a_state_or_a_nationality_is_no_name_nor_a_topic(style, text):
    answer = reply(text, style)
    assert not used(VOICES[style].meet, answer)
    assert text.split()[-1].lower() not in answer.lower().replace("tired of", "")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("I work as a nurse", "your work as a nurse"),
        ("I'm working as a teacher now", "your work as a teacher"),
        ("I moved to Lisbon last year", "your move to Lisbon"),  # not "about year"
        ("We're moving to a new flat next month", "your move to a new flat"),
    ],
)
def test_what_the_user_did_is_said_back_as_theirs(text, said):
    assert said in reply(text, "warm")


@pytest.mark.parametrize("text", ["My friend Anna moved to Paris", "My sister works as a nurse"])
def test_what_someone_else_did_is_not_said_back_as_the_users(text):
    assert "your move" not in reply(text, "warm") and "your work" not in reply(text, "warm")


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Can you tell me about your family?", "my family"),  # said from the persona's side
        ("How is your sister?", "my sister"),
        ("I'm dreading July", "July"),  # a month, a name, after a determiner: no adverbs
        ("I really miss Italy", "Italy"),
        ("We went to the rally", "the rally"),
        ("I'm really tired", ""),
        ("Honestly I don't know", ""),
    ],
)
def test_the_topic_keeps_its_possessive_and_nouns_ending_in_ly(text, topic):
    assert _topic(text) == topic
