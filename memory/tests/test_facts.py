"""Facts that stick: what the offline rules notice, dates resolved from the message's own
day, contradictions that supersede, near-duplicates that merge, and junk never stored."""

import json
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from chat.tests.factories import ChatMessageFactory, ConversationFactory, MemoryFactory
from memory import selectors, services
from memory.extraction import extract_offline
from memory.extraction.dates import find_date
from memory.extraction.slots import claim
from memory.models import ConversationMemory, MemoryEvent
from memory.rules import is_junk
from memory.tasks import extract_memories
from personas.models import PersonaProfile

TODAY = date(2026, 11, 27)  # a Friday


def contents(text: str) -> list[str]:
    return [op.content for op in extract_offline(text, [], today=TODAY)]


# What the rules notice, kind by kind -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # pets and possessions with names
        ("I have a dog called Pixel", ["Their dog is called Pixel"]),
        ("I've got a little cat named miso.", ["Their cat is called Miso"]),
        ("my cat's name is Miso", ["Their cat is called Miso"]),
        ("My dog is called Rex and he is lovely", ["Their dog is called Rex"]),
        ("We have a guinea pig called Biscuit", ["Their guinea pig is called Biscuit"]),
        ("I have a car named Betsy", ["Their car is called Betsy"]),
        ("I have two cats", ["Has two cats"]),
        # news of a new one, as often told: adverbs before the verb, got/adopted/bought
        ("Hi! I just got a new puppy named Biscuit.", ["Their puppy is called Biscuit"]),
        ("We finally adopted a kitten called Mochi!", ["Their kitten is called Mochi"]),
        ("I've just adopted a cat named Luna", ["Their cat is called Luna"]),
        ("I recently bought a car named Betsy", ["Their car is called Betsy"]),
        ("We just adopted two cats", ["Has two cats"]),
        # family and friends with names
        ("my sister Ana is visiting", ["Their sister is called Ana"]),
        ("My best friend is Tom", ["Their best friend is called Tom"]),
        ("My husband's name is Joe", ["Their husband is called Joe"]),
        ("my mom, Maria, cooks on Sundays", ["Their mom is called Maria"]),
        ("I have a brother named Leo", ["Their brother is called Leo"]),
        # birthdays and dates
        ("My birthday is on March 3rd", ["Their birthday is on 3 March"]),
        ("my birthday's the 3rd of March", ["Their birthday is on 3 March"]),
        ("I was born on 3 March 1990", ["Their birthday is on 3 March"]),
        ("My sister's birthday is tomorrow", ["Their sister's birthday is on 28 November"]),
        # plans and events, with their dates written out
        (
            "I'm going to Porto next week",
            ["They're going to Porto in the week of 30 November"],
        ),
        ("I have an exam next Friday", ["They have an exam on 4 December"]),
        ("I'm starting a new job in two weeks", ["They're starting a new job on 11 December"]),
        ("I went to the dentist last Monday", ["They went to the dentist on 23 November"]),
        ("I'm flying to Berlin tomorrow!", ["They're flying to Berlin on 28 November"]),
        ("My exam is on Friday", ["Their exam is on 4 December"]),
        ("my sister's wedding is next month", ["Their sister's wedding is in December"]),
        ("My interview was yesterday", ["Their interview was on 26 November"]),
        # another year than the message's is written out
        ("I'm moving to Rome next year", ["They're moving to Rome in 2027"]),
        ("I'm moving to Rome in March", ["They're moving to Rome in March 2027"]),
        ("My wedding is on 5 June 2027", ["Their wedding is on 5 June 2027"]),
        ("I graduated in June 2019", ["They graduated in June 2019"]),
        # work
        ("I'm a nurse", ["Works as a nurse"]),
        ("I work as a teacher", ["Works as a teacher"]),
        ("I work at the hospital", ["Works at the hospital"]),
        # places
        ("I live in Lisbon", ["Lives in Lisbon"]),
        ("I grew up in Leeds", ["Grew up in Leeds"]),
        ("I'm from Porto", ["Is from Porto"]),
        # likes and dislikes
        ("I love jazz", ["Likes jazz"]),
        ("I hate my commute", ["Dislikes their commute"]),
        ("My favourite food is sushi", ["Their favourite food is sushi"]),
        # remember that …
        ("Remember that I'm allergic to peanuts", ["They're allergic to peanuts"]),
        ("Don't forget that my exam is on Monday", ["Their exam is on 30 November"]),
        # several at once
        (
            "My name is Robin, I live in Lisbon, and I have a dog called Pixel",
            ["Their name is Robin", "Lives in Lisbon", "Their dog is called Pixel"],
        ),
    ],
)
def test_the_rules_notice_each_kind_of_fact(text, expected):
    assert contents(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "What's my dog's name, and where do I live?",
        "Do I have a dog called Pixel?",
        "When is my birthday?",
        "Am I going to Porto next week?",
        "I have a question",
        "I'm tired today",
        "If I had a dog called Rex I'd walk him daily",
        "I'm going to see you tomorrow",
        "my dog is Rex's best friend",
        "I have a feeling",
        "My birthday is coming up",
        "I just got a headache",
        "I finally got a text from Ana",
        "Did you just get a dog named Rex?",
    ],
)
def test_questions_and_small_talk_are_no_facts(text):
    assert contents(text) == []


@pytest.mark.parametrize(
    ("said", "resolved", "precision"),
    [
        ("today", date(2026, 11, 27), "day"),
        ("tonight", date(2026, 11, 27), "day"),
        ("tomorrow", date(2026, 11, 28), "day"),
        ("yesterday", date(2026, 11, 26), "day"),
        ("the day after tomorrow", date(2026, 11, 29), "day"),
        ("next Friday", date(2026, 12, 4), "day"),
        ("on Friday", date(2026, 12, 4), "day"),  # said on a Friday: the next one
        ("this Friday", date(2026, 11, 27), "day"),
        ("on Monday", date(2026, 11, 30), "day"),
        ("last Monday", date(2026, 11, 23), "day"),
        ("in two weeks", date(2026, 12, 11), "day"),
        ("in 3 days", date(2026, 11, 30), "day"),
        ("two weeks ago", date(2026, 11, 13), "day"),
        ("next week", date(2026, 11, 30), "week"),
        ("last week", date(2026, 11, 16), "week"),
        ("next month", date(2026, 12, 1), "month"),
        ("in a month", date(2026, 12, 27), "month"),
        ("next year", date(2027, 1, 1), "year"),
        ("this weekend", date(2026, 11, 28), "day"),
        ("March 3rd", date(2026, 3, 3), "yearless"),
        ("the 3rd of March", date(2026, 3, 3), "yearless"),
        ("3 March 1990", date(1990, 3, 3), "day"),
        ("Dec 25, 2026", date(2026, 12, 25), "day"),
        ("2027-01-15", date(2027, 1, 15), "day"),
        ("in March", date(2027, 3, 1), "month"),
        ("in December", date(2026, 12, 1), "month"),
        ("last March", date(2025, 3, 1), "month"),
        ("June 2019", date(2019, 6, 1), "month"),
    ],
)
def test_relative_dates_resolve_from_the_day_of_the_message(said, resolved, precision):
    found = find_date(f"It is {said} for sure", TODAY)
    assert (found.day, found.precision) == (resolved, precision)


@pytest.mark.parametrize("text", ["nothing here", "February 30th", "in a while", "maybe"])
def test_no_date_is_made_up(text):
    assert find_date(text, TODAY) is None


def test_an_event_keeps_when_it_happens_as_well_as_when_it_was_said(user, luna):
    """ "Tomorrow" in a message written a week ago is the day after that message."""
    written = timezone.make_aware(datetime(2026, 3, 2, 18, 0))
    message = ChatMessageFactory(
        conversation=ConversationFactory(user=user, persona=luna),
        content="I have a job interview tomorrow.",
    )
    ChatMessageFactory._meta.model.objects.filter(pk=message.pk).update(created_at=written)
    extract_memories.call([message.id])
    memory = ConversationMemory.objects.get(user=user, persona=luna)
    assert memory.content == "They have a job interview on 3 March"
    assert memory.happened_on == date(2026, 3, 3)
    assert memory.kind == "event"
    assert memory.created_at.date() != memory.happened_on


# Contradictions supersede, near-duplicates merge -------------------------------------------


def _tell(user, persona, text: str) -> None:
    message = ChatMessageFactory(
        conversation=ConversationFactory(user=user, persona=persona), content=text
    )
    extract_memories.call([message.id])


@pytest.mark.parametrize(
    ("first", "then", "old", "new"),
    [
        ("I live in Lisbon", "I moved to Porto", "Lives in Lisbon", "Lives in Porto"),
        ("I work as a nurse", "I'm a teacher", "Works as a nurse", "Works as a teacher"),
        ("I work at Acme", "I work for Globex", "Works at Acme", "Works at Globex"),
        (
            "I have a dog called Pixel",
            "My dog's name is Rex",
            "Their dog is called Pixel",
            "Their dog is called Rex",
        ),
        (
            "My birthday is on March 3rd",
            "Actually my birthday is May 4",
            "Their birthday is on 3 March",
            "Their birthday is on 4 May",
        ),
        (
            "My boyfriend is called Sam",
            "My wife's name is Kim",
            "Their boyfriend is called Sam",
            "Their wife is called Kim",
        ),
        ("My name is Robin", "Call me Rob", "Their name is Robin", "Their name is Rob"),
        ("I love coffee", "I hate coffee", "Likes coffee", "Dislikes coffee"),
    ],
)
def test_a_contradicting_fact_supersedes_the_old_one(user, luna, first, then, old, new):
    """The old memory is kept, unchanged, with its history and a link to what replaced it;
    only the new one is active: not deleted, not duplicated."""
    _tell(user, luna, first)
    _tell(user, luna, then)
    replaced = ConversationMemory.objects.get(user=user, content=old)
    replacement = ConversationMemory.objects.get(user=user, content=new)
    assert replaced.superseded_by == replacement
    assert [m.content for m in selectors.memory_list(user=user, persona=luna)] == [new]
    assert [m.content for m in selectors.memory_list(user=user, persona=luna, superseded=True)] == [
        old
    ]
    history = list(replaced.events.order_by("created_at", "id").values_list("action", "actor"))
    assert history == [("created", "extractor"), ("superseded", "extractor")]
    assert replaced.events.get(action="superseded").content_after == new


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("My sister Ana is visiting", "My sister Eva called"),
        ("I love jazz", "I love tea"),
        ("I have an exam next Friday", "I have a party tomorrow"),
    ],
)
def test_facts_about_different_things_stay_side_by_side(user, luna, first, then):
    _tell(user, luna, first)
    _tell(user, luna, then)
    assert selectors.memory_list(user=user, persona=luna).count() == 2
    assert not ConversationMemory.objects.filter(superseded_by__isnull=False).exists()


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("I live in Lisbon.", "i live in lisbon!"),
        ("I have a dog called Pixel", "My dog's name is Pixel"),
        ("I love jazz", "I really love jazz"),
        ("My birthday is on March 3rd", "I was born on the 3rd of March 1990"),
    ],
)
def test_a_near_duplicate_merges_into_the_memory_it_repeats(user, luna, first, then):
    """No second row: the memory is heard again (importance up, the message a source)."""
    _tell(user, luna, first)
    (memory,) = ConversationMemory.objects.filter(user=user)
    importance = memory.importance
    _tell(user, luna, then)
    (merged,) = ConversationMemory.objects.filter(user=user)
    assert merged.pk == memory.pk and merged.content == memory.content
    assert merged.importance == importance + 1
    assert merged.source_messages.count() == 2
    assert merged.events.filter(action="confirmed").count() == 1


def test_a_models_facts_supersede_and_merge_too(user, luna, fake_llm):
    """The slot comes from the model's op when it names one, else from the content."""
    MemoryFactory(user=user, persona=luna, content="Lives in Lisbon", slot="lives_in")
    MemoryFactory(user=user, persona=luna, content="Their cat is called Miso")
    message = ChatMessageFactory(conversation=ConversationFactory(user=user, persona=luna))
    fake_llm.extract(
        json.dumps(
            {
                "operations": [
                    {"op": "add", "content": "The user lives in Porto now"},
                    {"op": "add", "content": "Has a cat named Miso", "slot": "called:cat"},
                    {"op": "add", "content": "Owns a red bicycle", "slot": "Bike colour!"},
                ]
            }
        )
    )
    extract_memories.call([message.id])
    active = {m.content: m for m in selectors.memory_list(user=user, persona=luna)}
    assert set(active) == {
        "The user lives in Porto now",
        "Their cat is called Miso",
        "Owns a red bicycle",
    }
    assert active["Owns a red bicycle"].slot == "bike_colour"
    lisbon = ConversationMemory.objects.get(user=user, content="Lives in Lisbon")
    assert lisbon.superseded_by == active["The user lives in Porto now"]
    assert active["Their cat is called Miso"].events.filter(action="confirmed").exists()


def test_supersession_stays_inside_the_pair(user, other_user, luna):
    """Another user's (or persona's) "Lives in Lisbon" is never superseded by this pair."""
    isabella = PersonaProfile.objects.get(slug="isabella")
    theirs = MemoryFactory(user=other_user, persona=luna, content="Lives in Lisbon")
    other_persona = MemoryFactory(user=user, persona=isabella, content="Lives in Lisbon")
    _tell(user, luna, "I live in Porto")
    theirs.refresh_from_db()
    other_persona.refresh_from_db()
    assert theirs.superseded_by is None and other_persona.superseded_by is None


def test_deleting_the_replacement_brings_the_old_memory_back(user, luna):
    _tell(user, luna, "I live in Lisbon")
    _tell(user, luna, "I moved to Porto")
    services.memory_delete(memory=ConversationMemory.objects.get(content="Lives in Porto"))
    assert [m.content for m in selectors.memory_list(user=user, persona=luna)] == [
        "Lives in Lisbon"
    ]


@pytest.mark.parametrize(
    ("content", "slot"),
    [
        ("Lives in Lisbon", "lives_in"),
        ("The user lives in Lisbon", "lives_in"),
        ("Their name is Robin", "name"),
        ("User's dog is named Max", "called:dog"),
        ("Their wife is called Kim", "called:partner"),
        ("Their sister is called Ana", "called:sister:ana"),
        ("Their birthday is on 3 March", "birthday"),
        ("Their sister's birthday is on 3 May", "birthday:sister"),
        ("Likes coffee", "taste:coffee"),
        ("Dislikes coffee", "taste:coffee"),
        ("Has two cats", "has:cat"),
        ("Works as a nurse", "works_as"),
        ("They have an exam on 4 December", ""),
        ("Plays the cello", ""),
    ],
)
def test_the_slot_of_a_memory_is_read_from_its_words(content, slot):
    assert claim(content).slot == slot


# Junk is never stored, whoever proposes it ------------------------------------------------


@pytest.mark.parametrize(
    ("content", "subject_implied", "junk"),
    [
        ("", False, True),
        ("   ", True, True),
        ("...", False, True),
        ("!?…", True, True),
        ("Tea", True, True),
        ("Likes tea", False, True),  # a model's two words
        ("Likes tea", True, False),  # a rule's template: "(They) like tea"
        ("Has a dog named Rex", False, False),
        ("Hello, stargazer! The stars are out.", False, True),  # the persona's line
    ],
)
def test_one_junk_rule(content, subject_implied, junk):
    persona_lines = ["hello, stargazer!  the stars are out"]
    assert is_junk(content, persona_lines, subject_implied=subject_implied) is junk


@pytest.mark.parametrize("content", ["...", "", "Likes", "- ? -", "Likes tea", "Hi Luna."])
def test_a_models_junk_is_never_stored(user, luna, fake_llm, content):
    conversation = ConversationFactory(user=user, persona=luna)
    ChatMessageFactory(conversation=conversation, role="assistant", content="Hi Luna.")
    message = ChatMessageFactory(conversation=conversation, content="I live in Lisbon")
    fake_llm.extract(json.dumps({"operations": [{"op": "add", "content": content}]}))
    extract_memories.call([message.id])
    assert not ConversationMemory.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    "text", ["Remember that!", "Remember that: ...", "remember that ?", "Remember that hm"]
)
def test_the_rules_junk_is_never_stored(user, luna, text):
    _tell(user, luna, text)
    assert not ConversationMemory.objects.filter(user=user).exists()


def test_only_the_users_own_messages_are_read(user, luna):
    conversation = ConversationFactory(user=user, persona=luna)
    said = ChatMessageFactory(conversation=conversation, role="assistant", content="I live in Oz")
    extract_memories.call([said.id])
    assert not ConversationMemory.objects.filter(user=user).exists()


def test_the_events_of_a_superseded_memory_are_listed_newest_first(user, luna):
    _tell(user, luna, "I live in Lisbon")
    _tell(user, luna, "I live in Porto")
    (old,) = selectors.memory_list_with_history(user=user, persona=luna, superseded=True)
    assert [event.action for event in old.history] == [
        MemoryEvent.Action.SUPERSEDED,
        MemoryEvent.Action.CREATED,
    ]
    assert old.updated_at > old.created_at - timedelta(seconds=1)


def test_the_account_export_keeps_the_link_and_the_date(user, luna):
    from memory.account import export

    _tell(user, luna, "I live in Lisbon")
    _tell(user, luna, "I moved to Porto. My exam is on 4 December 2026")
    rows = {row["content"]: row for row in export(user)["memories"]}
    porto = ConversationMemory.objects.get(user=user, content="Lives in Porto")
    assert rows["Lives in Lisbon"]["superseded_by_id"] == porto.pk
    assert rows["Their exam is on 4 December"]["happened_on"] == "2026-12-04"
