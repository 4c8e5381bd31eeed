"""memory's side of chat's port (`chat.context`): what a reply may know, and what to learn.

`prompt_context` is registered as a prompt contributor and `on_user_messages_saved` is
connected to `user_messages_saved`, both in `memory.receivers`.
"""

from functools import partial
from typing import Any

from chat.context import PromptContext
from chat.models import ChatMessage
from memory import selectors, services
from memory.recall import recall, snippet
from memory.tasks import extract_imported_memories, extract_memories
from mybella.providers.llm import ChatProvider, ProviderError, RecalledItem
from mybella.users.models import User
from personas.models import PersonaProfile

RECALL_K = 5


def _query_embedding(provider: ChatProvider | None, text: str) -> list[float] | None:
    if provider is None or provider.offline:
        return None
    try:
        vectors = provider.embed([text])
    except ProviderError:
        return None  # recall still works on words alone
    return vectors[0] if vectors else None


def _cut_around(query: str, text: str, max_chars: int) -> str:
    return snippet(text, query, max_chars)


def prompt_context(
    *,
    user: User,
    persona: PersonaProfile,
    message: ChatMessage,
    text: str,
    provider: ChatProvider | None,
) -> PromptContext:
    """Return the pair's preferences and, unless remembering is off, what bears on `text`.

    The name the user asked to be called (the `preferred_name` preference) is the
    context's `user_name`. Recalled memories are stamped as recalled.
    """
    preferences = selectors.preference_dict(user=user, persona=persona)
    user_name = preferences.pop("preferred_name", None)
    recalled = []
    if selectors.memory_enabled(user=user, persona=persona):
        recalled = recall(
            user=user,
            persona=persona,
            query=text,
            k=RECALL_K,
            exclude_message_ids=[message.id],
            query_embedding=_query_embedding(provider, text),
            with_context=False,  # the prompt takes the recalled texts alone
        )
        services.memory_mark_recalled(
            user=user,
            persona=persona,
            memory_ids=[item.id for item in recalled if item.kind == "memory"],
        )
    return PromptContext(
        user_name=user_name,
        preferences=preferences,
        recalled=tuple(RecalledItem(kind=item.kind, content=item.content) for item in recalled),
        # A recalled text that must be cut keeps the part around the words of the message.
        cut_recalled=partial(_cut_around, text),
    )


def on_user_messages_saved(
    sender: Any,
    *,
    conversation_id: int,
    message_ids: list[int],
    imported: bool,
    **kwargs: Any,
) -> None:
    """Queue the extraction of memories from the user messages just stored.

    An imported history is worked through in chunks of its conversation (see
    `extract_imported_memories`), so it never holds up messages sent meanwhile.
    """
    if imported:
        extract_imported_memories.enqueue(conversation_id)
    elif message_ids:
        extract_memories.enqueue(message_ids)
