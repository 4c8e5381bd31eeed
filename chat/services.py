"""Writes of conversations and messages: talking to a persona."""

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from chat import selectors
from chat.context import user_messages_saved
from chat.models import ChatMessage, Conversation
from chat.prompts import estimate_tokens, prompt_build
from mybella.core import limits
from mybella.core.parsers import json_loads_strict
from mybella.providers.llm import ChatProvider, ProviderError, get_provider
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.selectors import persona_get_current, persona_list_visible


@dataclass
class Exchange:
    """A user message and the reply to it (which may have failed)."""

    user_message: ChatMessage
    reply: ChatMessage
    error: ProviderError | None = None


def _ensure_pair(*, user: User, persona: PersonaProfile) -> None:
    if not persona_list_visible(user=user).filter(pk=persona.pk).exists():
        raise PermissionDenied(_("You can't talk to this persona."))


@transaction.atomic
def conversation_start(*, user: User, persona: PersonaProfile, title: str = "") -> Conversation:
    """Start a conversation that opens with the persona's greeting."""
    _ensure_pair(user=user, persona=persona)
    conversation = Conversation.objects.create(user=user, persona=persona, title=title[:200])
    if persona.greeting:
        ChatMessage.objects.create(
            conversation=conversation,
            user=user,
            persona=persona,
            role=ChatMessage.Role.ASSISTANT,
            content=persona.greeting,
            provider="greeting",
            token_estimate=estimate_tokens(persona.greeting),
        )
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation and its messages; memories made from it stay."""
    conversation.delete()


def _resolve(
    *, user: User, persona: PersonaProfile | None, conversation: Conversation | None
) -> tuple[PersonaProfile, Conversation]:
    if conversation is not None:
        if conversation.user_id != user.pk:
            raise PermissionDenied(_("This conversation isn't yours."))
        if persona is not None and persona.pk != conversation.persona_id:
            raise ValidationError(
                {"conversation": _("This conversation belongs to another persona.")}
            )
        return conversation.persona, conversation
    persona = persona or persona_get_current(user=user)
    if persona is None:
        raise ValidationError({"persona": _("There is no persona to talk to.")})
    _ensure_pair(user=user, persona=persona)
    conversation = selectors.conversation_latest(user=user, persona=persona)
    return persona, conversation or conversation_start(user=user, persona=persona)


def _text_problem(text: str) -> str | None:
    """Return why `text` can't be a message (sent or imported), or None."""
    if len(text) > limits.message_max_chars():
        return _("Keep messages under %d characters.") % limits.message_max_chars()
    problem = limits.text_problem(text)
    return _("The message %s.") % problem if problem else None


def _validate_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({"message": _("Write something first.")})
    problem = _text_problem(text)
    if problem:
        raise ValidationError({"message": problem})
    return text


@transaction.atomic
def _save_exchange(
    *, user: User, conversation: Conversation, text: str, provider: ChatProvider
) -> Exchange:
    """Save the user's message with its reply, pending until the engine has answered."""
    message = ChatMessage.objects.create(
        conversation=conversation,
        user=user,
        persona_id=conversation.persona_id,
        role=ChatMessage.Role.USER,
        content=text,
        token_estimate=estimate_tokens(text),
    )
    reply = _pending_reply(message, provider)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
    _announce_on_commit(conversation_id=conversation.pk, message_ids=[message.id], imported=False)
    return Exchange(message, reply)


def _announce_on_commit(*, conversation_id: int, message_ids: list[int], imported: bool) -> None:
    """Send `user_messages_saved` once the current transaction commits (never on a rollback)."""
    transaction.on_commit(
        lambda: user_messages_saved.send(
            sender=ChatMessage,
            conversation_id=conversation_id,
            message_ids=message_ids,
            imported=imported,
        )
    )


def _pending_reply(user_message: ChatMessage, provider: ChatProvider) -> ChatMessage:
    # Saved before the engine is asked, so the reply has its id (and its place after the
    # message) from the start, and a stream that breaks off leaves something to retry.
    return ChatMessage.objects.create(
        conversation_id=user_message.conversation_id,
        user_id=user_message.user_id,
        persona_id=user_message.persona_id,
        role=ChatMessage.Role.ASSISTANT,
        status=ChatMessage.Status.PENDING,
        reply_to=user_message,
        provider=provider.name,
        model=provider.model,
    )


def _finish(
    reply: ChatMessage,
    *,
    text: str = "",
    error: ProviderError | None = None,
    stopped: bool = False,
) -> None:
    reply.content = text
    if stopped:
        reply.status = ChatMessage.Status.STOPPED
        reply.error = _("The reply was interrupted before it finished.")
    elif error:
        reply.status, reply.error = ChatMessage.Status.FAILED, error.message
    else:
        reply.status, reply.error = ChatMessage.Status.OK, ""
    reply.token_estimate = estimate_tokens(text) if text else 0
    reply.updated_at = timezone.now()
    # An update, not save(): a conversation deleted meanwhile stays deleted, without an error.
    ChatMessage.objects.filter(pk=reply.pk).update(
        content=reply.content,
        status=reply.status,
        error=reply.error,
        provider=reply.provider,
        model=reply.model,
        token_estimate=reply.token_estimate,
        updated_at=reply.updated_at,
    )
    Conversation.objects.filter(pk=reply.conversation_id).update(updated_at=reply.updated_at)


def message_send(
    *,
    user: User,
    text: str,
    persona: PersonaProfile | None = None,
    conversation: Conversation | None = None,
) -> Exchange:
    """Save the user's message, then answer it. A failed answer is saved as failed.

    The user's message (and its reply, pending) is committed before the model is called,
    so no provider failure can lose it.
    """
    text = _validate_text(text)
    persona, conversation = _resolve(user=user, persona=persona, conversation=conversation)
    provider = get_provider()
    exchange = _save_exchange(user=user, conversation=conversation, text=text, provider=provider)
    return _answer(
        user=user,
        persona=persona,
        conversation=conversation,
        message=exchange.user_message,
        reply=exchange.reply,
        provider=provider,
    )


def _answer(
    *,
    user: User,
    persona: PersonaProfile,
    conversation: Conversation,
    message: ChatMessage,
    reply: ChatMessage,
    provider: ChatProvider,
) -> Exchange:
    reply.provider, reply.model = provider.name, provider.model
    prompt = prompt_build(
        user=user, persona=persona, conversation=conversation, message=message, provider=provider
    )
    try:
        text = provider.reply(prompt)
    except ProviderError as error:
        _finish(reply, error=error)
        return Exchange(message, reply, error)
    _finish(reply, text=text)
    return Exchange(message, reply)


def message_send_stream(
    *,
    user: User,
    text: str,
    persona: PersonaProfile | None = None,
    conversation: Conversation | None = None,
) -> tuple[Exchange, Generator[dict, None, None]]:
    """Save the user's message and its pending reply; return them with the reply's events.

    Events: one {"type": "start", …} with both message ids, {"type": "delta", "text": …}
    pieces, then one {"type": "done", …}, or {"type": "error", …} when the engine fails
    (the reply is saved failed). Closing the events before the end (the client went away)
    saves what was written as a stopped reply, which retry answers again.
    """
    text = _validate_text(text)
    persona, conversation = _resolve(user=user, persona=persona, conversation=conversation)
    provider = get_provider()
    exchange = _save_exchange(user=user, conversation=conversation, text=text, provider=provider)
    message, reply = exchange.user_message, exchange.reply
    prompt = prompt_build(
        user=user, persona=persona, conversation=conversation, message=message, provider=provider
    )
    ids = {"user_message_id": message.id, "assistant_message_id": reply.id}

    def events() -> Generator[dict, None, None]:
        pieces: list[str] = []
        stream: Iterator[str] | None = None
        try:
            yield {"type": "start", **ids, "conversation_id": conversation.id}
            stream = provider.stream_reply(prompt)
            for piece in stream:
                pieces.append(piece)
                yield {"type": "delta", "text": piece}
        except ProviderError as error:
            _finish(reply, text="".join(pieces), error=error)
            yield {"type": "error", "detail": error.message, "status": error.status_code, **ids}
            return
        except GeneratorExit:
            _finish(reply, text="".join(pieces), stopped=True)
            raise
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # let the engine stop writing too
        _finish(reply, text="".join(pieces))
        yield {
            "type": "done",
            **ids,
            "conversation_id": conversation.id,
            "provider": provider.name,
        }

    return exchange, events()


def message_retry(*, user: User, reply: ChatMessage) -> Exchange:
    """Answer again the message of a reply that failed, stopped, or was abandoned pending."""
    if reply.user_id != user.pk:
        raise PermissionDenied(_("This message isn't yours."))
    if reply.role != ChatMessage.Role.ASSISTANT or reply.status == ChatMessage.Status.OK:
        raise ValidationError({"detail": _("Only a failed or interrupted reply can be retried.")})
    message = reply.reply_to
    if message is None:
        raise ValidationError({"detail": _("There is no message to answer.")})
    # Claim the reply in one statement, so two retries (or a retry and the stream still
    # writing it) never answer the same message twice.
    now = timezone.now()
    claimed = ChatMessage.objects.filter(ChatMessage.retryable(), pk=reply.pk).update(
        status=ChatMessage.Status.PENDING, error="", updated_at=now
    )
    if not claimed:
        raise ValidationError(
            {"detail": _("This reply is still being written. Reload in a moment to see it.")}
        )
    reply.status, reply.error, reply.updated_at = ChatMessage.Status.PENDING, "", now
    conversation = reply.conversation
    return _answer(
        user=user,
        persona=conversation.persona,
        conversation=conversation,
        message=message,
        reply=reply,
        provider=get_provider(),
    )


# History import ---------------------------------------------------------------


# The earliest and latest times an imported message may carry: Unix time starts in 1970,
# and a message from the future would sort after everything said from now on.
HISTORY_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
HISTORY_FUTURE_SLACK = timedelta(days=1)


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


def _decode_history_file(raw: bytes) -> list:
    text = raw.decode("utf-8-sig").strip()
    if text.startswith("["):
        return json_loads_strict(text)
    lines = [json_loads_strict(line) for line in text.splitlines() if line.strip()]
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
        problem = _text_problem(content.strip())
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


@transaction.atomic
def history_import(
    *, user: User, persona: PersonaProfile, items: list[dict], title: str = ""
) -> Conversation:
    """Store past messages of this pair in a new conversation, without calling a model."""
    _ensure_pair(user=user, persona=persona)
    conversation = Conversation.objects.create(
        user=user, persona=persona, title=title or _("Imported history")
    )
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
    user_message_ids = [m.id for m in messages if m.role == ChatMessage.Role.USER]
    if user_message_ids:
        _announce_on_commit(
            conversation_id=conversation.pk, message_ids=user_message_ids, imported=True
        )
    return conversation
