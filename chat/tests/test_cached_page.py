"""The chat page is cached whole per user and query: after every write that changes what it
shows, the next page shows it; a cached page reads nothing but the signed-in user.

A page with a reply still being written changes with the clock, so it is never stored, and
a page is built (so checked) for its user: another user's conversation stays a 404.
"""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat import services
from chat.models import ChatMessage
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from personas.models import PersonaProfile

pytestmark = pytest.mark.django_db

PAGE = reverse("chat:page")


@pytest.fixture
def conversation(user):
    conversation = ConversationFactory(
        user=user, persona=PersonaProfile.objects.get(slug="isabella"), title="First"
    )
    ChatMessageFactory(conversation=conversation, content="Hello there")
    return conversation


def page(client, **query) -> str:
    response = client.get(PAGE, query)
    assert response.status_code == 200
    return response.content.decode()


def test_a_cached_page_reads_only_the_user(signed_in, conversation, django_assert_num_queries):
    page(signed_in, conversation=conversation.pk)
    with django_assert_num_queries(1):
        assert "Hello there" in page(signed_in, conversation=conversation.pk)


# Really committed: the cached reads go stale when the write's transaction commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("system_personas")
def test_the_page_shows_a_sent_message_an_edit_and_a_delete(signed_in, user, conversation):
    assert "Hello there" in page(signed_in, conversation=conversation.pk)
    exchange = services.message_send(
        user=user, text="How are you?", conversation_id=conversation.pk
    )
    html = page(signed_in, conversation=conversation.pk)
    assert "How are you?" in html and f'data-id="{exchange.reply.pk}"' in html
    services.message_edit(user=user, message_id=exchange.user_message.pk, text="And you?")
    assert "And you?" in page(signed_in, conversation=conversation.pk)
    services.message_delete(user=user, message_id=exchange.user_message.pk)
    assert "And you?" not in page(signed_in, conversation=conversation.pk)


# Really committed: the cached reads go stale when the write's transaction commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("system_personas")
def test_the_page_shows_a_rename_once_with_its_flash(signed_in, conversation):
    page(signed_in, conversation=conversation.pk)
    response = signed_in.post(
        reverse("chat:conversation-rename", args=[conversation.pk]),
        {"title": "Renamed", "open": conversation.pk},
    )
    assert response.status_code == 302
    shown = page(signed_in, conversation=conversation.pk)
    assert "Renamed" in shown and 'class="messages"' in shown
    again = page(signed_in, conversation=conversation.pk)
    assert "Renamed" in again and 'class="messages"' not in again


# Really committed: the cached reads go stale when the write's transaction commits.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("system_personas")
def test_a_deleted_conversation_is_a_404(signed_in, conversation):
    pk = conversation.pk
    page(signed_in, conversation=pk)
    services.conversation_delete(conversation=conversation)
    assert signed_in.get(PAGE, {"conversation": pk}).status_code == 404


def test_the_page_shows_a_new_current_persona(signed_in, user, conversation):
    assert "Chat with Isabella" in page(signed_in)
    luna = PersonaProfile.objects.get(slug="luna")
    assert signed_in.post(reverse("personas:select", args=[luna.pk])).status_code == 302
    assert "Chat with Luna" in page(signed_in)


def test_a_reply_being_written_is_never_stored(signed_in, conversation):
    ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        status=ChatMessage.Status.PENDING,
        reply_to=conversation.messages.get(),
        content="",
    )
    page(signed_in, conversation=conversation.pk)
    with CaptureQueriesContext(connection) as queries:
        page(signed_in, conversation=conversation.pk)
    assert len(queries) > 1  # built again: more than the user is read


def test_another_users_conversation_stays_a_404(signed_in, other_user, conversation):
    page(signed_in, conversation=conversation.pk)
    other = Client()
    other.force_login(other_user)
    assert other.get(PAGE, {"conversation": conversation.pk}).status_code == 404


def test_a_cached_pages_forms_carry_the_requests_own_token(user, conversation):
    """A page from the cache posts with a new CSRF secret (signed in again, cookie lost)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page(client, conversation=conversation.pk)
    del client.cookies[settings.CSRF_COOKIE_NAME]  # the next answer sets a new secret
    html = page(client, conversation=conversation.pk)
    luna = PersonaProfile.objects.get(slug="luna")
    action = reverse("personas:select", args=[luna.pk])
    form = re.search(rf'<form[^>]*action="{action}".*?</form>', html, re.S).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    response = client.post(action, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
