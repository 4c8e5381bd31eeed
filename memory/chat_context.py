"""memory's side of chat's port (`chat.context`): what a reply may know, and what to learn.

`memory_context` is registered as a prompt contributor and `on_user_messages_saved` is
connected to `user_messages_saved`, both in `memory.receivers`.
"""

from dataclasses import replace
from functools import partial
from typing import Any

from chat.context import HistorySummary, PromptContext
from chat.models import ChatMessage
from memory import selectors, services
from memory.models import ConversationMemory
from memory.recall import Recalled, snippet
from memory.recall import recall as recall_items
from memory.tasks import extract_imported_memories, extract_memories, summarise_conversation
from mybella.core.db.tasks import enqueue_on_commit
from mybella.providers.llm import ChatProvider, ProviderError, RecalledItem
from mybella.users.models import User
from personas.models import PersonaProfile

RECALL_K = 5
SUMMARIES_IN_PROMPT = 5  # the newest summaries of history before the message
RECENT_IN_PROMPT = 3  # the newest memories, for the offline engine after a long gap
# Memories looked at to find them: a bound, since a long import may just have added a run
# of summaries (which are no news about the user's life).
RECENT_SCAN = 20
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


def _worth_recalling(items: list[Recalled], *, message: ChatMessage) -> list[Recalled]:
    """Return the recalled items a reply may bring up as remembered.

    Not a memory learnt from the very message being answered alone (with the immediate
    task backend it is already stored): telling the user what they said a second ago is no
    remembering. (Recall never returns a memory a newer one superseded.)
    """
    return [
        item
        for item in items
        if item.kind != "memory" or set(item.source_message_ids) != {message.id}
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
    context = memory_context(
        user=user, persona=persona, message=message, text=text, provider=provider
    )
    return replace(context, summaries=(), recent=())


def memory_context(
    *,
    user: User,
    persona: PersonaProfile,
    message: ChatMessage,
    text: str,
    provider: ChatProvider | None,
) -> PromptContext:
    """Return all memory adds to a prompt: the pair's preferences and, unless remembering
    is off, what bears on `text`, the newest summaries of history before `message` (oldest
    first) and the newest memories (newest first).

    The contributor registered. The switch, the preferences, the summaries and the newest
    memories come in one query (`memory_prompt_context`), then recall.
    """
    known = selectors.memory_prompt_context(
        user=user,
        persona=persona,
        before=message.created_at,
        summaries=SUMMARIES_IN_PROMPT,
        recent=RECENT_SCAN,
    )
    preferences = dict(known.preferences)
    user_name = preferences.pop("preferred_name", None)
    if not known.remember:
        return PromptContext(user_name=user_name, preferences=preferences)
    found = recall_items(
        user=user,
        persona=persona,
        query=text,
        k=RECALL_K + RECALL_SPARE,
        exclude_message_ids=[message.id],
        query_embedding=_query_embedding(provider, text),
        with_context=False,  # the prompt takes the recalled texts alone
    )
    recalled = _worth_recalling(found, message=message)[:RECALL_K]
    services.memory_mark_recalled(
        user=user,
        persona=persona,
        memory_ids=[item.id for item in recalled if item.kind == "memory"],
    )
    recent = [memory for memory in known.recent if memory.kind != ConversationMemory.Kind.SUMMARY][
        :RECENT_IN_PROMPT
    ]
    return PromptContext(
        user_name=user_name,
        preferences=preferences,
        recalled=tuple(
            RecalledItem(kind=item.kind, content=item.content, said_at=item.created_at)
            for item in recalled
        ),
        # A recalled text that must be cut keeps the part around the words of the message.
        cut_recalled=partial(_cut_around, text),
        summaries=tuple(
            HistorySummary(
                content=summary.content,
                first_at=summary.covers_from,
                last_at=summary.covers_to,
                conversation_id=summary.covers_conversation_id,
            )
            for summary in reversed(known.summaries)
        ),
        recent=tuple(
            RecalledItem(kind="memory", content=memory.content, said_at=memory.created_at)
            for memory in recent
        ),
    )


def on_user_messages_saved(
    sender: Any,
    *,
    conversation_id: int,
    message_ids: list[int],
    imported: bool,
    **kwargs: Any,
) -> None:
    """Queue the extraction of memories from the user messages just stored, to run once
    their transaction commits; a sent message's also queues the conversation's summarising
    when a stretch is due (`extract_memories`).

    An imported history is worked through in chunks of its conversation (see
    `extract_imported_memories`), so it never holds up messages sent meanwhile.
    """
    if imported:
        enqueue_on_commit(extract_imported_memories, conversation_id)
    elif message_ids:
        enqueue_on_commit(extract_memories, message_ids, conversation_id=conversation_id)


def on_messages_saved_summarise(
    sender: Any, *, conversation_id: int, imported: bool, **kwargs: Any
) -> None:
    """Queue folding an imported history's older stretches into summaries, to run once its
    transaction commits (a sent message's extraction queues it when one is due)."""
    if imported:
        enqueue_on_commit(summarise_conversation, conversation_id)
