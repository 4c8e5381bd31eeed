"""The chat page's partial endpoints: message rows rendered by the server, never by the script."""

import pytest
from django.urls import reverse

from chat.models import ChatMessage
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from mybella.core.services import service_calls
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db

ROWS = reverse("chat:message-rows")
OLDER = reverse("chat:message-older")


def retry_url(pk: int) -> str:
    return reverse("chat:message-retry", kwargs={"pk": pk})


@pytest.fixture
def conversation(user):
    return ConversationFactory(user=user, persona=PersonaProfile.objects.get(slug="isabella"))


def _failed_reply(conversation) -> ChatMessage:
    asked = ChatMessageFactory(conversation=conversation, content="tell me about tides")
    return ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content="",
        status=ChatMessage.Status.FAILED,
        error="The model server had a problem.",
        reply_to=asked,
    )


def test_rows_render_the_messages_asked_for_oldest_first(signed_in, conversation):
    """`?ids=` answers the same `<li>` rows the page renders, in conversation order."""
    first, second = ChatMessageFactory.create_batch(2, conversation=conversation)
    response = signed_in.get(ROWS, {"ids": f"{second.pk},{first.pk}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(f'data-id="{first.pk}"') < html.index(f'data-id="{second.pk}"')
    assert html.count('<li class="msg') == 2
    assert escape_free(first.content) in html


def escape_free(text: str) -> str:
    return text.replace("'", "&#x27;")


def test_rows_show_a_failed_reply_with_retry(signed_in, conversation):
    """A failed reply's row carries its reason and a Retry button, as on the page."""
    reply = _failed_reply(conversation)
    html = signed_in.get(ROWS, {"ids": reply.pk}).content.decode()
    assert "msg-failed" in html
    assert "The model server had a problem." in html
    assert f'data-retry="{reply.pk}"' in html


def test_rows_of_another_user_are_not_found(signed_in, other_user, conversation):
    """Another user's ids are 404, and are left out when asked for alongside one's own."""
    mine = ChatMessageFactory(conversation=conversation)
    theirs = ChatMessageFactory(
        conversation=ConversationFactory(user=other_user, persona=conversation.persona)
    )
    assert signed_in.get(ROWS, {"ids": theirs.pk}).status_code == 404
    html = signed_in.get(ROWS, {"ids": f"{mine.pk},{theirs.pk}"}).content.decode()
    assert f'data-id="{mine.pk}"' in html
    assert f'data-id="{theirs.pk}"' not in html


def test_rows_of_a_hidden_persona_are_not_found(signed_in, user):
    """A message with a persona the user can no longer see is out of reach."""
    persona = PersonaProfile.objects.get(slug="luna")
    message = ChatMessageFactory(conversation=ConversationFactory(user=user, persona=persona))
    PersonaProfile.objects.filter(pk=persona.pk).update(is_active=False)
    assert signed_in.get(ROWS, {"ids": message.pk}).status_code == 404


@pytest.mark.parametrize(
    "ids",
    [
        "",
        "x",
        "1,,y",
        ",".join(str(n) for n in range(1, 12)),
        # Beyond a database integer: a 500 (OverflowError on SQLite) found probing the page.
        "99999999999999999999999",
        "1,9223372036854775808",
        "0",
        "-3",
    ],
)
def test_rows_refuse_bad_ids(signed_in, ids):
    """No ids, ids that are not ids (numbers from 1 to 2**63 - 1), or more than ten: a 400."""
    assert signed_in.get(ROWS, {"ids": ids}).status_code == 400


def test_rows_cost_the_same_queries_for_one_or_ten(
    signed_in, conversation, django_assert_max_num_queries
):
    """Ten rows cost no more queries than one."""
    messages = ChatMessageFactory.create_batch(10, conversation=conversation)
    for batch in (messages[:1], messages):
        with django_assert_max_num_queries(3):
            response = signed_in.get(ROWS, {"ids": ",".join(str(m.pk) for m in batch)})
        assert response.status_code == 200


def test_older_pages_back_through_a_conversation(signed_in, conversation):
    """Without a cursor the newest page; `X-Older-Url` leads to the page before it."""
    messages = ChatMessageFactory.create_batch(45, conversation=conversation)
    newest = signed_in.get(OLDER, {"conversation": conversation.pk})
    assert newest.status_code == 200
    html = newest.content.decode()
    assert html.count('<li class="msg') == 30
    assert html.index(f'data-id="{messages[15].pk}"') < html.index(f'data-id="{messages[-1].pk}"')
    older_url = newest["X-Older-Url"]
    assert "cursor=" in older_url
    older = signed_in.get(older_url)
    assert older.content.decode().count('<li class="msg') == 15
    assert f'data-id="{messages[0].pk}"' in older.content.decode()
    assert older["X-Older-Url"] == ""


def test_the_page_links_to_the_older_rows(signed_in, conversation):
    """The chat page's scroll-back address is this endpoint, with the next cursor."""
    ChatMessageFactory.create_batch(35, conversation=conversation)
    older_url = signed_in.get(reverse("chat:page")).context["older_url"]
    assert older_url.startswith(f"{OLDER}?conversation={conversation.pk}&cursor=")
    assert signed_in.get(older_url).content.decode().count('<li class="msg') == 5


def test_older_of_another_user_is_not_found(signed_in, other_user, conversation):
    """Another user's conversation, a missing or a malformed one is a 404."""
    theirs = ConversationFactory(user=other_user, persona=conversation.persona)
    ChatMessageFactory(conversation=theirs)
    for value in (theirs.pk, 999999, "abc"):
        assert signed_in.get(OLDER, {"conversation": value}).status_code == 404


def test_older_refuses_a_forged_cursor(signed_in, conversation):
    """A cursor that was not made by the server is a 400, not a 500."""
    response = signed_in.get(OLDER, {"conversation": conversation.pk, "cursor": "garbage"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "unknown"),
    [
        ({"before": "zz"}, "parameter: before"),
        ({"before": "1"}, "parameter: before"),
        ({"page_size": "2", "before": "zz"}, "parameters: before, page_size"),
    ],
)
def test_older_refuses_parameters_it_does_not_take(signed_in, conversation, query, unknown):
    """Only `conversation` and `cursor` page back: another parameter is a 400 naming them,
    not the newest page as if it had been followed."""
    ChatMessageFactory.create_batch(3, conversation=conversation)
    response = signed_in.get(OLDER, {"conversation": conversation.pk, **query})
    assert response.status_code == 400
    assert response.content.decode() == (
        f"Unknown {unknown}. This address takes only conversation and cursor: "
        "follow the X-Older-Url header to page back."
    )


def test_older_query_count_does_not_grow(signed_in, conversation, django_assert_max_num_queries):
    """A page of 30 rows costs a fixed handful of queries."""
    ChatMessageFactory.create_batch(60, conversation=conversation)
    with django_assert_max_num_queries(4):
        response = signed_in.get(OLDER, {"conversation": conversation.pk})
    assert response.status_code == 200


def test_retry_answers_and_renders_the_reply(signed_in, conversation):
    """Retry answers the failed reply again and returns its row, now a good reply."""
    reply = _failed_reply(conversation)
    response = signed_in.post(retry_url(reply.pk))
    assert response.status_code == 200
    html = response.content.decode()
    reply.refresh_from_db()
    assert reply.status == ChatMessage.Status.OK
    assert f'data-id="{reply.pk}"' in html
    assert "msg-failed" not in html
    assert "data-speak" in html


def test_the_page_retry_writes_through_the_service(signed_in, conversation):
    """The page's only writing endpoint goes through `message_retry`, the API's service."""
    reply = _failed_reply(conversation)
    before = service_calls()
    assert signed_in.post(retry_url(reply.pk)).status_code == 200
    assert service_calls() > before


def test_retry_of_a_good_reply_is_a_400_with_the_reason(signed_in, conversation):
    """A reply that did not fail cannot be retried: 400, with the service's words."""
    reply = ChatMessageFactory(conversation=conversation, role=ChatMessage.Role.ASSISTANT)
    response = signed_in.post(retry_url(reply.pk))
    assert response.status_code == 400
    assert "Only a failed or interrupted reply" in response.content.decode()


def test_retry_of_another_users_reply_is_not_found(signed_in, other_user, conversation):
    """Another user's failed reply is a 404 and stays failed."""
    theirs = _failed_reply(ConversationFactory(user=other_user, persona=conversation.persona))
    assert signed_in.post(retry_url(theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ChatMessage.Status.FAILED


def test_retry_needs_post(signed_in, conversation):
    assert signed_in.get(retry_url(_failed_reply(conversation).pk)).status_code == 405


@pytest.mark.parametrize("url", [ROWS + "?ids=1", OLDER + "?conversation=1"])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_retry_is_sent_to_login(client):
    assert client.post(retry_url(1)).status_code == 302


# Really committed: the cached reads go stale when the write's transaction commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("system_personas")
def test_cached_rows_show_every_change_to_a_message_or_its_persona(signed_in, user, conversation):
    """Rows are rendered once per what they show: an edit, a chosen alternative, a new
    status or a renamed persona is in the next page and the next rows."""
    from chat import services
    from personas.services import persona_update

    page = reverse("chat:page") + f"?conversation={conversation.pk}"
    asked = ChatMessageFactory(conversation=conversation, content="first words")
    reply = ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content="one",
        alternatives=["one", "two"],
        selected=0,
        reply_to=asked,
    )
    rows = f"{ROWS}?ids={asked.pk},{reply.pk}"
    assert "first words" in signed_in.get(page).content.decode()
    assert "first words" in signed_in.get(rows).content.decode()

    services.message_edit(user=user, message_id=asked.pk, text="second words")
    services.message_select(user=user, message_id=reply.pk, index=1)
    for url in (page, rows):
        html = signed_in.get(url).content.decode()
        assert "second words" in html and "first words" not in html
        assert "<p>two</p>" in html and "2/2" in html

    ChatMessage.objects.filter(pk=reply.pk).update(status=ChatMessage.Status.PENDING)
    assert "still being written" in signed_in.get(rows).content.decode()
    ChatMessage.objects.filter(pk=reply.pk).update(
        status=ChatMessage.Status.FAILED, error="It broke."
    )
    assert "It broke." in signed_in.get(rows).content.decode()

    mine = conversation.persona
    staff = type(user).objects.create_user(username="ops", password="x-long-pass-9", is_staff=True)
    persona_update(persona=mine, user=staff, fields={"name": "Isabel"})
    assert "Isabel:" in signed_in.get(page).content.decode()


def test_cached_rows_follow_the_active_time_zone(signed_in, conversation):
    from datetime import UTC, datetime

    from django.utils import timezone

    message = ChatMessageFactory(conversation=conversation)
    ChatMessage.objects.filter(pk=message.pk).update(
        created_at=datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    )
    rows = f"{ROWS}?ids={message.pk}"
    assert ">12:00</time>" in signed_in.get(rows).content.decode()
    with timezone.override("Asia/Tokyo"):
        assert ">21:00</time>" in signed_in.get(rows).content.decode()
