"""Reads of memories and preferences, always scoped to one (user, persona) pair."""

from django.db.models import Prefetch, QuerySet

from chat import selectors as chat_selectors
from memory.models import ConversationMemory, MemoryEvent, MemorySettings, UserPreference
from mybella.users.models import User
from personas.models import PersonaProfile


def memory_list(*, user: User, persona: PersonaProfile) -> QuerySet[ConversationMemory]:
    """Return what `persona` remembers about `user`, pinned and important first."""
    return ConversationMemory.objects.filter(user=user, persona=persona).prefetch_related(
        Prefetch("source_messages", queryset=chat_selectors.message_ids_only()),
    )


def memory_list_with_history(
    *, user: User, persona: PersonaProfile
) -> QuerySet[ConversationMemory]:
    """Return the pair's memories, each with its recent history as `.history`, newest first."""
    history = MemoryEvent.objects.filter(user=user).order_by("-created_at", "-id")
    return memory_list(user=user, persona=persona).prefetch_related(
        Prefetch("events", queryset=history, to_attr="history")
    )


def memory_list_for_user(*, user: User) -> QuerySet[ConversationMemory]:
    """Return all of `user`'s memories, whichever persona holds them (for lookups by id)."""
    return ConversationMemory.objects.filter(user=user).select_related("persona")


def preference_list(*, user: User, persona: PersonaProfile) -> QuerySet[UserPreference]:
    """Return how `user` likes `persona` to talk to them."""
    return UserPreference.objects.filter(user=user, persona=persona)


def preference_dict(*, user: User, persona: PersonaProfile) -> dict[str, str]:
    """Return the pair's preferences as a plain mapping."""
    return dict(preference_list(user=user, persona=persona).values_list("key", "value"))


def memory_enabled(*, user: User, persona: PersonaProfile) -> bool:
    """Return whether `persona` remembers things about `user` (on unless switched off)."""
    remember = (
        MemorySettings.objects.filter(user=user, persona=persona)
        .values_list("remember", flat=True)
        .first()
    )
    return remember is not False
