"""memory's side of chat's port (`chat.context`): what a reply may know, and what to learn.

`prompt_context` is registered as a prompt contributor and `on_user_messages_saved` is
connected to `user_messages_saved`, both in `memory.receivers`.
"""

from functools import partial
from typing import Any

from chat.context import PromptContext
from chat.models import ChatMessage
from memory import selectors, services
from memory.recall import Recalled, recall, snippet
from memory.tasks import extract_imported_memories, extract_memories
from mybella.providers.llm import ChatProvider, ProviderError, RecalledItem
from mybella.users.models import User
from personas.models import PersonaProfile

RECALL_K = 5
# Recalled items dropped before the prompt (see `_worth_recalling`) leave room for more.
RECALL_SPARE = 5


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


def _worth_recalling(
    items: list[Recalled], *, user: User, persona: PersonaProfile, message: ChatMessage
) -> list[Recalled]:
    """Return the recalled items a reply may bring up as remembered.

    Not a memory a newer one superseded, and not a memory learnt from the very message
    being answered alone (with the immediate task backend it is already stored): telling
    the user what they said a second ago is no remembering.
    """
    superseded = selectors.memory_superseded_ids(
        user=user, persona=persona, ids=[item.id for item in items if item.kind == "memory"]
    )
    return [
        item
        for item in items
        if item.kind != "memory"
        or (item.id not in superseded and set(item.source_message_ids) != {message.id})
    ]


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
    context's `user_name`. Recalled memories (see `_worth_recalling`) are stamped as
    recalled.
    """
    preferences = selectors.preference_dict(user=user, persona=persona)
    user_name = preferences.pop("preferred_name", None)
    recalled = []
    if selectors.memory_enabled(user=user, persona=persona):
        found = recall(
            user=user,
            persona=persona,
            query=text,
            k=RECALL_K + RECALL_SPARE,
            exclude_message_ids=[message.id],
            query_embedding=_query_embedding(provider, text),
        )
        recalled = _worth_recalling(found, user=user, persona=persona, message=message)[:RECALL_K]
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
