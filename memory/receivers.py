"""Wire memory into the apps below it; imported once, from `MemoryConfig.ready()`."""

from chat.context import prompt_contributors, user_messages_saved
from memory import chat_context

prompt_contributors.register(chat_context.prompt_context)
user_messages_saved.connect(
    chat_context.on_user_messages_saved, dispatch_uid="memory.extract_from_saved_messages"
)
