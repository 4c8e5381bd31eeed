"""Notice what a user's message says about them, as add/update/delete operations on memories.

The offline rules (`rules`) and a language model (`prompts` to ask it, `model_output` to
read its answer) propose the same `MemoryOp` values (`ops`); the memory services apply
them to one (user, persona) pair alone.
"""

from memory.extraction.model_output import MODEL_MAX_LENGTH, is_junk, parse_model_ops
from memory.extraction.ops import FACT, PREFERENCE, Kind, MemoryOp
from memory.extraction.prompts import EXTRACTION_INSTRUCTIONS, extraction_messages
from memory.extraction.rules import MAX_LENGTH, extract_offline

__all__ = [
    "EXTRACTION_INSTRUCTIONS",
    "FACT",
    "MAX_LENGTH",
    "MODEL_MAX_LENGTH",
    "PREFERENCE",
    "Kind",
    "MemoryOp",
    "extract_offline",
    "extraction_messages",
    "is_junk",
    "parse_model_ops",
]
