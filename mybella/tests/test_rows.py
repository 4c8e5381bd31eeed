"""Plain rows read by raw SQL carry the values the ORM would have given."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from chat.models import ChatMessage, Conversation
from mybella.core.rows import datetime_column, fetch_all, field_converter
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db


def _message_said_at(user, moment: datetime) -> ChatMessage:
    persona = PersonaProfile.objects.get(slug="luna")
    conversation = Conversation.objects.create(user=user, persona=persona)
    message = ChatMessage.objects.create(
        conversation=conversation, user=user, persona=persona, role="user", content="hi"
    )
    ChatMessage.objects.filter(pk=message.pk).update(created_at=moment)
    return message


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2023, 5, 3, 14, 30, tzinfo=UTC),  # SQLite stores no fraction for this one
        datetime(2023, 5, 3, 14, 30, 5, 120_000, tzinfo=UTC),
        datetime(2023, 5, 3, 14, 30, 5, 7, tzinfo=UTC),
    ],
)
def test_datetime_as_the_orm_reads_it(user, moment):
    message = _message_said_at(user, moment)
    table = ChatMessage._meta.db_table
    [(raw,)] = fetch_all(f"SELECT created_at FROM {table} WHERE id = %s", [message.pk])  # noqa: S608

    read = field_converter(ChatMessage, "created_at")(raw)

    expected = ChatMessage.objects.get(pk=message.pk).created_at
    assert read == expected == moment
    assert read.utcoffset() == expected.utcoffset()
    assert read.tzinfo == expected.tzinfo


def test_a_compiled_query_refuses_a_statement_that_drops_a_value_or_selects_otherwise():
    """Its checks run when the statement is first compiled: a builder that leaves a value out
    (it would be ignored) or selects other columns than the models' is an error, not a
    wrong answer."""
    from mybella.core.rows import CompiledQuery

    ignores = CompiledQuery(lambda pk: PersonaProfile.objects.all(), models=(PersonaProfile,))
    with pytest.raises(AssertionError, match="does not take every value"):
        ignores.rows(1)
    fewer = CompiledQuery(
        lambda pk: PersonaProfile.objects.filter(pk=pk).only("id"), models=(PersonaProfile,)
    )
    with pytest.raises(AssertionError, match="selects other columns"):
        fewer.rows(1)
    persona = PersonaProfile.objects.create(name="Ada", slug="ada-compiled")
    found = CompiledQuery(lambda pk: PersonaProfile.objects.filter(pk=pk), models=(PersonaProfile,))
    assert [(p.pk, p.name) for (p,) in found.rows(persona.pk)] == [(persona.pk, "Ada")]
    assert found.rows(persona.pk + 10_000) == []


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2023, 5, 3, 14, 30, tzinfo=UTC),
        datetime(2023, 5, 3, 14, 30, 5, 120_000, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
)
def test_a_datetime_column_reads_as_the_orm_does(user, moment):
    """`datetime_column`'s SQL and converter give the ORM's value (on PostgreSQL read as a
    UTC timestamp), with its zone; NULL stays None."""
    message = _message_said_at(user, moment)
    table = ChatMessage._meta.db_table
    sql, convert = datetime_column(ChatMessage, "created_at", "t.created_at")
    [(raw, missing)] = fetch_all(
        f"SELECT {sql}, NULL FROM {table} t WHERE t.id = %s",  # noqa: S608
        [message.pk],
    )

    read = convert(raw)

    expected = ChatMessage.objects.get(pk=message.pk).created_at
    assert read == expected == moment
    assert read.utcoffset() == expected.utcoffset()
    assert read.tzinfo == expected.tzinfo
    assert convert(missing) is None


def test_converters_are_made_once_per_field_and_connection():
    """Recall asks for them several times a search: the same converter comes back, and
    another field's or expression's is its own."""
    assert field_converter(ChatMessage, "created_at") is field_converter(ChatMessage, "created_at")
    assert field_converter(ChatMessage, "created_at") is not field_converter(
        ChatMessage, "updated_at"
    )
    first = datetime_column(ChatMessage, "created_at", "t.created_at")
    assert datetime_column(ChatMessage, "created_at", "t.created_at") is first
    assert datetime_column(ChatMessage, "created_at", "m.created_at")[0] != first[0]


def test_converters_made_in_one_request_serve_the_next_in_another_thread():
    """Under ASGI each request's sync code runs in a new thread, with a new connection object:
    converters keyed by it would be made again at every request (and pile up)."""
    made = (
        field_converter(ChatMessage, "created_at"),
        datetime_column(ChatMessage, "created_at", "t.created_at"),
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        in_thread = pool.submit(
            lambda: (
                field_converter(ChatMessage, "created_at"),
                datetime_column(ChatMessage, "created_at", "t.created_at"),
            )
        ).result()
    assert in_thread[0] is made[0]
    assert in_thread[1] is made[1]
