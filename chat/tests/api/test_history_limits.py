"""History import refuses what it can't store faithfully: a 400 naming the item, nothing stored."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import ChatMessage, Conversation
from memory.models import ConversationMemory
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db


def url(persona: PersonaProfile) -> str:
    return f"/api/v1/personas/{persona.pk}/history/import/"


def row_counts() -> tuple[int, int, int]:
    return (
        Conversation.objects.count(),
        ChatMessage.objects.count(),
        ConversationMemory.objects.count(),
    )


def post_json_text(client, persona: PersonaProfile, text: str):
    return client.post(url(persona), text, content_type="application/json")


def post_file(client, persona: PersonaProfile, content: bytes, name: str = "chat.jsonl"):
    return client.post(
        url(persona), {"file": SimpleUploadedFile(name, content)}, format="multipart"
    )


def sillytavern(*lines: str) -> bytes:
    """A SillyTavern chat file: the metadata line, then the given raw JSON lines."""
    header = json.dumps({"user_name": "You", "character_name": "Luna"})
    return "\n".join([header, *lines]).encode()


def tavern_line(mes: str = '"Hi Luna"', send_date: str = '"2024-01-01T10:00:00.000Z"') -> str:
    return f'{{"name": "You", "is_user": true, "mes": {mes}, "send_date": {send_date}}}'


def assert_refused(response, *words: str) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    text = " ".join(response.json().get("history", [])) or response.json().get("detail", "")
    for word in words:
        assert word in text, text


def test_a_line_that_is_not_json_is_named_by_its_line(auth_api_client, luna):
    """The error names the file's line (found probing: line 4 was told as "line 1")."""
    before = row_counts()
    response = post_file(auth_api_client, luna, sillytavern(tavern_line(), tavern_line(), "{oops"))
    assert_refused(response, "line 4, column 2")
    assert row_counts() == before


@pytest.mark.parametrize("role", ["user", "assistant", "system"])
def test_a_message_over_the_limit_is_400(auth_api_client, luna, settings, role):
    """Imported messages of every role obey CHAT_MESSAGE_MAX_CHARS, like sent ones."""
    settings.CHAT_MESSAGE_MAX_CHARS = 100
    before = row_counts()
    history = [
        {"role": "user", "content": "fine"},
        {"role": role, "content": "x" * 101},
    ]
    response = auth_api_client.post(url(luna), history, format="json")
    assert_refused(response, "Item 2", "100 characters")
    assert row_counts() == before

    at_the_limit = [{"role": role, "content": "x" * 100}]
    assert auth_api_client.post(url(luna), at_the_limit, format="json").status_code == 201


def test_a_file_message_over_the_limit_is_400(auth_api_client, luna, settings):
    settings.CHAT_MESSAGE_MAX_CHARS = 100
    before = row_counts()
    response = post_file(auth_api_client, luna, sillytavern(tavern_line(json.dumps("x" * 101))))
    assert_refused(response, "Item 1", "100 characters")
    assert row_counts() == before


BAD_TIMES = {
    "year 1": '"0001-01-01T00:00:00+05:00"',
    "year 9999 west of UTC": '"9999-12-31T23:59:59-05:00"',
    "before 1970": '"1969-12-31T23:59:59Z"',
    "far future": '"2999-01-01T00:00:00Z"',
    "not a real day": '"2024-02-30T10:00:00Z"',
    "huge number": "100000000000000000000000",
    "huge float": "1e300",
    "negative": "-1",
    "beyond 64 bits": "1" + "0" * 30,
}


@pytest.mark.parametrize("case", BAD_TIMES)
def test_a_time_out_of_range_is_400(auth_api_client, luna, case):
    before = row_counts()
    body = f'[{{"role": "user", "content": "hi", "created_at": {BAD_TIMES[case]}}}]'
    assert post_json_text(auth_api_client, luna, body).status_code == 400
    response = post_file(auth_api_client, luna, sillytavern(tavern_line(send_date=BAD_TIMES[case])))
    assert_refused(response)
    assert row_counts() == before


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_time_is_400(auth_api_client, luna, constant):
    before = row_counts()
    body = f'[{{"role": "user", "content": "hi", "created_at": {constant}}}]'
    assert post_json_text(auth_api_client, luna, body).status_code == 400
    response = post_file(auth_api_client, luna, sillytavern(tavern_line(send_date=constant)))
    assert_refused(response, constant)
    as_list = post_file(auth_api_client, luna, body.encode(), "chat.json")
    assert_refused(as_list, constant)
    assert row_counts() == before


def test_times_in_range_are_kept(auth_api_client, luna, user):
    """Seconds and milliseconds since the epoch, and ISO strings, all still work."""
    body = (
        '[{"role": "user", "content": "a", "created_at": 1704103205},'
        ' {"role": "user", "content": "b", "created_at": 1704103206000},'
        ' {"role": "user", "content": "c", "created_at": "2024-01-01T10:00:07+01:00"}]'
    )
    assert post_json_text(auth_api_client, luna, body).status_code == 201
    years = {m.created_at.year for m in ChatMessage.objects.filter(user=user)}
    assert years == {2024}


def test_an_offset_no_database_knows_is_kept_as_its_utc_time(auth_api_client, luna, user):
    """PostgreSQL refuses an offset past ±15:59; the time is stored in UTC instead (was a 500)."""
    body = '[{"role": "user", "content": "a", "created_at": "2024-06-01T08:00:00-22:41"}]'
    assert post_json_text(auth_api_client, luna, body).status_code == 201
    stored = ChatMessage.objects.get(user=user).created_at
    assert stored.isoformat() == "2024-06-02T06:41:00+00:00"


BAD_TEXT = {
    "lone surrogate": '"hi \\ud800 there"',
    "lone low surrogate": '"\\udc00"',
    "NUL": '"hi \\u0000 there"',
}


@pytest.mark.parametrize("case", BAD_TEXT)
def test_unstorable_characters_are_400(auth_api_client, luna, case):
    """Lone surrogates and NUL characters are refused, in a JSON body and in files."""
    before = row_counts()
    body = f'[{{"role": "user", "content": {BAD_TEXT[case]}}}]'
    assert post_json_text(auth_api_client, luna, body).status_code == 400
    assert_refused(post_file(auth_api_client, luna, body.encode(), "chat.json"))
    assert_refused(post_file(auth_api_client, luna, sillytavern(tavern_line(BAD_TEXT[case]))))
    assert row_counts() == before


def test_unstorable_characters_in_ignored_keys_are_400_too(auth_api_client, luna):
    before = row_counts()
    line = '{"name": "You\\u0000", "is_user": true, "mes": "hi", "extra": {"\\ud800": 1}}'
    assert_refused(post_file(auth_api_client, luna, sillytavern(line)))
    assert row_counts() == before


def test_deep_nesting_in_a_file_is_400(auth_api_client, luna):
    before = row_counts()
    deep = "[" * 100 + "]" * 100
    line = f'{{"name": "You", "is_user": true, "mes": "hi", "extra": {deep}}}'
    assert_refused(post_file(auth_api_client, luna, sillytavern(line)), "nested")
    very_deep = "[" * 100_000 + "]" * 100_000
    assert_refused(post_file(auth_api_client, luna, very_deep.encode(), "chat.json"), "nested")
    assert_refused(post_json_text(auth_api_client, luna, very_deep))
    assert row_counts() == before
