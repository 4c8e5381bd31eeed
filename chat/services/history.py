"""Past messages with a persona: brought into MyBella without calling a model, and taken out."""

import json
import math
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from chat import selectors
from chat.cache import chat_changed
from chat.models import ChatMessage, Conversation
from chat.prompts import estimate_tokens
from chat.services.conversations import conversation_new, conversation_title_from
from chat.services.messages import announce_saved, message_text_problem
from mybella.core import limits
from mybella.core.filenames import file_stem
from mybella.core.parsers import json_loads_strict
from mybella.core.services import service
from mybella.users.models import User
from personas.models import PersonaProfile

# The earliest and latest times an imported message may carry: Unix time starts in 1970,
# and a message from the future would sort after everything said from now on.
HISTORY_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
HISTORY_FUTURE_SLACK = timedelta(days=1)
# How many messages an export reads at a time.
EXPORT_CHUNK_MESSAGES = 500


def _parse_time(value: object, index: int) -> datetime | None:
    if value in (None, ""):
        return None
    unreadable = ValidationError({"history": _("Item %d has a created_at I can't read.") % index})
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValidationError(
                {
                    "history": _("Item %(index)d has a created_at of %(value)s.")
                    % {"index": index, "value": value}
                }
            )
        # SillyTavern writes milliseconds since the epoch in some versions.
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            parsed = None
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:  # well formed, but no such time (February 30th)
            parsed = None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
    else:
        parsed = None
    if parsed is None:
        raise unreadable
    try:
        in_range = HISTORY_EARLIEST <= parsed <= timezone.now() + HISTORY_FUTURE_SLACK
    except OverflowError:  # year 1 east of UTC, year 9999 west of it
        in_range = False
    if not in_range:
        raise ValidationError(
            {"history": _("Item %d has a created_at before 1970 or in the future.") % index}
        )
    # In UTC: PostgreSQL refuses offsets past ±15:59 that Python and ISO 8601 allow.
    return parsed.astimezone(UTC)


def _json_line(line: str, number: int) -> object:
    # An error names the file's own line, not "line 1" of the one line parsed.
    if not line.strip():
        return None
    try:
        return json_loads_strict(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"line {number}, column {error.colno}: {error.msg}") from error
    except ValueError as error:
        raise ValueError(f"line {number}: {error}") from error


def _decode_history_file(raw: bytes) -> list:
    text = raw.decode("utf-8-sig")
    if text.strip().startswith("["):
        return json_loads_strict(text)
    lines = [_json_line(line, number) for number, line in enumerate(text.splitlines(), start=1)]
    # SillyTavern's first line is the chat's metadata, without a message.
    return [
        {
            "role": "user" if line.get("is_user") else "assistant",
            "content": line.get("mes", ""),
            "created_at": line.get("send_date"),
        }
        for line in lines
        if isinstance(line, dict) and "mes" in line and not line.get("is_system")
    ]


def history_parse(raw: bytes | list) -> list[dict]:
    """Return [{role, content, created_at}] from a JSON list or a SillyTavern .jsonl chat.

    Every message obeys the limits of a sent one (CHAT_MESSAGE_MAX_CHARS, storable text),
    whatever its role; a parsed body is held to the rules of `json_loads_strict` too.
    """
    if isinstance(raw, bytes):
        try:
            items = _decode_history_file(raw)
        except ValueError as error:
            raise ValidationError(
                {"history": _("The file is not JSON or JSON lines: %s") % error}
            ) from error
    else:
        items = raw
        problem = limits.json_problem(items)
        if problem:
            raise ValidationError({"history": _("The history can't be read: %s.") % problem})
    if not isinstance(items, list):
        raise ValidationError({"history": _("Send a list of messages.")})
    if len(items) > settings.HISTORY_IMPORT_MAX_MESSAGES:
        raise ValidationError(
            {
                "history": _("Import at most %d messages at a time.")
                % settings.HISTORY_IMPORT_MAX_MESSAGES
            }
        )
    parsed = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ValidationError({"history": _("Item %d is not an object.") % index})
        role, content = item.get("role"), item.get("content")
        if not isinstance(role, str) or role not in ChatMessage.Role.values:
            raise ValidationError(
                {"history": _("Item %d: role must be user, assistant or system.") % index}
            )
        if not isinstance(content, str) or not content.strip():
            raise ValidationError({"history": _("Item %d has no content.") % index})
        problem = message_text_problem(content.strip())
        if problem:
            raise ValidationError(
                {"history": _("Item %(index)d: %(problem)s") % {"index": index, "problem": problem}}
            )
        parsed.append(
            {
                "role": role,
                "content": content.strip(),
                "created_at": _parse_time(item.get("created_at"), index),
            }
        )
    if not parsed:
        raise ValidationError({"history": _("There are no messages in this file.")})
    return parsed


@service
@transaction.atomic
def history_import(
    *, user: User, persona: PersonaProfile, items: list[dict], title: str = ""
) -> Conversation:
    """Store past messages of this pair in a new conversation, without calling a model.

    `items` come from `history_parse`. A persona `user` may not see is `NotFound`.
    """
    persona = selectors.chat_persona_get(user=user, pk=persona.pk)
    said = next((item["content"] for item in items if item["role"] == ChatMessage.Role.USER), "")
    title = title or conversation_title_from(said) or _("Imported history")
    conversation = conversation_new(user=user, persona=persona, title=title)
    now = timezone.now()
    messages = ChatMessage.objects.bulk_create(
        ChatMessage(
            conversation=conversation,
            user=user,
            persona=persona,
            role=item["role"],
            content=item["content"],
            provider="import",
            token_estimate=estimate_tokens(item["content"]),
        )
        for item in items
    )
    # created_at is auto_now_add; set the imported times in one statement per message.
    for message, item in zip(messages, items, strict=True):
        message.created_at = item["created_at"] or now
    ChatMessage.objects.bulk_update(messages, ["created_at"], batch_size=500)
    chat_changed(user_id=user.pk)
    user_message_ids = [m.id for m in messages if m.role == ChatMessage.Role.USER]
    if user_message_ids:
        announce_saved(conversation_id=conversation.pk, message_ids=user_message_ids, imported=True)
    return conversation


def _st_time(moment: datetime) -> str:
    """Return `moment` as SillyTavern writes a `send_date`: ISO 8601, milliseconds, UTC."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def history_export_name(*, conversation: Conversation) -> str:
    """Return the file name of a conversation's export: persona, title, id, in any script."""
    stem = file_stem(conversation.persona.name, conversation.title, fallback="chat")
    return f"{stem}-{conversation.pk}.jsonl"


def history_export(*, user: User, conversation: Conversation) -> Iterator[str]:
    """Yield a conversation as a SillyTavern chat (.jsonl), in pieces of whole lines.

    The first line is the chat's metadata (who talks, when it began); then one line per
    message with text, in order: `name`, `is_user`, `is_system`, `send_date`, `mes`,
    `extra`, as SillyTavern writes them. `history_parse` (and SillyTavern) read it back.
    Replies that failed before writing anything are left out. `conversation` is one
    `user` may see (looked up by the caller). The messages are read EXPORT_CHUNK_MESSAGES
    at a time, each chunk after the last one read (keyset): a long history is never held
    whole. `history_aexport` is the same for an async server.
    """
    export = _Export(user=user, conversation=conversation)
    yield export.header()
    while piece := export.next_chunk():
        yield piece


async def history_aexport(*, user: User, conversation: Conversation) -> AsyncIterator[str]:
    """Yield what `history_export` yields, reading the database through `sync_to_async`.

    For an ASGI server: the response streams without a thread held for the whole export,
    and without Django buffering a synchronous iterator in memory.
    """
    export = _Export(user=user, conversation=conversation)
    yield await sync_to_async(export.header)()
    while piece := await sync_to_async(export.next_chunk)():
        yield piece


class _Export:
    """One export being read: its header, then its messages chunk by chunk, oldest first."""

    def __init__(self, *, user: User, conversation: Conversation) -> None:
        self.user, self.conversation = user, conversation
        self.after: tuple[datetime, int] | None = None  # (created_at, id) of the last read
        self.names: tuple[str, str] = ("", "")  # the user's, the persona's
        self.done = False

    def header(self) -> str:
        """Return the metadata line (and learn the names the message lines carry)."""
        self.names = (self.user.first_name or self.user.username, self.conversation.persona.name)
        return _jsonl(
            {
                "user_name": self.names[0],
                "character_name": self.names[1],
                "create_date": _st_time(self.conversation.created_at),
                "chat_metadata": {},
            }
        )

    def next_chunk(self) -> str:
        """Return the lines of the next chunk of messages; "" once they are all read."""
        if self.done:
            return ""
        messages = selectors.message_list(user=self.user, conversation=self.conversation)
        messages = messages.exclude(content="")
        if self.after is not None:
            at, pk = self.after
            messages = messages.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=pk))
        chunk = list(messages.only("id", "role", "content", "created_at")[:EXPORT_CHUNK_MESSAGES])
        self.done = len(chunk) < EXPORT_CHUNK_MESSAGES  # a short chunk is the last one
        if not chunk:
            return ""
        self.after = (chunk[-1].created_at, chunk[-1].id)
        user_name, persona_name = self.names
        return "".join(
            _jsonl(
                {
                    "name": user_name if message.role == ChatMessage.Role.USER else persona_name,
                    "is_user": message.role == ChatMessage.Role.USER,
                    "is_system": message.role == ChatMessage.Role.SYSTEM,
                    "send_date": _st_time(message.created_at),
                    "mes": message.content,
                    "extra": {},
                }
            )
            for message in chunk
        )


def _jsonl(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False) + "\n"
