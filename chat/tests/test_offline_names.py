"""The offline engine calls the user only by a name they gave.

A username is a login handle: one that reads as a name ("newbie") still fills a card's
macros, but the model is not told the user likes to be called so, and the offline engine's
own replies never say it back ("what's on your heart, Newbie?"). A display or first name, or
the name they asked the persona to call them, is theirs, and the engine uses it now and then.
"""

import pytest

from chat.prompts import prompt_build
from chat.services.conversations import conversation_open
from chat.tests.factories import ChatMessageFactory, ConversationFactory
from memory.models import UserPreference
from mybella.providers.llm.offline import OfflineProvider
from personas.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Twelve messages: the engine weaves a name into about one reply in three.
MESSAGES = [f"Today I worked on project number {n}" for n in range(12)]


def _replies(user, persona) -> list[str]:
    conversation = ConversationFactory(user=user, persona=persona)
    replies = []
    for text in MESSAGES:
        message = ChatMessageFactory(conversation=conversation, content=text)
        prompt = prompt_build(
            user=user, persona=persona, conversation=conversation, message=message
        )
        replies.append(OfflineProvider().reply(prompt))
    return replies


def test_a_user_who_gave_no_name_is_not_called_by_their_username(luna):
    newbie = UserFactory(username="newbie")
    replies = _replies(newbie, luna)
    assert not any("newbie" in reply.lower() for reply in replies), replies
    # Nor is the model told they like to be called by it.
    conversation = ConversationFactory(user=newbie, persona=luna)
    message = ChatMessageFactory(conversation=conversation, content="hi")
    prompt = prompt_build(user=newbie, persona=luna, conversation=conversation, message=message)
    assert "likes to be called" not in prompt.messages[0]["content"]
    assert prompt.user_name == ""


@pytest.mark.parametrize(
    ("names", "called"),
    [({"first_name": "Tom"}, "Tom"), ({"display_name": "Ally", "first_name": "Alice"}, "Ally")],
)
def test_a_name_on_the_account_is_used(luna, names, called):
    replies = _replies(UserFactory(username="newbie", **names), luna)
    assert any(called in reply for reply in replies), replies
    assert not any("Newbie" in reply for reply in replies)


def test_the_name_they_asked_to_be_called_is_used(luna):
    """Memory's `preferred_name` preference ("call me Robin") names them."""
    newbie = UserFactory(username="newbie")
    UserPreference.objects.create(user=newbie, persona=luna, key="preferred_name", value="Robin")
    replies = _replies(newbie, luna)
    assert any("Robin" in reply for reply in replies), replies
    assert not any("Newbie" in reply for reply in replies)


def test_a_card_greeting_answering_a_first_hi_names_no_username(luna):
    """A greeting's {{user}} reads naturally without a name given, in a "hi"'s reply."""
    luna.greeting = "Hello {{user}}, I'm Luna. What shall we look at tonight?"
    luna.save()
    newbie = UserFactory(username="newbie")
    conversation = ConversationFactory(user=newbie, persona=luna)
    message = ChatMessageFactory(conversation=conversation, content="hi")
    prompt = prompt_build(user=newbie, persona=luna, conversation=conversation, message=message)
    assert OfflineProvider().reply(prompt).startswith("Hello, I'm Luna.")


def test_a_hi_after_a_greeting_that_named_the_user_does_not_greet_again(luna):
    """The conversation opened with the greeting naming them by their username ("Hello
    Newbie"): a first "hi" is not met by the greeting again, though this one names nobody."""
    luna.greeting = "Hello {{user}}! I'm Luna. What shall we look at tonight?"
    luna.save()
    newbie = UserFactory(username="newbie")
    conversation = conversation_open(user=newbie, persona=luna)
    message = ChatMessageFactory(conversation=conversation, content="hi")
    prompt = prompt_build(user=newbie, persona=luna, conversation=conversation, message=message)
    reply = OfflineProvider().reply(prompt)
    assert "I'm Luna" not in reply and "Newbie" not in reply, reply
