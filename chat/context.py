"""chat's port for the apps above it: what they add to a prompt, and news of saved messages.

chat imports none of those apps. An app that knows something about a (user, persona) pair
registers a *prompt contributor*, a function returning a `PromptContext`; `chat.prompts`
merges every contributor's context into the prompt it builds. An app that wants to act on
what users say connects to `user_messages_saved` (and to `user_messages_edited` and
`messages_deleting`, to follow their edits and deletions). All are wired in that app's
`AppConfig.ready()` (memory's `receivers` module).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.dispatch import Signal

from mybella.core.hooks import Registry
from mybella.providers.llm import ChatProvider, RecalledItem

if TYPE_CHECKING:
    from chat.models import ChatMessage
    from mybella.users.models import User
    from personas.models import PersonaProfile


@dataclass(frozen=True)
class HistorySummary:
    """A summary of a stretch of one of the pair's conversations, older than what fits.

    It covers the messages from `first_at` to `last_at` of conversation `conversation_id`
    (None when that conversation was deleted since).
    """

    content: str
    first_at: datetime
    last_at: datetime
    conversation_id: int | None = None


@dataclass(frozen=True)
class PromptContext:
    """What one contributor adds to the prompt answering a message.

    `user_name` is what the user likes to be called (None: this contributor does not say;
    the first contributor that does wins, else the account's own name). `preferences` are
    how the user likes to be answered, by key (an earlier contributor's key wins).
    `recalled` are memories or past messages that bear on the message, best first.
    `cut_recalled(text, max_chars)` shortens one of them when the budget is tight,
    keeping the part that made it relevant; without it the text is cut at its end.
    `summaries` are the newest summaries of the pair's history before the message, oldest
    first; the prompt keeps those about what its history does not show. `recent` are
    the newest things remembered about the user, newest first (the offline engine asks
    about one after a long gap).
    """

    user_name: str | None = None
    preferences: Mapping[str, str] = field(default_factory=dict)
    recalled: tuple[RecalledItem, ...] = ()
    cut_recalled: Callable[[str, int], str] | None = None
    summaries: tuple[HistorySummary, ...] = ()
    recent: tuple[RecalledItem, ...] = ()


class PromptContributor(Protocol):
    """Return what this app adds to the prompt answering `message`.

    `text` is the message as the prompt holds it (cut to its share of the budget).
    `provider` is the engine that will answer (None when only the prompt is wanted).
    Read only through selectors scoped to (`user`, `persona`).
    """

    def __call__(
        self,
        *,
        user: "User",
        persona: "PersonaProfile",
        message: "ChatMessage",
        text: str,
        provider: ChatProvider | None,
    ) -> PromptContext: ...


prompt_contributors: Registry[PromptContributor] = Registry("prompt_contributors")

# Sent inside the transaction that stores users' messages, once they are saved, by
# `chat.models.ChatMessage`, with:
#   conversation_id: int      the conversation they are in
#   message_ids: list[int]    the user messages stored, in the order they were stored
#   imported: bool            from a history import (True) or sent just now (False)
# A receiver's writes commit or roll back with the messages; work it starts must wait for
# the commit (`mybella.core.db.tasks.enqueue_on_commit`): nothing else sees them before.
user_messages_saved = Signal()

# Sent inside the transaction that deletes messages, just before they go (so a receiver
# still sees what they are linked to, and its writes commit or roll back with the
# deletion), with:
#   user: User                    whose messages they are
#   persona: PersonaProfile       the persona they were exchanged with
#   message_ids: list[int]        the messages about to be deleted
# A receiver that raises rolls the deletion back.
messages_deleting = Signal()

# Sent once the transaction that changed the text of messages has committed, with:
#   user, persona                 as above
#   message_ids: list[int]        the user messages whose text was edited
user_messages_edited = Signal()
