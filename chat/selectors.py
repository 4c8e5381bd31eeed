"""Reads of conversations and messages, always scoped to the user asking."""

from django.db.models import QuerySet

from chat.models import ChatMessage, Conversation
from mybella.users.models import User
from personas.models import PersonaProfile


def conversation_list(*, user: User, persona: PersonaProfile) -> QuerySet[Conversation]:
    """Return the pair's conversations, most recently active first."""
    return Conversation.objects.filter(user=user, persona=persona).order_by("-updated_at", "-id")


def conversation_list_for_user(*, user: User) -> QuerySet[Conversation]:
    """Return all of `user`'s conversations (for lookups by id)."""
    return Conversation.objects.filter(user=user).select_related("persona")


def conversation_latest(*, user: User, persona: PersonaProfile) -> Conversation | None:
    """Return the pair's most recently active conversation, if any."""
    return conversation_list(user=user, persona=persona).first()


def message_list(*, user: User, conversation: Conversation) -> QuerySet[ChatMessage]:
    """Return a conversation's messages, oldest first."""
    return ChatMessage.objects.filter(user=user, conversation=conversation).order_by(
        "created_at", "id"
    )


def message_list_for_user(*, user: User) -> QuerySet[ChatMessage]:
    """Return all of `user`'s messages (for lookups by id)."""
    return ChatMessage.objects.filter(user=user).select_related("conversation", "persona")


def message_recent(
    *, user: User, conversation: Conversation, before: ChatMessage | None = None, limit: int = 40
) -> list[ChatMessage]:
    """Return up to `limit` of a conversation's good messages before `before`, newest first.

    Good: finished and not empty (no pending, stopped or failed replies).
    """
    messages = ChatMessage.objects.filter(
        user=user,
        conversation=conversation,
        persona_id=conversation.persona_id,
        status=ChatMessage.Status.OK,
    ).exclude(content="")
    if before is not None:
        # Bound the index range by time, not by id: SQLite (without ANALYZE statistics)
        # takes `id < ?` for a cheap rowid range and walks every user's messages.
        messages = messages.filter(created_at__lte=before.created_at).exclude(pk=before.pk)
    return list(messages.order_by("-created_at", "-id")[:limit])


def user_turns(*, user: User, persona: PersonaProfile) -> int:
    """Return how many messages `user` has sent `persona`."""
    return ChatMessage.objects.filter(
        user=user, persona=persona, role=ChatMessage.Role.USER
    ).count()
