"""Starting and deleting conversations."""

from django.db import transaction

from chat import selectors
from chat.models import ChatMessage, Conversation
from chat.prompts import estimate_tokens
from mybella.core.services import service
from mybella.users.models import User
from personas.macros import greetings_for
from personas.models import PersonaProfile


def conversation_new(*, user: User, persona: PersonaProfile, title: str) -> Conversation:
    """Create the pair's conversation after checking the title against the model's rules.

    For the services of this package, once they have resolved `persona` for `user`.
    """
    conversation = Conversation(user=user, persona=persona, title=title)
    # The user and persona were resolved by the caller; only what was given is checked.
    conversation.full_clean(exclude=["user", "persona"])
    conversation.save()
    return conversation


def conversation_open(*, user: User, persona: PersonaProfile, title: str = "") -> Conversation:
    """Start a conversation of a resolved pair, opening with the persona's greeting."""
    conversation = conversation_new(user=user, persona=persona, title=title)
    if persona.greeting.strip():
        # Said with the names filled in, as SillyTavern does; the persona's text stays raw.
        # greetings_for() puts the main greeting first, the alternate greetings after it.
        greeting = greetings_for(user=user, persona=persona)[0]
        ChatMessage.objects.create(
            conversation=conversation,
            user=user,
            persona=persona,
            role=ChatMessage.Role.ASSISTANT,
            content=greeting,
            provider="greeting",
            token_estimate=estimate_tokens(greeting),
        )
    return conversation


@service
@transaction.atomic
def conversation_start(*, user: User, persona: PersonaProfile, title: str = "") -> Conversation:
    """Start a conversation that opens with the persona's greeting.

    A persona `user` may not see is `NotFound`; a title the model refuses (longer than
    its field) is a `ValidationError`, never cut short.
    """
    persona = selectors.chat_persona_get(user=user, pk=persona.pk)
    return conversation_open(user=user, persona=persona, title=title)


@service
def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation and its messages; memories made from it stay."""
    conversation.delete()
