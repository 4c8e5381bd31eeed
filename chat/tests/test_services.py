"""chat's services resolve what they are given themselves, scoped to the personas the user sees.

A conversation or reply is reached only through a persona the caller may still see: another
user's, or one whose persona was deactivated, is `NotFound`, whoever calls the service.
"""

import pytest
from django.core.exceptions import ValidationError

from chat import selectors, services
from chat.models import ChatMessage, Conversation
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from mybella.core.errors import NotFound
from mybella.tests.instances import assert_same_instance
from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory, SystemPersonaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def retired(user):
    """A conversation with a system persona that was deactivated since."""
    persona = SystemPersonaFactory(name="Retired")
    conversation = ConversationFactory(user=user, persona=persona)
    PersonaProfile.objects.filter(pk=persona.pk).update(is_active=False)
    return conversation


def _failed_reply(conversation: Conversation, *, asked: str = "are you there?") -> ChatMessage:
    message = ChatMessageFactory(conversation=conversation, content=asked)
    return ChatMessageFactory(
        conversation=conversation,
        role=ChatMessage.Role.ASSISTANT,
        content="",
        status=ChatMessage.Status.FAILED,
        error="It broke.",
        reply_to=message,
    )


def _user_messages() -> int:
    return ChatMessage.objects.filter(role=ChatMessage.Role.USER).count()


# ---------------------------------------------------------------- sending


@pytest.mark.parametrize("send", [services.message_send, services.message_send_stream])
def test_sending_into_a_conversation_whose_persona_is_hidden_is_not_found(user, retired, send):
    """A conversation with a deactivated persona takes no new message (it used to)."""
    with pytest.raises(NotFound):
        send(user=user, text="still there?", conversation_id=retired.pk)
    assert not retired.messages.exists()


@pytest.mark.parametrize("send", [services.message_send, services.message_send_stream])
def test_sending_into_another_users_conversation_is_not_found(user, other_user, luna, send):
    theirs = ConversationFactory(user=other_user, persona=luna)
    with pytest.raises(NotFound):
        send(user=user, text="hello", conversation_id=theirs.pk)
    assert not theirs.messages.exists()


@pytest.mark.parametrize(
    "make_persona",
    [
        pytest.param(lambda other_user: PersonaFactory(owner=other_user), id="another-users"),
        pytest.param(lambda other_user: SystemPersonaFactory(is_active=False), id="inactive"),
        pytest.param(lambda other_user: PersonaProfile(pk=10**30), id="missing"),
    ],
)
def test_sending_to_a_persona_out_of_reach_is_not_found(user, other_user, make_persona):
    """The persona id is resolved among the personas the user sees, not trusted."""
    persona = make_persona(other_user)
    with pytest.raises(NotFound):
        services.message_send(user=user, text="hello", persona_id=persona.pk)
    assert _user_messages() == 0


def test_a_persona_held_by_the_caller_is_checked_too(user, other_user):
    """A persona object is no pass: it is looked up among the visible ones like an id."""
    theirs = PersonaFactory(owner=other_user)
    with pytest.raises(NotFound):
        services.message_send(user=user, text="hello", persona=theirs)
    assert _user_messages() == 0


def test_a_persona_and_a_different_persona_id_are_a_mistake(user, luna):
    with pytest.raises(ValueError, match="not two different ones"):
        services.message_send(user=user, text="hello", persona=luna, persona_id=luna.pk + 1)
    assert _user_messages() == 0


def test_a_conversation_of_another_persona_is_refused(user, luna):
    isabella = PersonaProfile.objects.get(slug="isabella")
    conversation = ConversationFactory(user=user, persona=isabella)
    with pytest.raises(ValidationError) as caught:
        services.message_send(
            user=user, text="hi", persona_id=luna.pk, conversation_id=conversation.pk
        )
    assert "conversation" in caught.value.message_dict
    assert _user_messages() == 0


def test_sending_by_ids_answers_in_that_conversation(user, luna):
    conversation = ConversationFactory(user=user, persona=luna)
    exchange = services.message_send(
        user=user, text="hi", persona_id=luna.pk, conversation_id=conversation.pk
    )
    assert exchange.user_message.conversation_id == conversation.pk
    assert exchange.reply.persona_id == luna.pk
    assert exchange.reply.status == ChatMessage.Status.OK


def test_without_ids_the_current_persona_gets_the_message(user):
    exchange = services.message_send(user=user, text="hi")
    assert exchange.user_message.persona.slug == "isabella"


# ---------------------------------------------------------------- retry


def test_retry_answers_the_message_its_reply_was_for(user, luna):
    """Retry finds the message through the reply's `reply_to`, whatever was said since."""
    conversation = ConversationFactory(user=user, persona=luna)
    reply = _failed_reply(conversation, asked="the first question")
    services.message_send(user=user, text="a later question", conversation_id=conversation.pk)

    exchange = services.message_retry(user=user, reply_id=reply.pk)

    assert exchange.user_message.content == "the first question"
    assert exchange.reply.pk == reply.pk
    reply.refresh_from_db()
    assert (reply.status, reply.reply_to_id) == (ChatMessage.Status.OK, exchange.user_message.pk)


def test_retry_in_a_conversation_whose_persona_is_hidden_is_not_found(user, retired):
    reply = _failed_reply(retired)
    with pytest.raises(NotFound):
        services.message_retry(user=user, reply_id=reply.pk)
    reply.refresh_from_db()
    assert reply.status == ChatMessage.Status.FAILED


def test_retry_of_another_users_reply_is_not_found(user, other_user, luna):
    reply = _failed_reply(ConversationFactory(user=other_user, persona=luna))
    with pytest.raises(NotFound):
        services.message_retry(user=user, reply_id=reply.pk)
    reply.refresh_from_db()
    assert reply.status == ChatMessage.Status.FAILED


def test_retry_of_a_missing_reply_is_not_found(user):
    with pytest.raises(NotFound):
        services.message_retry(user=user, reply_id=10**30)


@pytest.mark.parametrize("which", ["good reply", "user message"])
def test_only_a_failed_or_interrupted_reply_can_be_retried(user, luna, which):
    exchange = services.message_send(user=user, text="hi", persona_id=luna.pk)
    target = exchange.reply if which == "good reply" else exchange.user_message
    with pytest.raises(ValidationError, match="Only a failed or interrupted reply"):
        services.message_retry(user=user, reply_id=target.pk)


def test_a_reply_without_its_message_cannot_be_retried(user, luna):
    reply = _failed_reply(ConversationFactory(user=user, persona=luna))
    ChatMessage.objects.filter(pk=reply.reply_to_id).delete()
    with pytest.raises(ValidationError, match="no message to answer"):
        services.message_retry(user=user, reply_id=reply.pk)


# ---------------------------------------------------------------- conversations


def test_a_title_over_the_limit_is_refused_not_cut(user, luna):
    """The model's rule holds: a 201-character title is an error, not 200 characters kept."""
    with pytest.raises(ValidationError) as caught:
        services.conversation_start(user=user, persona=luna, title="t" * 201)
    assert "title" in caught.value.message_dict
    assert not Conversation.objects.exists()


def test_a_title_at_the_limit_is_kept_whole(user, luna):
    conversation = services.conversation_start(user=user, persona=luna, title="t" * 200)
    assert conversation.title == "t" * 200
    assert [m.content for m in conversation.messages.all()] == [luna.greeting]


def test_starting_a_conversation_with_a_hidden_persona_is_not_found(user, other_user):
    with pytest.raises(NotFound):
        services.conversation_start(user=user, persona=PersonaFactory(owner=other_user))
    assert not Conversation.objects.exists()


def test_importing_history_for_a_hidden_persona_is_not_found(user, other_user):
    items = services.history_parse([{"role": "user", "content": "hello"}])
    with pytest.raises(NotFound):
        services.history_import(user=user, persona=PersonaFactory(owner=other_user), items=items)
    assert not Conversation.objects.exists()


# ---------------------------------------------------------------- selectors


def test_visible_lists_leave_out_hidden_personas(user, other_user, luna, retired):
    """What a user reaches by id excludes other users' and deactivated personas' rows."""
    mine = ConversationFactory(user=user, persona=luna)
    mine_message = ChatMessageFactory(conversation=mine)
    ChatMessageFactory(conversation=retired)
    ChatMessageFactory(conversation=ConversationFactory(user=other_user, persona=luna))

    assert list(selectors.conversation_list_visible(user=user)) == [mine]
    assert list(selectors.message_list_visible(user=user)) == [mine_message]
    assert selectors.conversation_get_visible(user=user, pk=mine.pk) == mine
    with pytest.raises(NotFound):
        selectors.conversation_get_visible(user=user, pk=retired.pk)


def test_get_visible_reads_what_the_orm_reads(user, other_user, luna, retired):
    """The statement compiled once gives the conversation and persona `.get()` gives, every
    field converted; anything out of reach (or not an id) is NotFound."""
    mine = ConversationFactory(user=user, persona=PersonaFactory(owner=user), title="Ours")
    for conversation in (mine, ConversationFactory(user=user, persona=luna)):
        expected = selectors.conversation_list_visible(user=user).get(pk=conversation.pk)
        found = selectors.conversation_get_visible(user=user, pk=conversation.pk)
        assert_same_instance(found, expected)
        assert_same_instance(found.persona, expected.persona)
        found.save(update_fields=["title"])  # a saved instance of this database
    theirs = ConversationFactory(user=other_user, persona=luna)
    for pk in (theirs.pk, retired.pk, 999_999, "abc", 2**63, 0, None):
        with pytest.raises(NotFound):
            selectors.conversation_get_visible(user=user, pk=pk)
    assert selectors.conversation_get_visible(user=user, pk=str(mine.pk)) == mine


def test_visible_lookups_cost_one_query(user, luna, django_assert_num_queries):
    conversation = ConversationFactory(user=user, persona=luna)
    reply = _failed_reply(conversation)
    with django_assert_num_queries(1):
        found = selectors.conversation_get_visible(user=user, pk=conversation.pk)
        assert found.persona.name == "Luna"
    with django_assert_num_queries(1):
        found = selectors.message_get_reply(user=user, pk=reply.pk)
        assert found.reply_to.content == "are you there?"
        assert (found.conversation.pk, found.persona.name) == (conversation.pk, "Luna")
