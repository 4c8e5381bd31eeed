"""Starting, naming and deleting conversations."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import selectors
from chat.context import messages_deleting
from chat.models import ChatMessage, Conversation
from chat.prompts import estimate_tokens
from mybella.core import limits
from mybella.core.db.commits import Statement, update_statement
from mybella.core.services import model_update, service
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
        # greetings_for() puts the main greeting first, the alternate greetings after it:
        # they are the greeting's alternatives, to swipe through like a regenerated reply.
        greetings = greetings_for(user=user, persona=persona)
        ChatMessage.objects.create(
            conversation=conversation,
            user=user,
            persona=persona,
            role=ChatMessage.Role.ASSISTANT,
            content=greetings[0],
            alternatives=greetings if len(greetings) > 1 else [],
            selected=0,
            provider="greeting",
            token_estimate=estimate_tokens(greetings[0]),
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


# A title made from a first message is cut to this many characters, at a word.
TITLE_FROM_MESSAGE_MAX_CHARS = 60


def conversation_title_from(text: str) -> str:
    """Return a conversation's title made from `text`: one line, cut at a word, with "…"."""
    words = " ".join(text.split())
    if len(words) <= TITLE_FROM_MESSAGE_MAX_CHARS:
        return words
    cut = words[: TITLE_FROM_MESSAGE_MAX_CHARS - 1]
    space = cut.rfind(" ")
    if space > TITLE_FROM_MESSAGE_MAX_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def conversation_said(*, conversation_id: int, text: str, at: datetime | None = None) -> None:
    """Record that the user wrote `text` in a conversation: it was active `at` (now).

    A conversation without a title is titled after `text`, its first message, once: one
    with a title (given, derived or renamed) keeps it. One statement. Its caller saves the
    user's message in the same transaction, which makes the user's cached chat reads stale
    on commit (`chat.cache`).
    """
    Conversation.objects.filter(pk=conversation_id).update(**_said_values(text=text, at=at))


def _said_values(*, text: str, at: datetime | None) -> dict:
    return {
        "updated_at": at or timezone.now(),
        "title": Case(
            When(title="", then=Value(conversation_title_from(text))), default=F("title")
        ),
    }


def conversation_said_statement(
    *, conversation_id: int, text: str | None, at: datetime
) -> Statement:
    """Return `conversation_said`'s statement, unrun (`mybella.core.db.commits`); without
    `text`, only the conversation's activity is recorded (a plainer statement)."""
    conversations = Conversation.objects.filter(pk=conversation_id)
    if text is None:
        return update_statement(conversations, updated_at=at)
    return update_statement(conversations, **_said_values(text=text, at=at))


@service
def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    """Give `conversation` (one the caller may see, looked up by them) a new title.

    The title is one line (runs of spaces and line breaks become one space; control and
    reordering marks go) and shows something.
    """
    title = " ".join(limits.one_line(title).split()) if isinstance(title, str) else ""
    if limits.shows_nothing(title):
        raise ValidationError({"title": _("Give the conversation a title.")})
    problem = limits.text_problem(title)
    if problem:
        raise ValidationError({"title": _("The title %s.") % problem})
    conversation, _changed = model_update(
        instance=conversation, fields=["title"], data={"title": title}
    )
    return conversation


@service
@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation and its messages.

    The apps above chat hear of the messages first (`chat.context.messages_deleting`), in
    the same transaction: memory forgets what it knew only from them.
    """
    message_ids = list(
        selectors.message_list(user=conversation.user, conversation=conversation).values_list(
            "id", flat=True
        )
    )
    if message_ids:
        messages_deleting.send(
            sender=ChatMessage,
            user=conversation.user,
            persona=conversation.persona,
            message_ids=message_ids,
        )
    conversation.delete()
