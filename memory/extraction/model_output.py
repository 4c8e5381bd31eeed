"""Read a language model's proposed memory operations, trusting nothing in its answer."""

import json
import re
from collections.abc import Collection
from datetime import date

from memory.extraction.ops import FACT, Kind, MemoryOp
from memory.rules import (
    IMPORTANCE_DEFAULT,
    IMPORTANCE_MAX,
    IMPORTANCE_MIN,
    SLOT_MAX_CHARS,
    is_junk,
)

# A model's memory is cut to this (well under `limits.MEMORY_MAX_CHARS`).
MODEL_MAX_LENGTH = 500


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _as_slot(value: object) -> str:
    if not isinstance(value, str):
        return ""
    slot = re.sub(r"[^\w:]+", "_", value.strip().lower()).strip("_")
    return slot[:SLOT_MAX_CHARS]


def _as_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _model_op(
    item: object, existing_ids: Collection[int], persona_lines: Collection[str]
) -> MemoryOp | None:
    if not isinstance(item, dict) or item.get("op") not in ("add", "update", "delete"):
        return None
    content = item.get("content", "")
    content = content.strip()[:MODEL_MAX_LENGTH] if isinstance(content, str) else ""
    if is_junk(content, persona_lines):
        content = ""
    kind = item.get("kind")
    kind = kind if kind in Kind.values else FACT
    importance = _as_int(item.get("importance"))
    importance = (
        IMPORTANCE_DEFAULT
        if importance is None
        else min(max(importance, IMPORTANCE_MIN), IMPORTANCE_MAX)
    )
    memory_id = _as_int(item.get("id", item.get("memory_id")))
    extra = {"slot": _as_slot(item.get("slot")), "happened_on": _as_date(item.get("happened_on"))}
    if item["op"] == "add":
        return MemoryOp("add", content, kind, importance, **extra) if content else None
    # The model must never reach a memory it was not shown: another pair's, or none at all.
    if memory_id is None or memory_id not in existing_ids:
        return None
    if item["op"] == "update" and not content:
        return None
    return MemoryOp(item["op"], content, kind, importance, memory_id, **extra)


def parse_model_ops(
    raw: str, existing_ids: Collection[int], *, persona_lines: Collection[str] = ()
) -> list[MemoryOp]:
    """Return the valid operations in a language model's JSON answer; never raise.

    Accept `{"operations": [...]}` or a bare list, optionally inside a Markdown code fence.
    Drop malformed items, unknown operations, adds and updates whose content is junk
    (see is_junk; `persona_lines` are the persona's own lines the model may copy), and
    updates or deletes of ids not in `existing_ids`; fall back to the kind "fact" and
    clamp importance to 1..10. An optional "slot" (what the fact is about) and
    "happened_on" (an ISO date) are kept when they read as such.
    """
    if not isinstance(raw, str):
        return []
    text = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", raw.strip())
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if isinstance(data, dict):
        data = data.get("operations")
    if not isinstance(data, list):
        return []
    ids = set(existing_ids)
    lines = list(persona_lines)
    return [op for op in (_model_op(item, ids, lines) for item in data) if op is not None]
