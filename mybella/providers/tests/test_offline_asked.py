"""Questions asked of the persona itself are answered by it, in its voice, then asked back.

"How was your day?", "What's your favourite movie?", "Are you real?": the offline engine
answers in the first person (its day, its likes, who it is, that it is an AI) and turns the
conversation back to the user with one question. A question about the user's own things
("How was my presentation?") is no question about the persona, and what follows the
question (sadness, a goodbye, a name, good news) is still answered first.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest

from mybella.providers.llm import RecalledItem
from mybella.providers.llm.offline import VOICES, Opening, _opening
from mybella.providers.tests.offline_helpers import STYLES, reply, used

ASKED = ("well", "day", "doing", "likes", "favourite", "about", "real", "fond")


def asked_lines(style: str) -> tuple[str, ...]:
    voice = VOICES[style]
    return tuple(line for kind in ASKED for line in getattr(voice, kind))


def answers_as_itself(answer: str) -> bool:
    """Say whether `answer` speaks of the persona (I, my) and ends on one question back."""
    first_person = re.search(r"\b(?:I|I'm|I've|I'd|my|My|me)\b", answer)
    return bool(first_person) and answer.count("?") == 1 and answer.rstrip("!").endswith("?")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("How was your day?", "day"),
        ("Hey, how was your weekend?", "weekend"),
        ("What did you do today?", "day"),
        ("How's your week going?", "week"),
        ("Did you sleep well?", "night"),
        ("So what have you been up to lately?", "week"),
        ("How's your day going, Bella?", "day"),
        ("did you have a good weekend", "weekend"),
        ("Tell me about your day", "day"),
    ],
)
def test_a_question_about_its_day_is_answered_as_its_own(style, text, span):
    voice = VOICES[style]
    answer = reply(text, style)
    assert used(voice.day, answer) and re.search(rf"\b{span}\b", answer), answer
    assert answers_as_itself(answer), answer
    assert "question" not in answer and not used(voice.wonder + voice.well, answer), answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["What are you up to?", "Ok, what are you doing right now?", "whatcha doing?"]
)
def test_what_it_is_doing_is_answered(style, text):
    answer = reply(text, style)
    assert used(VOICES[style].doing, answer) and answers_as_itself(answer), answer
    assert not used(VOICES[style].question + VOICES[style].wonder, answer), answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "thing"),
    [
        ("Do you like music?", "music"),
        ("Do you like to read?", "reading"),
        ("do u like anime", "anime"),
        ("are you into hiking", "hiking"),
    ],
)
def test_what_it_likes_is_answered(style, text, thing):
    answer = reply(text, style)
    assert used(VOICES[style].likes, answer) and thing in answer, answer
    assert answers_as_itself(answer) and "question" not in answer, answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("What's your favourite movie?", "my favourite movie"),
        ("Hi Bella! What's your favorite book?", "my favourite book"),
        ("Do you have a favourite song?", "my favourite song"),
        ("what are your favourite things to do", "my favourite things to do"),
        ("What kind of films do you like?", "my favourite kind of films"),
        ("What music do you listen to?", "my favourite music"),
    ],
)
def test_its_favourite_is_answered(style, text, said):
    answer = reply(text, style)
    assert used(VOICES[style].favourite, answer) and said in answer, answer
    assert answers_as_itself(answer) and "question" not in answer, answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text",
    [
        "Tell me about yourself",
        "Tell me something about yourself.",
        "Who are you?",
        "What's your name?",
    ],
)
def test_who_it_is_is_answered_with_its_name_and_traits(style, text):
    voice = VOICES[style]
    answer = reply(text, style, traits=("Warm", "curious", "Loves cats", "bold", "kind"))
    assert used(voice.about, answer) and "Bella" in answer, answer
    assert used(voice.nature, answer) and "warm, curious, and bold" in answer, answer
    assert "Loves cats" not in answer and "loves cats" not in answer  # a phrase is no trait
    assert answers_as_itself(answer), answer
    plain = reply(text, style)  # no traits: no sentence about them
    assert used(voice.about, plain) and not used(voice.nature, plain), plain


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text",
    ["Are you real?", "are u even human", "Am I talking to a bot?", "Seriously, is this an AI?"],
)
def test_whether_it_is_real_is_answered_honestly(style, text):
    answer = reply(text, style)
    assert used(VOICES[style].real, answer) and re.search(r"\bAI\b", answer), answer
    assert answer.count("?") == 1, answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text", ["What do you think of me?", "Do you like me?", "How do you feel about me?"]
)
def test_what_it_thinks_of_the_user_is_answered(style, text):
    answer = reply(text, style)
    assert used(VOICES[style].fond, answer) and answer.count("?") == 1, answer


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "text",
    [
        "How was my presentation?",
        "What should I cook tonight?",
        "Do you like my new haircut?",
        "What do you think about learning the piano?",
        "What's my favourite colour?",
        "Did I tell you about my weekend?",
        "What are you talking about?",
        "Are you sure?",
    ],
)
def test_a_question_about_the_users_own_things_is_not_about_the_persona(style, text):
    assert not used(asked_lines(style), reply(text, style))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("How was your day? I'm so stressed about my exam", ("comfort", "hard")),
        ("How was your weekend? I miss my grandma so much", ("longing",)),
        ("Did you sleep well? Good night!", ("farewell",)),
        ("What's your name? I'm Tom", ("meet",)),
        ("How was your weekend? I got the job!", ("cheer",)),
    ],
)
def test_what_follows_a_question_to_the_persona_is_answered_first(style, text, kinds):
    voice = VOICES[style]
    answer = reply(text, style)
    assert used(tuple(line for kind in kinds for line in getattr(voice, kind)), answer), answer
    assert not used(asked_lines(style), answer), answer


@pytest.mark.parametrize("style", STYLES)
def test_the_same_question_asked_again_gets_another_line(style):
    history: list[dict] = []
    replies = []
    for text in ("How was your day?", "What's your favourite movie?", "How was your day?"):
        answer = reply(text, style, history=history)
        replies.append(answer)
        history += [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]
    assert used(VOICES[style].day, replies[0]) and used(VOICES[style].day, replies[2])
    assert replies[0] != replies[2]


@pytest.mark.parametrize("style", STYLES)
def test_each_answer_about_itself_asks_back_once(style):
    """Every line answering a question about the persona ends on its one question back."""
    voice = VOICES[style]
    for kind in ASKED:
        for line in getattr(voice, kind):
            assert line.count("?") == 1 and line.rstrip("!").endswith("?"), line
            # It speaks of itself ("Doing fine, thanks. You?" may leave the "I" out).
            assert kind == "well" or re.search(r"\b(?:I|I'm|I've|my|My|me)\b", line), line
    assert all("?" not in line for line in voice.nature)


@pytest.mark.parametrize("style", STYLES)
def test_a_long_reply_about_itself_gives_no_advice(style):
    answer = reply("What's your favourite movie?", style, preferences={"reply_length": "long"})
    assert used(VOICES[style].favourite, answer) and not used(VOICES[style].extra, answer)


@pytest.mark.parametrize("text", ["How was your weekend?", "Hello, how are you?"])
def test_after_a_long_gap_it_answers_and_asks_one_question(text):
    now = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    answer = reply(
        text,
        "warm",
        now=now,
        last_talked_at=now - timedelta(days=30),
        recent=(RecalledItem(kind="memory", content="Is going to Porto next week"),),
    )
    assert answer.startswith("It's been a while") and answer.count("?") == 1, answer


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Hey, how was your weekend?", ("Hey", "day", "", "weekend")),
        ("Do you like to swim? I do", ("", "likes", "I do", "swimming")),
        ("How are you? What's your favourite food?", ("", "favourite", "", "food")),
        (
            "What's your favourite thing about me?",
            ("", "", "What's your favourite thing about me?", ""),
        ),
    ],
)
def test_the_question_to_the_persona_is_read_off_the_front(text, read):
    """Its hello, what it asks of the persona, the rest, and what the question is about."""
    assert _opening(text, "Bella") == Opening(*read)
