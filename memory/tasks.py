"""Background work on memories: noticing what users tell their personas, embedding memories.

Tasks are adapters: they read through the selectors and write through the services.
Nothing here is imported by the services; `memory.receivers` connects the signals that
queue this work.
"""

import logging
from itertools import groupby

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from chat import selectors as chat_selectors
from chat.models import ChatMessage
from memory import selectors, services, summaries
from memory.extraction import (
    MemoryOp,
    extract_offline,
    extraction_messages,
    parse_model_ops,
)
from memory.models import MemoryEvent
from memory.rules import is_junk
from mybella.providers.llm import ChatProvider, ProviderError, get_provider

logger = logging.getLogger(__name__)


# Import chunks yield to interactive work: the database worker takes higher priorities first.
IMPORT_PRIORITY = -10


@task()
def extract_memories(
    message_ids: list[int], imported: bool = False, conversation_id: int | None = None
) -> int:
    """Extract memories from users' messages; return how many memories changed.

    With `conversation_id` (the conversation a message was just sent to), first queue
    `summarise_conversation` for it if a stretch is due: a send queues this one task, and
    summarising only when there is something to fold (`summaries.stretch_next`, the check
    the summarising task begins with), not a task per message that mostly found nothing.

    Safe to run twice and to stop at any point: each message is marked in the same
    transaction as its memories, and marked messages are skipped.
    """
    if conversation_id is not None:
        summarise_if_due(conversation_id)
    return _extract(message_ids, imported=imported)


def summarise_if_due(conversation_id: int) -> bool:
    """Queue `summarise_conversation` if a stretch of the conversation is due; say if so."""
    conversation = chat_selectors.conversation_get(pk=conversation_id)
    if conversation is None or summaries.stretch_next(conversation=conversation) is None:
        return False
    summarise_conversation.enqueue(conversation_id)
    return True


@task(priority=IMPORT_PRIORITY)
def extract_imported_memories(conversation_id: int, after_id: int = 0) -> dict[str, int]:
    """Extract memories from the next chunk of an imported conversation, then queue the rest.

    One chunk per task, each queued when the one before it ends, so tasks queued meanwhile
    (other users' messages, other imports) run in between instead of waiting for the
    whole import. A chunk is TASKS_CHUNK_SIZE user messages. Return how many messages the
    chunk held and how many memories changed.
    """
    chunk = list(
        chat_selectors.message_ids_imported(conversation_id=conversation_id, after_id=after_id)[
            : settings.TASKS_CHUNK_SIZE
        ]
    )
    if not chunk:
        return {"messages": 0, "memories": 0}
    changed = _extract(chunk, imported=True)
    rest = chat_selectors.message_ids_imported(conversation_id=conversation_id, after_id=chunk[-1])
    if rest.exists():
        extract_imported_memories.enqueue(conversation_id, chunk[-1])
    else:
        # The import and its memories wrote many index segments: merge them (SQLite).
        merge_search_indexes.enqueue()
    return {"messages": len(chunk), "memories": changed}


@task(priority=IMPORT_PRIORITY)
def merge_search_indexes() -> dict[str, int]:
    """Merge the full-text indexes into one segment each (`services.search_indexes_merge`)."""
    return services.search_indexes_merge()


def _extract(message_ids: list[int], *, imported: bool) -> int:
    messages = selectors.messages_to_extract(ids=message_ids)
    provider = get_provider()
    changed = 0
    for (_user_id, _persona_id), pair_messages in groupby(
        messages, key=lambda m: (m.user_id, m.persona_id)
    ):
        pair_messages = list(pair_messages)
        user, persona = pair_messages[0].user, pair_messages[0].persona
        if not selectors.memory_enabled(user=user, persona=persona):
            # Nothing new is remembered while the switch is off, not later either.
            services.messages_mark_extracted(messages=pair_messages)
            continue
        for message in pair_messages:
            existing = list(
                selectors.memory_list(user=user, persona=persona).values_list("id", "content")
            )
            # The model is asked outside any transaction: a slow answer holds no lock.
            ops, actor = _propose(provider, message, existing, _persona_lines(message))
            if imported:
                actor = MemoryEvent.Actor.IMPORT
            # Marked in the same transaction as its memories; skipped if another run did it.
            applied = services.memory_apply_extraction(message=message, ops=ops, actor=actor)
            changed += len(applied or ())
    return changed


def _persona_lines(message: ChatMessage) -> list[str]:
    """Return what the persona said that a model might copy as a memory: its greeting and
    its last line before `message`."""
    lines = [message.persona.greeting]
    before = chat_selectors.message_recent(
        user=message.user, conversation=message.conversation, before=message, limit=1
    )
    lines += [m.content for m in before if m.role == ChatMessage.Role.ASSISTANT]
    return [line for line in lines if line]


def _propose(
    provider: ChatProvider,
    message: ChatMessage,
    existing: list[tuple[int, str]],
    persona_lines: list[str],
) -> tuple[list[MemoryOp], str]:
    """Ask the language model for operations; the offline rules answer when there is none.

    Junk is dropped by one rule (`memory.rules.is_junk`), copies of `persona_lines` too.
    Dates the message says ("tomorrow") count from the day it was written.
    """
    text, today = message.content, timezone.localdate(message.created_at)
    try:
        raw = provider.complete(extraction_messages(text, existing, today=today), json=True)
    except ProviderError as error:
        logger.info("Model extraction failed (%s); using the offline rules.", error.message)
        raw = None
    if raw is None:
        ops = [
            op
            for op in extract_offline(text, existing, today=today)
            if op.op == "delete" or not is_junk(op.content, persona_lines, subject_implied=True)
        ]
        return ops, MemoryEvent.Actor.EXTRACTOR
    ids = [memory_id for memory_id, _ in existing]
    return parse_model_ops(raw, ids, persona_lines=persona_lines), MemoryEvent.Actor.MODEL


@task()
def embed_memories(memory_ids: list[int]) -> int:
    """Store the configured model's embedding of each memory; return how many were stored.

    Safe to run twice; a provider failure leaves the memories without one until next time.
    """
    memories = selectors.memories_by_ids(ids=memory_ids)
    if not memories:
        return 0
    try:
        vectors = get_provider().embed([memory.content for memory in memories])
    except ProviderError as error:
        logger.info("Embedding failed (%s); memories stay lexical only.", error.message)
        return 0
    if not vectors:
        return 0
    return services.memory_set_embeddings(
        embeddings={memory.pk: vector for memory, vector in zip(memories, vectors, strict=True)}
    )


def enqueue_embedding(memory_ids: list[int]) -> None:
    """Queue embeddings for these memories when the configured engine offers them."""
    if memory_ids and not get_provider().offline:
        embed_memories.enqueue(memory_ids)


# Due stretches one task summarises before it queues the rest (each may be a model call).
SUMMARY_STRETCHES_PER_TASK = 5


@task(priority=IMPORT_PRIORITY)
def summarise_conversation(conversation_id: int) -> int:
    """Fold the conversation's stretches older than what a prompt holds into summaries.

    At most SUMMARY_STRETCHES_PER_TASK per run, then the rest is queued, so a long import
    takes turns with other work. Safe to run twice, or at once: a stretch is marked in the
    same transaction as its summary, once. Return how many summaries were written.
    """
    conversation = chat_selectors.conversation_get(pk=conversation_id)
    if conversation is None:
        return 0
    written, more = summaries.conversation_summarise(
        conversation=conversation,
        provider=get_provider(),
        max_stretches=SUMMARY_STRETCHES_PER_TASK,
    )
    if more:
        summarise_conversation.enqueue(conversation_id)
    return written
