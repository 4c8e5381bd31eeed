"""Wire memory into the apps below it and its services to its tasks; imported once, from
`MemoryConfig.ready()`."""

from typing import Any

from django.db.models.signals import m2m_changed, post_save

from chat.context import (
    messages_deleting,
    prompt_contributors,
    user_messages_edited,
    user_messages_saved,
)
from memory import chat_context, selectors, services, tasks
from memory.cache import memory_row_changed
from memory.models import ConversationMemory
from memory.signals import memory_content_changed
from personas.macros import user_name_sources

prompt_contributors.register(chat_context.memory_context)
post_save.connect(memory_row_changed, sender=ConversationMemory, dispatch_uid="memory-saved")
m2m_changed.connect(
    memory_row_changed,
    sender=ConversationMemory.source_messages.through,
    dispatch_uid="memory-sources-changed",
)
user_messages_saved.connect(
    chat_context.on_user_messages_saved, dispatch_uid="memory.extract_from_saved_messages"
)
user_messages_saved.connect(
    chat_context.on_messages_saved_summarise, dispatch_uid="memory.summarise_long_conversations"
)


def on_messages_deleting(
    sender: Any, *, user: Any, persona: Any, message_ids: list[int], **kwargs: Any
) -> None:
    """Forget what messages about to be deleted taught, in their deleting transaction."""
    services.memories_forget_messages(user=user, persona=persona, message_ids=message_ids)


messages_deleting.connect(on_messages_deleting, dispatch_uid="memory.forget_deleted_messages")


def on_memory_content_changed(sender: Any, *, memory_ids: list[int], **kwargs: Any) -> None:
    """Queue the embedding of memories whose content is new (when the engine offers one)."""
    tasks.enqueue_embedding(memory_ids)


memory_content_changed.connect(on_memory_content_changed, dispatch_uid="memory.embed_new_content")


def on_user_messages_edited(
    sender: Any, *, user: Any, persona: Any, message_ids: list[int], **kwargs: Any
) -> None:
    """Forget what edited messages taught, then extract their memories again."""
    services.memories_forget_messages(user=user, persona=persona, message_ids=message_ids)
    tasks.extract_memories.enqueue(message_ids)


user_messages_edited.connect(on_user_messages_edited, dispatch_uid="memory.reextract_edited")


user_name_sources.register(selectors.preferred_name_get)
