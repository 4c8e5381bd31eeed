"""The operations an extractor proposes on a pair's memories: the offline rules and a
language model alike propose `MemoryOp` values; `memory.services.memory_apply_ops` applies them."""

from dataclasses import dataclass
from datetime import date

from memory.models import ConversationMemory
from memory.rules import IMPORTANCE_DEFAULT

Kind = ConversationMemory.Kind
FACT, PREFERENCE, EVENT = Kind.FACT.value, Kind.PREFERENCE.value, Kind.EVENT.value


@dataclass(frozen=True)
class MemoryOp:
    """One proposed change to a pair's memories."""

    op: str  # "add" | "update" | "delete"
    content: str = ""
    kind: str = FACT
    importance: int = IMPORTANCE_DEFAULT
    memory_id: int | None = None  # for update/delete
    preference: tuple[str, str] | None = None  # (key, value) to set as a UserPreference
    slot: str = ""  # what the fact is about, when the proposer says; else read from the content
    happened_on: date | None = None  # when what it tells happened or will happen
