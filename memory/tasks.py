"""Background work on memories: noticing what users tell their personas."""

import logging
from itertools import groupby

from django_tasks import task

from chat.models import ChatMessage
from memory import selectors
from memory.extraction import MemoryOp, extract_offline, extraction_messages, parse_model_ops
from memory.models import ConversationMemory, MemoryEvent
from memory.services import memory_apply_ops
from mybella.providers.llm import ChatProvider, ProviderError, get_provider

logger = logging.getLogger(__name__)


@task()
def extract_memories(message_ids: list[int], imported: bool = False) -> int:
    """Extract memories from users' messages; return how many memories changed.

    Safe to run twice: proposals that repeat what a pair already remembers are skipped.
    """
    messages = (
        ChatMessage.objects.filter(
            id__in=message_ids, role=ChatMessage.Role.USER, status=ChatMessage.Status.OK
        )
        .select_related("user", "persona")
        .order_by("user_id", "persona_id", "created_at", "id")
    )
    provider = get_provider()
    changed = 0
    for (_user_id, _persona_id), pair_messages in groupby(
        messages, key=lambda m: (m.user_id, m.persona_id)
    ):
        pair_messages = list(pair_messages)
        user, persona = pair_messages[0].user, pair_messages[0].persona
        if not selectors.memory_enabled(user=user, persona=persona):
            continue
        for message in pair_messages:
            existing = list(
                selectors.memory_list(user=user, persona=persona).values_list("id", "content")
            )
            ops, actor = _propose(provider, message.content, existing)
            if imported:
                actor = MemoryEvent.Actor.IMPORT
            changed += len(
                memory_apply_ops(
                    user=user,
                    persona=persona,
                    ops=ops,
                    actor=actor,
                    source_message_ids=[message.id],
                )
            )
    return changed


def _propose(
    provider: ChatProvider, text: str, existing: list[tuple[int, str]]
) -> tuple[list[MemoryOp], str]:
    """Ask the language model for operations; the offline rules answer when there is none."""
    try:
        raw = provider.complete(extraction_messages(text, existing), json=True)
    except ProviderError as error:
        logger.info("Model extraction failed (%s); using the offline rules.", error.message)
        raw = None
    if raw is None:
        return extract_offline(text, existing), MemoryEvent.Actor.EXTRACTOR
    ids = [memory_id for memory_id, _ in existing]
    return parse_model_ops(raw, ids), MemoryEvent.Actor.MODEL


@task()
def embed_memories(memory_ids: list[int]) -> int:
    """Store the configured model's embedding of each memory; return how many were stored.

    Safe to run twice; a provider failure leaves the memories without one until next time.
    """
    memories = list(ConversationMemory.objects.filter(id__in=memory_ids).only("id", "content"))
    if not memories:
        return 0
    try:
        vectors = get_provider().embed([memory.content for memory in memories])
    except ProviderError as error:
        logger.info("Embedding failed (%s); memories stay lexical only.", error.message)
        return 0
    if not vectors:
        return 0
    for memory, vector in zip(memories, vectors, strict=True):
        memory.embedding = vector
    ConversationMemory.objects.bulk_update(memories, ["embedding"])
    return len(memories)


def enqueue_embedding(memory_ids: list[int]) -> None:
    """Queue embeddings for these memories when the configured engine offers them."""
    if memory_ids and not get_provider().offline:
        embed_memories.enqueue(memory_ids)
