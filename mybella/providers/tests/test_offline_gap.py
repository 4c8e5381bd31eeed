"""The offline engine notices a long gap since the user last wrote, and asks about it."""

from datetime import UTC, datetime, timedelta

import pytest

from mybella.providers.llm import OfflineProvider, Prompt, RecalledItem
from mybella.providers.llm.offline import gap_line

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
GAP = "It's been a while! Last time you told me about Porto; how did that go?"


def make_prompt(text: str = "Hello!", *, days: float | None, recent=(), **fields) -> Prompt:
    last = None if days is None else NOW - timedelta(days=days)
    return Prompt(
        messages=[{"role": "user", "content": text}],
        persona_name="Bella",
        user_message=text,
        now=NOW,
        last_talked_at=last,
        recent=tuple(RecalledItem(kind="memory", content=content) for content in recent),
        turn=3,
        **fields,
    )


def test_after_a_long_gap_it_asks_about_the_newest_thing_it_remembers():
    prompt = make_prompt(
        "I cooked dinner", days=12, recent=["Is going to Porto next week", "Has a dog"]
    )
    reply = OfflineProvider().reply(prompt)
    assert GAP in reply
    assert reply.count("?") == 1  # the gap line is the reply's only question


def test_the_gap_is_measured_against_the_configured_threshold(settings):
    prompt = make_prompt(days=12, recent=["Is going to Porto next week"])
    settings.OFFLINE_GAP_DAYS = 14
    assert gap_line(prompt) == ("", None)
    assert "a while" not in OfflineProvider().reply(prompt)
    settings.OFFLINE_GAP_DAYS = 12
    assert gap_line(prompt)[0] == GAP
    settings.OFFLINE_GAP_DAYS = 0  # off
    assert gap_line(prompt) == ("", None)


@pytest.mark.parametrize("days", [None, 0.2, 6.9])
def test_no_gap_line_for_a_first_message_or_a_short_gap(days):
    prompt = make_prompt(days=days, recent=["Is going to Porto next week"])
    assert gap_line(prompt) == ("", None)
    assert "a while" not in OfflineProvider().reply(prompt)


@pytest.mark.parametrize(
    ("memory", "topic"),
    [
        ("My sister's wedding is on Saturday", "your sister's wedding"),
        ("The user's marathon is in March", "your marathon"),
        ("Flying to New York in May", "New York"),
    ],
)
def test_it_names_what_the_memory_is_about(memory, topic):
    line, item = gap_line(make_prompt(days=30, recent=[memory]))
    assert line == f"It's been a while! Last time you told me about {topic}; how did that go?"
    assert item is not None and item.content == memory


def test_without_a_memory_that_names_something_it_just_says_it_has_been_a_while():
    line, item = gap_line(make_prompt(days=30, recent=["likes tea"]))
    assert (line, item) == ("It's been a while; it's really good to hear from you again.", None)


def test_the_memory_it_asks_about_is_not_woven_in_twice():
    prompt = make_prompt(
        "Porto was lovely",
        days=30,
        recent=["Is going to Porto next week"],
        recalled=(RecalledItem(kind="memory", content="Is going to Porto next week"),),
    )
    reply = OfflineProvider().reply(prompt)
    assert GAP in reply
    assert "remember" not in reply.lower() and "mentioned" not in reply.lower()


def test_a_hello_after_a_long_gap_is_answered_by_the_gap_line():
    reply = OfflineProvider().reply(make_prompt("Hello!", days=30, recent=["Went to Porto"]))
    assert reply.startswith("It's been a while!")
