"""The memory-recall evaluation (`make eval-memory`) counts evidence the way its README says."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.eval_memory import (
    BM25,
    QuestionResult,
    ask,
    conversation_numbers,
    dia_id,
    eval_database_url,
    evaluate,
    evidence_recall,
    format_table,
    import_dialogue,
    load,
    parse_dialogue,
    summarize,
)
from chat.models import ChatMessage
from memory.recall import recall
from mybella.users.services import user_create

# A LoCoMo-shaped conversation: speaker_a talks to speaker_b over three sessions.
LOCOMO_ITEM = {
    "sample_id": "tiny",
    "conversation": {
        "speaker_a": "Caroline",
        "speaker_b": "Mel",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Caroline", "dia_id": "D1:1", "text": "Hey Mel! Long week for me."},
            {
                "speaker": "Mel",
                "dia_id": "D1:2",
                "text": "Nice! I painted a sunrise last week.",
                "img_url": ["https://example.invalid/sunrise.jpg"],
                "blip_caption": "a photo of a painting of a sunrise",
            },
            {"speaker": "Caroline", "dia_id": "D1:3", "text": "I love helping the community."},
        ],
        "session_2_date_time": "10:37 am on 27 June, 2023",
        "session_2": [
            {"speaker": "Mel", "dia_id": "D2:1", "text": "We took the kids camping at the lake."},
            {"speaker": "Caroline", "dia_id": "D2:2", "text": "I researched adoption agencies."},
        ],
        "session_3_date_time": "8:18 pm on 6 July, 2023",
        "session_3": [
            {"speaker": "Caroline", "dia_id": "D3:1", "text": "My course starts next month."},
            {"speaker": "Mel", "dia_id": "D3:2", "text": "Good luck! Our dog Oscar is mad."},
        ],
    },
    "qa": [
        {"question": "Where did Mel take the kids camping?", "evidence": ["D2:1"], "category": 4},
        # Two evidence turns, one written with a stray colon; the question names only one.
        {"question": "What is Mel's dog called?", "evidence": ["D3:2", "D:1:2"], "category": 1},
        {
            "question": "When were adoption agencies researched?",
            "evidence": ["D2:2"],
            "category": 2,
        },
        {"question": "Is helping the community her thing?", "evidence": ["D1:3"], "category": 4},
        # Left out: evidence naming no turn, no evidence at all, the adversarial category.
        {"question": "What does Caroline do?", "evidence": ["D9:9"], "category": 3},
        {"question": "Would Mel like Paris?", "evidence": [], "category": 3},
        {"question": "What did Mel paint?", "evidence": ["D1:2"], "category": 5},
    ],
}


@pytest.fixture
def dialogue():
    return parse_dialogue(LOCOMO_ITEM)


def test_a_conversation_is_read_as_turns_at_their_session_dates(dialogue):
    """Speaker A is the user, turns are a minute apart from the session's date, photos are
    described, and only questions of categories 1-4 with a known evidence turn are kept."""
    assert (dialogue.id, dialogue.user_name, dialogue.persona_name) == ("tiny", "Caroline", "Mel")
    assert [s.number for s in dialogue.sessions] == [1, 2, 3]
    turns = dialogue.turns
    assert [t.role for t in turns] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "user",
        "assistant",
    ]
    assert turns[2].created_at == datetime(2023, 5, 8, 13, 58, tzinfo=UTC)
    assert turns[3].created_at == datetime(2023, 6, 27, 10, 37, tzinfo=UTC)
    assert turns[1].text == (
        "Nice! I painted a sunrise last week. [shares a photo: a photo of a painting of a sunrise]"
    )
    assert [(q.category, q.evidence) for q in dialogue.questions] == [
        (4, ("D2:1",)),
        (1, ("D3:2", "D1:2")),
        (2, ("D2:2",)),
        (4, ("D1:3",)),
    ]
    assert (dialogue.dropped_evidence, dialogue.dropped_questions) == (1, 1)


def test_turn_ids_are_read_in_their_canonical_form():
    """Stray colons and leading zeros of published ids do not hide a turn."""
    assert [dia_id(raw) for raw in ["D11:26", "D:11:26", "D30:05", " D4:4 "]] == [
        "D11:26",
        "D11:26",
        "D30:5",
        "D4:4",
    ]
    with pytest.raises(ValueError, match="not a LoCoMo turn id"):
        dia_id("D")


def test_the_baseline_ranks_a_unique_word_first_and_ignores_unrelated_turns(dialogue):
    """Plain BM25 puts the only turn with "camping" first; a query sharing no word finds nothing."""
    turns = dialogue.turns
    bm25 = BM25([t.text for t in turns])
    ranked = bm25.rank("Where did Mel take the kids camping?", 5)
    assert turns[ranked[0]].dia_id == "D2:1"
    assert bm25.rank("xylophone quartet", 5) == []
    assert bm25.rank("adoption", 5) == [4]  # no stemming: "adopt" would not match


def test_recall_at_k_is_the_share_of_evidence_among_the_top_k_items():
    """An item counts for every turn it stands for; items past k do not count."""
    ranked = [("D1:1",), (), ("D2:1", "D2:2"), ("D3:1",)]
    assert evidence_recall(ranked, ["D2:2", "D3:1"], 1) == 0.0
    assert evidence_recall(ranked, ["D2:2", "D3:1"], 3) == 0.5
    assert evidence_recall(ranked, ["D2:2", "D3:1"], 4) == 1.0
    assert evidence_recall([], ["D2:2"], 10) == 0.0
    with pytest.raises(ValueError, match="without evidence"):
        evidence_recall(ranked, [], 5)


def test_the_all_row_averages_over_questions_not_categories():
    """Each category averages its questions; "all" counts and weighs every question once."""
    results = []
    for category, value in [(1, 1.0), (4, 0.0), (4, 0.0), (4, 0.5)]:
        result = QuestionResult("x", "q", category, ("D1:1",))
        result.recall = {"bm25": {5: value}}
        results.append(result)
    summary = summarize(results, ["bm25"], [5])
    assert {label: row["n"] for label, row in summary.items()} == {
        "1 multi-hop": 1,
        "2 temporal": 0,
        "3 open-domain": 0,
        "4 single-hop": 3,
        "all": 4,
    }
    assert summary["1 multi-hop"]["bm25"][5] == 1.0
    assert summary["4 single-hop"]["bm25"][5] == pytest.approx(0.5 / 3)
    assert summary["all"]["bm25"][5] == pytest.approx(1.5 / 4)
    assert summary["2 temporal"]["bm25"][5] is None
    rows = {
        line[:14].strip(): [cell.split() for cell in line[14:].split("|")]
        for line in format_table(summary, ["bm25"], [5]).splitlines()[3:]
    }
    assert rows["all"] == [["4"], ["0.375"]]
    assert rows["2 temporal"] == [["0"], ["-"]]


def test_the_evaluation_database_is_never_the_named_one(tmp_path):
    """The evaluation runs in a temporary file or a database named after, not as, DATABASE_URL."""
    assert eval_database_url("", tmp_path) == f"sqlite:///{tmp_path / 'eval-memory.sqlite3'}"
    assert (
        eval_database_url("postgres://postgres@127.0.0.1:5432/mybella", tmp_path)
        == "postgres://postgres@127.0.0.1:5432/mybella_eval"
    )
    assert eval_database_url(f"sqlite:///{tmp_path / 'db.sqlite3'}", Path("/unused")) == (
        f"sqlite:///{tmp_path / 'db-eval.sqlite3'}"
    )


@pytest.mark.django_db
def test_imported_messages_map_back_to_their_turns(dialogue):
    """Every session is one import; each message keeps its turn's text and time, and recall's
    source ids lead back to the turn's dia_id."""
    owner = user_create(username="caroline", password="a-long-password-1")
    pair = import_dialogue(dialogue, user=owner, persona_name="Mel", extract=False)
    assert pair.persona.owner == owner and pair.persona.is_custom
    messages = ChatMessage.objects.filter(user=owner, persona=pair.persona).order_by("created_at")
    assert messages.values("conversation").distinct().count() == 3
    by_id = {t.dia_id: t for t in dialogue.turns}
    assert sorted(pair.turn_of.values()) == sorted(by_id)
    for message in messages:
        turn = by_id[pair.turn_of[message.id]]
        assert (message.content, message.created_at, message.role) == (
            turn.text,
            turn.created_at,
            turn.role,
        )
    assert ask(pair, "Where did Mel take the kids camping?", 1) == [("D2:1",)]


@pytest.mark.django_db(transaction=True)
def test_an_evaluation_imports_extracts_asks_and_scores(dialogue):
    """Extraction runs on import (memories map to their source turns), the messages-only pair
    has no memory, and the baseline finds the unique-word question's turn."""
    run = evaluate([dialogue], ks=[1, 5])
    assert run.methods == ["mybella", "messages", "bm25"]
    assert run.counts["questions"] == 4 and run.counts["turns"] == 7
    assert run.counts["memories_mybella"] >= 1 and run.counts["memories_messages"] == 0
    assert run.counts.get("tasks_failed", 0) == 0
    by_question = {r.question: r for r in run.results}
    camping = by_question["Where did Mel take the kids camping?"]
    assert camping.recall["bm25"] == {1: 1.0, 5: 1.0}
    assert camping.recall["mybella"][5] == 1.0
    dog = by_question["What is Mel's dog called?"]
    assert dog.recall["bm25"][5] == 0.5 and dog.found["bm25"][5] == ["D3:2"]

    # The memory the offline rules made from D1:3 stands for that turn.
    from personas.models import PersonaProfile

    mel = PersonaProfile.objects.get(name="Mel", is_custom=True)
    items = recall(user=mel.owner, persona=mel, query="helping the community", k=5)
    memory = next(item for item in items if item.kind == "memory")
    source = ChatMessage.objects.get(pk__in=memory.source_message_ids)
    assert source.content == "I love helping the community."
    assert by_question["Is helping the community her thing?"].found["mybella"][5] == ["D1:3"]

    # Asked directly, a recalled memory stands for its source turn, not for its own id.
    owner = user_create(username="caroline-again", password="a-long-password-1")
    pair = import_dialogue(dialogue, user=owner, persona_name="Mel", extract=True)
    query = "helping the community"
    items = recall(user=pair.user, persona=pair.persona, query=query, k=5)
    turns = dict(zip([(i.kind, i.id) for i in items], ask(pair, query, 5), strict=True))
    memories = [key for key in turns if key[0] == "memory"]
    assert memories and all(turns[key] == ("D1:3",) for key in memories)

    summary = summarize(run.results, run.methods, run.ks)
    assert summary["all"]["n"] == sum(row["n"] for label, row in summary.items() if label != "all")
    assert summary["3 open-domain"]["n"] == 0


def test_conversations_are_picked_by_number_and_range():
    assert conversation_numbers("1-4") == {1, 2, 3, 4}
    assert conversation_numbers("5-8, 2") == {2, 5, 6, 7, 8}
    for bad in ["", "0", "4-1", "a", "1-b"]:
        with pytest.raises(ValueError, match=r"range|conversation|literal"):
            conversation_numbers(bad)


def test_only_the_picked_conversations_are_loaded(tmp_path):
    items = [{**LOCOMO_ITEM, "sample_id": f"c{n}"} for n in range(1, 4)]
    data = tmp_path / "locomo.json"
    data.write_text(json.dumps(items))

    assert [d.id for d in load(data, numbers={1, 3})] == ["c1", "c3"]
    assert [d.id for d in load(data)] == ["c1", "c2", "c3"]
    with pytest.raises(ValueError, match="no conversation 4"):
        load(data, numbers={3, 4})
