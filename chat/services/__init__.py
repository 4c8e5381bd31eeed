"""Writes of conversations and messages: talking to a persona.

The services live in `conversations`, `messages` and `history`; import them from here.
"""

from chat.services.conversations import (
    conversation_delete,
    conversation_rename,
    conversation_start,
)
from chat.services.edits import message_delete, message_edit
from chat.services.history import (
    HISTORY_EARLIEST,
    HISTORY_FUTURE_SLACK,
    history_aexport,
    history_export,
    history_export_name,
    history_import,
    history_parse,
)
from chat.services.messages import (
    Exchange,
    ReplyEvents,
    message_regenerate,
    message_regenerate_stream,
    message_retry,
    message_select,
    message_send,
    message_send_stream,
)

__all__ = [
    "HISTORY_EARLIEST",
    "HISTORY_FUTURE_SLACK",
    "Exchange",
    "ReplyEvents",
    "conversation_delete",
    "conversation_rename",
    "conversation_start",
    "history_aexport",
    "history_export",
    "history_export_name",
    "history_import",
    "history_parse",
    "message_delete",
    "message_edit",
    "message_regenerate",
    "message_regenerate_stream",
    "message_retry",
    "message_select",
    "message_send",
    "message_send_stream",
]
