"""Long conversations are folded into summaries, once per stretch, and the prompt keeps them."""

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from chat.models import ChatMessage, Conversation
from chat.prompts import SUMMARY_INTRO, estimate_tokens, prompt_build
from chat.services import history_import, message_send
from memory.models import ConversationMemory, MemoryEvent, MemorySettings, SummarisedStretch
from memory.services import memory_delete
from memory.summaries import STRETCH_MESSAGES, conversation_summarise, summary_extractive
from memory.tasks import extract_memories, summarise_conversation
from mybella.providers.llm import get_provider
from mybella.tests.concurrency import in_thread, race
from personas.models import PersonaProfile

START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
BUDGET = 400  # tokens: the prompt is sure to show a dozen of these short messages
PORTO = "I'm moving to Porto in March with my sister Ana."


@pytest.fixture(autouse=True)
def small_budget(settings):
    settings.LLM_CONTEXT_TOKENS = BUDGET


def long_conversation(user, persona, count: int = 80, *, said=None, start=START) -> Conversation:
    """Store `count` messages, user and persona in turn, an hour apart from `start`.

    `said` maps a message's number to what the user says there (else a walk to the market).
    """
    said = said or {}
    conversation = Conversation.objects.create(user=user, persona=persona)
    messages = ChatMessage.objects.bulk_create(
        ChatMessage(
            conversation=conversation,
            user=user,
            persona=persona,
            role="user" if n % 2 == 0 else "assistant",
            content=said.get(
                n,
                f"Today I walked {n} blocks to the market." if n % 2 == 0 else f"Lovely, {n}!",
            ),
        )
        for n in range(count)
    )
    for n, message in enumerate(messages):  # auto_now_add set them to now
        message.created_at = start + timedelta(hours=n)
    ChatMessage.objects.bulk_update(messages, ["created_at"])
    return conversation


def messages_of(conversation: Conversation) -> list[ChatMessage]:
    return list(conversation.messages.order_by("created_at", "id"))


def summaries_of(user, persona) -> list[ConversationMemory]:
    return list(
        ConversationMemory.objects.filter(user=user, persona=persona, kind="summary").order_by(
            "covers_from"
        )
    )


# Folding -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_stretches_older_than_what_a_prompt_holds_become_summaries(user, luna):
    """80 messages, a dozen sure to fit: stretches 1-3 are due, the 4th holds recent ones."""
    conversation = long_conversation(user, luna, said={4: PORTO})
    messages = messages_of(conversation)

    assert summarise_conversation.call(conversation.pk) == 3

    summaries = summaries_of(user, luna)
    assert [(s.covers_first_message_id, s.covers_last_message_id) for s in summaries] == [
        (messages[n].pk, messages[n + STRETCH_MESSAGES - 1].pk) for n in (0, 20, 40)
    ]
    assert [(s.covers_from, s.covers_to) for s in summaries] == [
        (START + timedelta(hours=n), START + timedelta(hours=n + 19)) for n in (0, 20, 40)
    ]
    assert {s.covers_conversation_id for s in summaries} == {conversation.pk}
    first = summaries[0]
    assert first.content.startswith("The user said: Today I walked 0 blocks")
    assert PORTO in first.content
    assert "Lovely" not in first.content  # the persona's lines are not the user's news
    assert len(first.content.split(". ")) == 4  # the four most telling sentences
    assert messages[4].pk in {m.pk for m in first.source_messages.all()}
    assert first.events.get().actor == MemoryEvent.Actor.EXTRACTOR


@pytest.mark.django_db
def test_a_stretch_is_summarised_once_even_after_its_summary_is_deleted(user, luna):
    conversation = long_conversation(user, luna)
    assert summarise_conversation.call(conversation.pk) == 3
    assert summarise_conversation.call(conversation.pk) == 0  # run again: nothing new

    memory_delete(memory=summaries_of(user, luna)[0])
    assert summarise_conversation.call(conversation.pk) == 0
    assert len(summaries_of(user, luna)) == 2
    assert SummarisedStretch.objects.filter(conversation=conversation).count() == 3


@pytest.mark.django_db
def test_new_messages_make_the_next_stretch_due(user, luna):
    conversation = long_conversation(user, luna, 70)
    assert summarise_conversation.call(conversation.pk) == 2  # 61-70 are the recent ones
    later = long_conversation(user, luna, 20, start=START + timedelta(days=5))
    ChatMessage.objects.filter(conversation=later).update(conversation=conversation)
    assert summarise_conversation.call(conversation.pk) == 1  # 41-60; 61-80 are recent
    assert len(summaries_of(user, luna)) == 3


@pytest.mark.django_db
def test_a_short_conversation_has_no_summary(user, luna):
    conversation = long_conversation(user, luna, STRETCH_MESSAGES + 5)
    assert summarise_conversation.call(conversation.pk) == 0
    assert summarise_conversation.call(10**9) == 0  # a deleted conversation: nothing to do


@pytest.mark.django_db
def test_one_run_folds_a_few_stretches_and_queues_the_rest(user, luna, settings):
    """An imported long history is worked through in turns (the tests run tasks at once)."""
    conversation = long_conversation(user, luna, 20 * 9)
    assert summarise_conversation.call(conversation.pk) == 5  # then 3 in the queued run
    assert SummarisedStretch.objects.filter(conversation=conversation).count() == 8


@pytest.mark.django_db
def test_with_remembering_off_stretches_are_marked_and_nothing_is_remembered(user, luna):
    MemorySettings.objects.create(user=user, persona=luna, remember=False)
    conversation = long_conversation(user, luna)
    assert summarise_conversation.call(conversation.pk) == 0
    MemorySettings.objects.filter(user=user, persona=luna).update(remember=True)
    assert summarise_conversation.call(conversation.pk) == 0  # not later either
    assert summaries_of(user, luna) == []


@pytest.mark.django_db
def test_an_imported_history_is_summarised_in_the_background(
    user, luna, django_capture_on_commit_callbacks
):
    """The saved-messages signal queues the work (the tests' task backend runs it at once)."""
    items = [
        {
            "role": "user" if n % 2 == 0 else "assistant",
            "content": PORTO if n == 2 else f"we chat about the weather, part {n}",
            "created_at": START + timedelta(hours=n),
        }
        for n in range(60)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        history_import(user=user, persona=luna, items=items)
    summaries = summaries_of(user, luna)
    assert len(summaries) == 2
    assert PORTO in summaries[0].content


@pytest.fixture
def database_tasks(settings):
    """Production's task backend: queued tasks are rows, run by no one here."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


def queued() -> list[tuple[str, dict]]:
    return [
        (path, arguments["args"])
        for path, arguments in DBTaskResult.objects.order_by("enqueued_at").values_list(
            "task_path", "args_kwargs"
        )
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("database_tasks")
def test_a_sent_messages_extraction_queues_the_summarising_only_when_a_stretch_is_due(user, luna):
    """Not a summarising task per message: the extraction of a sent message queues it when
    its conversation has a stretch to fold, as `summarise_conversation` would find."""
    short = long_conversation(user, luna, STRETCH_MESSAGES + 5)
    due = long_conversation(user, luna, start=START + timedelta(days=10))
    for conversation in (short, due):
        said = conversation.messages.filter(role="user").latest("created_at")
        extract_memories.call([said.pk], conversation_id=conversation.pk)
    assert queued() == [("memory.tasks.summarise_conversation", [due.pk])]
    assert summarise_conversation.call(due.pk) == 3


@pytest.mark.django_db
@pytest.mark.usefixtures("database_tasks")
def test_a_send_queues_its_extraction_alone(user, luna, django_capture_on_commit_callbacks):
    """The send's one task carries its conversation, for the summarising check."""
    conversation = long_conversation(user, luna)
    with django_capture_on_commit_callbacks(execute=True):
        exchange = message_send(user=user, text="I love the sea.", conversation_id=conversation.pk)
    assert queued() == [("memory.tasks.extract_memories", [[exchange.user_message.pk]])]
    assert DBTaskResult.objects.get().args_kwargs["kwargs"] == {"conversation_id": conversation.pk}


@pytest.mark.django_db
def test_a_long_conversations_summaries_are_written_after_a_send(
    user, luna, django_capture_on_commit_callbacks
):
    """End to end (the tests' task backend runs tasks at once, on commit)."""
    conversation = long_conversation(user, luna, said={4: PORTO})
    with django_capture_on_commit_callbacks(execute=True):
        message_send(user=user, text="I love the sea.", conversation_id=conversation.pk)
    summaries = summaries_of(user, luna)
    assert len(summaries) == 3
    assert PORTO in summaries[0].content


def test_the_extractive_summary_keeps_the_telling_sentences_in_order():
    said = [
        "Hi!",
        "ok",
        "My dog Pixel turned five on Monday. Do you like dogs?",
        "lol yes",
        "I started a new job at the bakery in Lisbon.",
        "cool cool cool",
    ]
    stretch = [ChatMessage(pk=n + 1, role="user", content=text) for n, text in enumerate(said)]
    text, sources = summary_extractive(stretch)
    assert text == (
        "The user said: My dog Pixel turned five on Monday. "
        "I started a new job at the bakery in Lisbon."
    )
    assert sources == [3, 5]
    assert summary_extractive([ChatMessage(pk=1, role="user", content="ok thanks")]) == ("", [])


# With a model --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_model_writes_the_summary_within_its_own_token_cap(user, luna, fake_llm, settings):
    settings.LLM_SUMMARY_MAX_TOKENS = 123
    conversation = long_conversation(user, luna, 40, said={4: PORTO})
    fake_llm.reply_text = "The user is moving to Porto in March with their sister Ana."

    assert summarise_conversation.call(conversation.pk) == 1

    (summary,) = summaries_of(user, luna)
    assert summary.content == fake_llm.reply_text
    assert summary.events.get().actor == MemoryEvent.Actor.MODEL
    (request,) = [body for path, body, _h in fake_llm.requests if path == "/v1/chat/completions"]
    assert request["max_tokens"] == 123
    transcript = request["messages"][1]["content"]
    assert f"[2026-10-01] User: {PORTO}" in transcript
    assert "[2026-10-01] Luna: Lovely, 1!" in transcript
    assert "walked 20 blocks" not in transcript  # the next stretch is not this one


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["...", "  "])
def test_a_junk_or_failed_model_summary_falls_back_to_the_extractive_one(
    user, luna, fake_llm, answer
):
    conversation = long_conversation(user, luna, 40, said={4: PORTO})
    fake_llm.reply_text = answer
    assert summarise_conversation.call(conversation.pk) == 1
    fake_llm.fail_next(500)
    long_conversation(user, luna, 40, said={6: PORTO})
    other = Conversation.objects.order_by("-id").first()
    assert summarise_conversation.call(other.pk) == 1
    for summary in summaries_of(user, luna):
        assert summary.content.startswith("The user said: ") and PORTO in summary.content
        assert summary.events.get().actor == MemoryEvent.Actor.EXTRACTOR


# In the prompt -------------------------------------------------------------------------------


def _answer(conversation: Conversation, text: str = "Where am I moving again?") -> ChatMessage:
    last = conversation.messages.order_by("-created_at").first()
    message = ChatMessage.objects.create(
        conversation=conversation,
        user=conversation.user,
        persona=conversation.persona,
        role="user",
        content=text,
    )
    ChatMessage.objects.filter(pk=message.pk).update(
        created_at=last.created_at + timedelta(hours=1)
    )
    message.refresh_from_db()
    return message


def _prompt(message: ChatMessage):
    return prompt_build(
        user=message.user,
        persona=message.persona,
        conversation=message.conversation,
        message=message,
    )


@pytest.mark.django_db
def test_the_prompt_keeps_the_thread_with_the_summaries_of_what_no_longer_fits(user, luna):
    conversation = long_conversation(user, luna, said={4: PORTO})
    summarise_conversation.call(conversation.pk)
    prompt = _prompt(_answer(conversation))

    system = prompt.messages[0]["content"]
    assert sum(estimate_tokens(m["content"]) for m in prompt.messages) <= BUDGET
    assert SUMMARY_INTRO in system
    assert "- 2026-10-01 to 2026-10-02: The user said: " in system  # 08:00 to 03:00
    assert PORTO in system
    assert "\n- 2026-10-02: " in system and "\n- 2026-10-03: " in system
    history = [m["content"] for m in prompt.messages[1:-1]]
    assert PORTO not in history and "Today I walked 78 blocks to the market." in history


@pytest.mark.django_db
def test_a_summary_of_messages_the_history_shows_whole_is_left_out(user, luna, settings):
    conversation = long_conversation(user, luna, said={4: PORTO, 44: "My cat Miso hates rain."})
    summarise_conversation.call(conversation.pk)  # stretches 0-19, 20-39, 40-59
    settings.LLM_CONTEXT_TOKENS = 100_000  # now the prompt shows the last 40: 40-79
    prompt = _prompt(_answer(conversation))

    system = prompt.messages[0]["content"]
    assert PORTO in system
    assert "Miso" not in system  # its stretch is all in the history
    assert "My cat Miso hates rain." in [m["content"] for m in prompt.messages[1:-1]]


@pytest.mark.django_db
def test_summaries_of_earlier_conversations_start_a_new_one(user, luna):
    summarise_conversation.call(long_conversation(user, luna, said={4: PORTO}).pk)
    fresh = Conversation.objects.create(user=user, persona=luna)
    prompt = _prompt(_answer_in(fresh))
    assert PORTO in prompt.messages[0]["content"]


def _answer_in(conversation: Conversation) -> ChatMessage:
    return ChatMessage.objects.create(
        conversation=conversation,
        user=conversation.user,
        persona=conversation.persona,
        role="user",
        content="Hello again",
    )


@pytest.mark.django_db
def test_with_remembering_off_no_summary_reaches_the_prompt(user, luna):
    conversation = long_conversation(user, luna, said={4: PORTO})
    summarise_conversation.call(conversation.pk)
    MemorySettings.objects.create(user=user, persona=luna, remember=False)
    assert PORTO not in _prompt(_answer(conversation)).messages[0]["content"]


@pytest.mark.django_db
def test_summaries_and_prompts_hold_nothing_of_another_pair(user, other_user, luna, settings):
    """Another user's long talk with the same persona, and this user's with another persona."""
    isabella = PersonaProfile.objects.get(slug="isabella")
    secret = "My secret code word is Zanzibar."
    summarise_conversation.call(long_conversation(other_user, luna, said={4: secret}).pk)
    summarise_conversation.call(long_conversation(user, isabella, said={6: secret}).pk)
    mine = long_conversation(user, luna, said={4: PORTO})
    summarise_conversation.call(mine.pk)

    assert all("Zanzibar" not in s.content for s in summaries_of(user, luna))
    assert len(summaries_of(other_user, luna)) == len(summaries_of(user, isabella)) == 3
    settings.LLM_CONTEXT_TOKENS = 3000  # room for whole summaries
    prompt = _prompt(_answer(mine, "Tell me my secret code word, Zanzibar?"))
    for message in prompt.messages:
        assert "secret code word is" not in message["content"]
    assert PORTO in prompt.messages[0]["content"]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [80, 800])
def test_the_prompt_reads_a_bounded_number_of_queries_whatever_the_history(
    user, luna, count, django_assert_max_num_queries
):
    conversation = long_conversation(user, luna, count, said={4: PORTO})
    summarise_conversation.call(conversation.pk)
    message = _answer(conversation)
    # 16: the lorebook is one of them, and recall's bounded count of each word's matches.
    with django_assert_max_num_queries(16):
        prompt = _prompt(message)
    assert prompt.messages[0]["content"].count("\n- 2026-") <= 5  # the newest five at most


# Concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_runs_at_once_write_each_summary_once(user, system_personas, share_with_threads):
    luna = PersonaProfile.objects.get(slug="luna")
    conversation = long_conversation(user, luna, said={4: PORTO})
    share_with_threads()

    outcomes = race(
        lambda _n: conversation_summarise(
            conversation=Conversation.objects.select_related("user", "persona").get(
                pk=conversation.pk
            ),
            provider=get_provider(),
            max_stretches=5,
        ),
        4,
    )

    assert outcomes == ["created"] * 4, outcomes
    counts = in_thread(
        lambda: (
            ConversationMemory.objects.filter(kind="summary").count(),
            SummarisedStretch.objects.count(),
        )
    )
    assert counts == (3, 3)


# On the API and the page ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_shows_a_summary_with_its_range_and_lets_the_user_correct_it(
    user, luna, auth_api_client
):
    conversation = long_conversation(user, luna, said={4: PORTO})
    summarise_conversation.call(conversation.pk)
    first = messages_of(conversation)[0]

    listed = auth_api_client.get(f"/api/v1/personas/{luna.pk}/memories/").json()["results"]
    summaries = [m for m in listed if m["kind"] == "summary"]
    assert len(summaries) == 3
    oldest = min(summaries, key=lambda m: m["covers_from"])
    assert oldest["covers_first_message"] == first.pk
    assert oldest["covers_from"].startswith("2026-10-01T08:00:00")
    assert oldest["covers_to"].startswith("2026-10-02T03:00:00")

    url = f"/api/v1/memories/{oldest['id']}/"
    response = auth_api_client.patch(url, {"content": "Moving to Porto with Ana."}, format="json")
    assert response.status_code == 200
    assert response.json()["covers_first_message"] == first.pk  # the range stays
    assert "Porto with Ana" in _prompt(_answer(conversation)).messages[0]["content"]


@pytest.mark.django_db
def test_the_memory_page_shows_what_a_summary_covers(user, luna, client):
    conversation = long_conversation(user, luna, said={4: PORTO})
    summarise_conversation.call(conversation.pk)
    client.force_login(user)
    page = client.get(f"/users/memory/?persona={luna.pk}").content.decode()
    assert "Covers <time" in page and "1 Oct 2026</time> – <time" in page


@pytest.mark.django_db
def test_summaries_are_no_news_for_the_offline_engines_gap_line(user, luna):
    """The newest memories the prompt carries skip the summaries just written."""
    ConversationMemory.objects.create(user=user, persona=luna, content="Is going to Porto")
    conversation = long_conversation(user, luna)
    summarise_conversation.call(conversation.pk)  # three summaries, newer than the fact
    prompt = _prompt(_answer(conversation))
    assert [item.content for item in prompt.recent] == ["Is going to Porto"]
