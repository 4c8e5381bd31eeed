"""The chat page, through Django's test client."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from chat.models import ChatMessage
from chat.rendering import render_message
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from personas.models import PersonaProfile
from personas.selectors import persona_get_current
from personas.tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("chat:page")
OFFLINE_NOTICE = "Offline mode: replies come from MyBella’s built-in engine, not an AI model."


def system(slug: str) -> PersonaProfile:
    return PersonaProfile.objects.get(slug=slug)


def test_login_is_required(client):
    """An anonymous visitor is sent to the login page."""
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_page_shows_the_current_persona_and_its_latest_conversation(signed_in, user):
    """The page shows the current persona and only its latest conversation's messages."""
    isabella = system("isabella")
    old = ConversationFactory(user=user, persona=isabella)
    ChatMessageFactory(conversation=old, content="from the old conversation")
    latest = ConversationFactory(user=user, persona=isabella)
    ChatMessageFactory(conversation=latest, content="hello Isabella")
    ChatMessageFactory(
        conversation=latest, role=ChatMessage.Role.ASSISTANT, content="hi, lovely to see you"
    )
    ChatMessageFactory(conversation=ConversationFactory(user=user, persona=system("luna")))

    response = signed_in.get(PAGE)

    assert response.status_code == 200
    assert response.context["persona"] == isabella
    assert response.context["conversation"] == latest
    assert [m.content for m in response.context["chat_messages"]] == [
        "hello Isabella",
        "hi, lovely to see you",
    ]
    html = response.content.decode()
    assert '<h1 class="chat-name">Isabella</h1>' in html
    assert isabella.tagline in html
    assert "hello Isabella" in html and "hi, lovely to see you" in html
    log = html[html.index('<ol class="chat-log"') :].split("</ol>")[0]
    assert "from the old conversation" not in log
    assert f'data-conversation="{latest.pk}"' in html
    # Every visible persona is offered in the switcher.
    for slug in ["isabella", "alex", "luna", "maya", "sam", "ethan"]:
        assert f'action="{reverse("personas:select", args=[system(slug).pk])}"' in html


def test_without_a_conversation_the_greeting_is_shown(signed_in):
    """A pair with no conversation yet shows the persona's greeting as a friendly start."""
    response = signed_in.get(PAGE)
    assert response.context["conversation"] is None
    assert response.context["chat_messages"] == []
    html = response.content.decode()
    assert render_message(system("isabella").greeting) in html
    assert "Say hello to start your first conversation with Isabella." in html
    assert 'data-conversation=""' in html


def test_persona_parameter_shows_that_persona_without_selecting_it(signed_in, user):
    """`?persona=` shows that persona's own conversation; the current persona stays (a GET
    changes nothing)."""
    luna = system("luna")
    ChatMessageFactory(
        conversation=ConversationFactory(user=user, persona=system("isabella")),
        content="only for Isabella",
    )
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(PAGE, {"persona": luna.pk})
    assert response.status_code == 200
    assert response.context["persona"] == luna
    assert response.context["conversation"] is None
    html = response.content.decode()
    assert render_message(luna.greeting) in html
    assert "only for Isabella" not in html
    assert f'data-persona="{luna.pk}"' in html  # what the page sends to
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []
    assert persona_get_current(user=user).slug == "isabella"
    # Without the parameter the page still opens on the current persona.
    assert signed_in.get(PAGE).context["persona"].slug == "isabella"


def test_the_switcher_posts_to_select_and_comes_back_to_the_chat(signed_in, user):
    """Each switcher choice is a POST form to `personas:select` whose `next` is the chat."""
    luna = system("luna")
    html = signed_in.get(PAGE).content.decode()
    action = reverse("personas:select", args=[luna.pk])
    form = html[html.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    assert 'method="post"' in html[html.rindex("<form", 0, html.index(action)) :]
    assert "csrfmiddlewaretoken" in form
    assert f'name="next" value="{PAGE}"' in form

    response = signed_in.post(action, {"next": PAGE})

    assert response.status_code == 302
    assert response.url == PAGE
    assert persona_get_current(user=user) == luna
    assert signed_in.get(PAGE).context["persona"] == luna


def test_the_switcher_marks_the_persona_shown(signed_in):
    """The persona on screen is the one marked current in the switcher, also via `?persona=`."""
    luna = system("luna")
    html = signed_in.get(PAGE, {"persona": luna.pk}).content.decode()
    marked = html[: html.index('aria-current="true"')]
    assert marked.rindex(reverse("personas:select", args=[luna.pk])) > marked.rindex("<form")


def test_own_custom_persona_can_be_chosen(signed_in, user):
    """A user's own persona is offered and can be opened."""
    nova = PersonaFactory(owner=user, name="Nova")
    response = signed_in.get(PAGE, {"persona": nova.pk})
    assert response.status_code == 200
    assert response.context["persona"] == nova
    assert nova in response.context["personas"]


@pytest.mark.parametrize("value", ["other", "missing", "inactive", "abc", "-1", "²", "9" * 30])
def test_persona_parameter_outside_the_users_reach_is_a_404(signed_in, user, other_user, value):
    """Another user's persona, an unknown id, an inactive persona or garbage is a 404."""
    persona_id = {
        "other": lambda: PersonaFactory(owner=other_user, name="Theirs").pk,
        "missing": lambda: 999_999,
        "inactive": lambda: PersonaFactory(owner=None, is_custom=False, is_active=False).pk,
        "abc": lambda: "abc",
        "-1": lambda: "-1",
        "²": lambda: "²",
        "9" * 30: lambda: "9" * 30,
    }[value]()
    response = signed_in.get(PAGE, {"persona": persona_id})
    assert response.status_code == 404
    assert persona_get_current(user=user).slug == "isabella"


def test_other_users_personas_are_not_offered(signed_in, other_user):
    """The switcher lists no persona of another user."""
    PersonaFactory(owner=other_user, name="Theirs")
    response = signed_in.get(PAGE)
    assert all(
        p.owner_id in (None, response.wsgi_request.user.pk) for p in response.context["personas"]
    )
    assert "Theirs" not in response.content.decode()


def test_offline_notice_with_the_default_engine(signed_in):
    """The built-in engine is named in a plain notice."""
    response = signed_in.get(PAGE)
    assert response.context["offline"] is True
    assert escape(OFFLINE_NOTICE) in response.content.decode()


def test_no_offline_notice_with_a_model(signed_in, settings):
    """With a language model configured there is no offline notice."""
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"
    settings.LLM_API_KEY = "test-key"
    response = signed_in.get(PAGE)
    assert response.context["offline"] is False
    assert "Offline mode" not in response.content.decode()


def test_failed_reply_is_shown_with_retry(signed_in, user):
    """A failed reply in the history shows its reason and a Retry button."""
    conversation = ConversationFactory(user=user, persona=system("isabella"))
    asked = ChatMessageFactory(conversation=conversation, content="are you there?")
    failed = ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content="",
        status=ChatMessage.Status.FAILED,
        error="The model server had a problem.",
        reply_to=asked,
    )
    html = signed_in.get(PAGE).content.decode()
    assert "msg-failed" in html
    assert "The model server had a problem." in html
    assert f'data-retry="{failed.pk}"' in html


def _reply(user, *, status: str, content: str, error: str = "", age=None) -> ChatMessage:
    conversation = ConversationFactory(user=user, persona=system("isabella"))
    asked = ChatMessageFactory(conversation=conversation, content="tell me more")
    reply = ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content=content,
        status=status,
        error=error,
        reply_to=asked,
    )
    if age is not None:
        ChatMessage.objects.filter(pk=reply.pk).update(updated_at=timezone.now() - age)
    return reply


def _item(html: str, reply: ChatMessage) -> str:
    """Return the reply's list item, from its `<li` to its `</li>`."""
    start = html.rindex("<li", 0, html.index(f'data-id="{reply.pk}"'))
    return html[start : html.index("</li>", start)]


def test_stopped_reply_shows_what_was_written_and_retry(signed_in, user):
    """A reply cut off mid-stream keeps its words, says so, and offers Retry (no ▶)."""
    reply = _reply(
        user,
        status=ChatMessage.Status.STOPPED,
        content="Once upon a",
        error="The reply was interrupted before it finished.",
    )
    item = _item(signed_in.get(PAGE).content.decode(), reply)
    assert "msg-failed" in item.split(">", 1)[0]
    assert "Once upon a" in item
    assert "The reply was interrupted before it finished." in item
    assert f'data-retry="{reply.pk}"' in item
    assert "data-speak" not in item


def test_abandoned_pending_reply_offers_retry(signed_in, user):
    """A reply left pending by a process that died can be retried from the page."""
    reply = _reply(user, status=ChatMessage.Status.PENDING, content="", age=timedelta(hours=1))
    item = _item(signed_in.get(PAGE).content.decode(), reply)
    assert "interrupted" in item
    assert f'data-retry="{reply.pk}"' in item


def test_reply_without_its_message_offers_no_retry(signed_in, user):
    """A failed reply whose message is gone says why it failed, without a Retry to nowhere."""
    reply = _reply(user, status=ChatMessage.Status.FAILED, content="", error="It broke.")
    ChatMessage.objects.filter(pk=reply.reply_to_id).delete()
    item = _item(signed_in.get(PAGE).content.decode(), reply)
    assert "It broke." in item
    assert "data-retry" not in item


def test_reply_being_written_offers_reload_not_retry(signed_in, user):
    """A reply still being written (in another tab) says so, with Reload instead of Retry."""
    reply = _reply(user, status=ChatMessage.Status.PENDING, content="Half a")
    item = _item(signed_in.get(PAGE).content.decode(), reply)
    assert "still being written" in item
    assert "data-reload" in item
    assert "data-retry" not in item
    assert "data-speak" not in item


def test_only_the_newest_page_is_rendered_with_a_link_to_older(signed_in, user):
    """A long conversation renders its newest page, oldest first, and the cursor for more."""
    conversation = ConversationFactory(user=user, persona=system("isabella"))
    messages = ChatMessageFactory.create_batch(45, conversation=conversation)
    response = signed_in.get(PAGE)
    shown = response.context["chat_messages"]
    assert [m.pk for m in shown] == [m.pk for m in messages[-30:]]
    older_url = response.context["older_url"]
    older_path = reverse("chat:message-older")
    assert older_url.startswith(f"{older_path}?conversation={conversation.pk}&cursor=")

    # The cursor is the API's own: the messages endpoint follows it to the same 15 messages.
    cursor = older_url.split("cursor=", 1)[1]
    api_path = reverse("api:conversation-messages", kwargs={"pk": conversation.pk})
    older = signed_in.get(f"{api_path}?cursor={cursor}", HTTP_ACCEPT="application/json").json()
    assert [m["id"] for m in older["results"]] == [m.pk for m in messages[:15]]
    assert older["next"] is None


def test_page_parameters_do_not_move_the_first_page(signed_in, user):
    """Query parameters meant for the API do not change what the page renders."""
    conversation = ConversationFactory(user=user, persona=system("isabella"))
    messages = ChatMessageFactory.create_batch(35, conversation=conversation)
    response = signed_in.get(PAGE, {"cursor": "garbage", "page_size": "2"})
    assert response.status_code == 200
    assert [m.pk for m in response.context["chat_messages"]] == [m.pk for m in messages[-30:]]


def test_short_conversation_has_no_older_link(signed_in, user):
    conversation = ConversationFactory(user=user, persona=system("isabella"))
    ChatMessageFactory.create_batch(5, conversation=conversation)
    response = signed_in.get(PAGE)
    assert response.context["older_url"] == ""
    assert len(response.context["chat_messages"]) == 5


# Really committed: the cached reads go stale when the write's transaction commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("system_personas")
@pytest.mark.parametrize("query", [{}, {"persona": "switch"}])
def test_query_count_does_not_grow_with_history(
    signed_in, user, query, django_assert_max_num_queries
):
    """Rendering the page costs the same number of queries for 5 or 200 messages."""
    isabella = system("isabella")
    params = {"persona": isabella.pk} if query else {}
    counts = []
    for total in (5, 200):
        conversation = ConversationFactory(user=user, persona=isabella)
        ChatMessageFactory.create_batch(total, conversation=conversation)
        with (
            # One of them lists the conversations for the panel (with their first words).
            django_assert_max_num_queries(8),
            CaptureQueriesContext(connection) as queries,
        ):
            response = signed_in.get(PAGE, params)
        assert response.status_code == 200
        assert response.context["conversation"] == conversation
        assert len(response.context["chat_messages"]) == min(total, 30)
        counts.append(len(queries))
    # The second visit finds the persona current already: selecting it again writes nothing.
    assert counts[1] <= counts[0]


def test_the_cached_switcher_shows_persona_changes_and_works(client, user, staff_user):
    """The switcher is rendered once per user and shown persona, until a persona changes."""
    from django.test import Client

    from personas import services as persona_services

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = reverse("chat:page")
    assert "Nova" not in browser.get(page).content.decode()
    nova = PersonaFactory(owner=user, name="Nova")
    html = browser.get(page).content.decode()
    assert "Nova" in html
    luna = PersonaProfile.objects.get(slug="luna")
    persona_services.persona_update(persona=luna, user=staff_user, fields={"name": "Lunette"})
    html = browser.get(page).content.decode()
    assert "Lunette" in html and "csrf-placeholder" not in html
    token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[0]
    selected = browser.post(
        reverse("personas:select", args=[nova.pk]), {"csrfmiddlewaretoken": token, "next": page}
    )
    assert selected.status_code == 302
    assert persona_get_current(user=user) == nova


def test_a_persona_without_a_tagline_is_shown_by_the_start_of_its_bio(signed_in, user):
    """The chat's header, its intro and the switcher say what the personas page's card says
    under the name (`card_line`): the tagline with its macros filled, else the bio's start."""
    wren = PersonaFactory(owner=user, name="Wren", tagline="", bio="{{char}} keeps a diary.")
    PersonaFactory(owner=user, name="Kit", tagline="{{char}}, at your service", bio="")
    html = signed_in.get(PAGE, {"persona": wren.pk}).content.decode()
    assert '<p class="chat-tagline">Wren keeps a diary.</p>' in html
    assert '<p class="chat-intro-tagline">Wren keeps a diary.</p>' in html
    assert '<span class="switcher-tagline">Wren keeps a diary.</span>' in html
    assert '<span class="switcher-tagline">Kit, at your service</span>' in html
    assert "{{char}}" not in html
