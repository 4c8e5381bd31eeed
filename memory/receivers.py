"""Wire memory into the apps below it and its services to its tasks; imported once, from
`MemoryConfig.ready()`."""

from typing import Any

from chat.context import prompt_contributors, user_messages_saved
from memory import chat_context, selectors, tasks
from memory.signals import memory_content_changed
from personas.macros import user_name_sources

prompt_contributors.register(chat_context.prompt_context)
user_messages_saved.connect(
    chat_context.on_user_messages_saved, dispatch_uid="memory.extract_from_saved_messages"
)


def on_memory_content_changed(sender: Any, *, memory_ids: list[int], **kwargs: Any) -> None:
    """Queue the embedding of memories whose content is new (when the engine offers one)."""
    tasks.enqueue_embedding(memory_ids)


memory_content_changed.connect(on_memory_content_changed, dispatch_uid="memory.embed_new_content")

user_name_sources.register(selectors.preferred_name_get)
