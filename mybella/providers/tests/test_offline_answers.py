"""The offline engine answers questions about the user from memories about the user."""

import pytest

from mybella.providers.llm import Prompt, RecalledItem
from mybella.providers.llm.offline import OfflineProvider

MEMORIES = (
    "Their name is Robin",
    "Lives in Lisbon",
    "Their dog is called Pixel",
    "Their birthday is on 3 March",
    "Works as a nurse",
    "Is from Porto",
    "Their sister is called Ana",
    "They have an exam on 4 December 2026",
    "Likes jazz",
)


def ask(text: str, memories=MEMORIES, messages=(), **fields) -> str:
    recalled = tuple(RecalledItem(kind="memory", content=m) for m in memories) + tuple(
        RecalledItem(kind="message", content=m) for m in messages
    )
    prompt = Prompt(
        messages=[{"role": "user", "content": text}],
        persona_name="Isabella",
        user_message=text,
        recalled=recalled,
        preferences={"reply_length": "short"},
        **fields,
    )
    return OfflineProvider().reply(prompt)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (
            "What's my dog's name, and where do I live?",
            "Your dog is called Pixel, and you live in Lisbon.",
        ),
        ("What's my name?", "Your name is Robin."),
        ("When is my birthday?", "Your birthday is on 3 March."),
        ("Do you remember my birthday?", "Your birthday is on 3 March."),
        ("Where do I work?", "You work as a nurse."),
        ("What do I do for a living?", "You work as a nurse."),
        ("Where am I from?", "You are from Porto."),
        ("Who is my sister?", "Your sister is called Ana."),
        ("When is my exam?", "You have an exam on 4 December 2026."),
        ("What music do I like?", "You like jazz."),
        ("what's my pet called?", "Your dog is called Pixel."),
    ],
)
def test_questions_about_the_user_are_answered_in_the_second_person(question, answer):
    assert ask(question) == answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What's my cat's name?", "You haven't told me your cat's name yet."),
        ("Who is my best friend?", "You haven't told me who your best friend is yet."),
        ("Where do I live?", "You haven't told me where you live yet."),
        (
            "What's my dog's name, and where do I live?",
            "You haven't told me your dog's name or where you live yet.",
        ),
    ],
)
def test_what_it_was_never_told_it_says_it_does_not_know(question, answer):
    memories = [m for m in MEMORIES if "Lisbon" not in m and "Pixel" not in m]
    assert ask(question, memories) == answer


def test_half_known_is_answered_half():
    memories = ["Lives in Lisbon"]
    assert ask("What's my dog's name, and where do I live?", memories) == (
        "You live in Lisbon, but you haven't told me your dog's name yet."
    )


def test_past_messages_are_never_an_answer():
    """The persona's own replies and the user's questions are no memories of the user."""
    messages = [
        "I love hearing about your name. Something I remember: Hi Isabella.",
        "What's my dog's name, and where do I live?",
        "Your dog is called Rex, and you live in Oslo.",
    ]
    reply = ask("What's my dog's name, and where do I live?", memories=(), messages=messages)
    assert reply == "You haven't told me your dog's name or where you live yet."
    for message in messages:
        assert message not in reply
    # Nor woven into a reply as something remembered.
    reply = ask("I saw Rex in Oslo today", memories=(), messages=messages)
    assert "Rex" not in reply.replace("I saw Rex", "") and "remember" not in reply


@pytest.mark.parametrize(
    "text",
    [
        "What do you think about my plan?",
        "Where should I go tonight?",
        "What's your favourite colour?",
        "How are you?",
    ],
)
def test_questions_not_about_what_the_user_told_are_no_memory_questions(text):
    reply = ask(text)
    assert "haven't told me" not in reply
    assert not reply.startswith(("Your ", "You "))


@pytest.mark.parametrize(
    ("memory", "question", "answer"),
    [
        ("The user lives in Lisbon", "Where do I live?", "You live in Lisbon."),
        ("User's dog is named Max", "What's my dog's name?", "Your dog is named Max."),
        (
            "They're going to Porto in the week of 30 November 2026",
            "When am I going to Porto?",
            "You're going to Porto in the week of 30 November 2026.",
        ),
        ("Grew up in Leeds", "Where did I grow up?", "You grew up in Leeds."),
        ("Has two cats", "What pets do I have?", "You have two cats."),
    ],
)
def test_memories_are_said_to_the_user(memory, question, answer):
    assert ask(question, [memory]) == answer
