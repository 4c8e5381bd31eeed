"""Writes of conversations and messages: talking to a persona."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from chat import selectors
from chat.models import ChatMessage, Conversation
from chat.prompts import estimate_tokens, prompt_build
from memory.tasks import extract_memories
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


def _validate_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({"message": _("Write something first.")})
    if len(text) > settings.CHAT_MESSAGE_MAX_CHARS:
        raise ValidationError(
            {"message": _("Keep messages under %d characters.") % settings.CHAT_MESSAGE_MAX_CHARS}
        )
    return text


@transaction.atomic
def _save_user_message(*, user: User, conversation: Conversation, text: str) -> ChatMessage:
    message = ChatMessage.objects.create(
        conversation=conversation,
        user=user,
        persona_id=conversation.persona_id,
        role=ChatMessage.Role.USER,
        content=text,
        token_estimate=estimate_tokens(text),
    )
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
    transaction.on_commit(lambda: extract_memories.enqueue([message.id]))
    return message


def _pending_reply(user_message: ChatMessage, provider: ChatProvider) -> ChatMessage:
    return ChatMessage(
        conversation_id=user_message.conversation_id,
        user_id=user_message.user_id,
        persona_id=user_message.persona_id,
        role=ChatMessage.Role.ASSISTANT,
        provider=provider.name,
        model=provider.model,
    )


def _finish(reply: ChatMessage, *, text: str = "", error: ProviderError | None = None) -> None:
    reply.content = text
    reply.status = ChatMessage.Status.FAILED if error else ChatMessage.Status.OK
    reply.error = error.message if error else ""
    reply.token_estimate = estimate_tokens(text) if text else 0
    reply.save()
    Conversation.objects.filter(pk=reply.conversation_id).update(updated_at=timezone.now())


def message_send(
    *,
    user: User,
    text: str,
    persona: PersonaProfile | None = None,
    conversation: Conversation | None = None,
) -> Exchange:
    """Save the user's message, then answer it. A failed answer is saved as failed.

    The user's message is committed before the model is called, so no provider failure
    can lose it.
    """
    text = _validate_text(text)
    persona, conversation = _resolve(user=user, persona=persona, conversation=conversation)
    user_message = _save_user_message(user=user, conversation=conversation, text=text)
    return _answer(user=user, persona=persona, conversation=conversation, message=user_message)


def _answer(
    *,
    user: User,
    persona: PersonaProfile,
    conversation: Conversation,
    message: ChatMessage,
    reply: ChatMessage | None = None,
) -> Exchange:
    provider = get_provider()
    reply = reply or _pending_reply(message, provider)
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
) -> tuple[ChatMessage, Iterator[dict]]:
    """Save the user's message and return it with a stream of reply events.

    Events: {"type": "delta", "text": …} pieces, then one {"type": "done", …} with both
    message ids, or {"type": "error", …} when the engine fails (the reply is saved failed).
    """
    text = _validate_text(text)
    persona, conversation = _resolve(user=user, persona=persona, conversation=conversation)
    message = _save_user_message(user=user, conversation=conversation, text=text)
    provider = get_provider()
    reply = _pending_reply(message, provider)
    prompt = prompt_build(
        user=user, persona=persona, conversation=conversation, message=message, provider=provider
    )

    def events() -> Iterator[dict]:
        pieces: list[str] = []
        try:
            for piece in provider.stream_reply(prompt):
                pieces.append(piece)
                yield {"type": "delta", "text": piece}
        except ProviderError as error:
            _finish(reply, text="".join(pieces), error=error)
            yield {
                "type": "error",
                "detail": error.message,
                "status": error.status_code,
                "user_message_id": message.id,
                "assistant_message_id": reply.id,
            }
            return
        _finish(reply, text="".join(pieces))
        yield {
            "type": "done",
            "user_message_id": message.id,
            "assistant_message_id": reply.id,
            "conversation_id": conversation.id,
            "provider": provider.name,
        }

    return message, events()


def message_retry(*, user: User, reply: ChatMessage) -> Exchange:
    """Try again to answer the user message before a failed reply."""
    if reply.user_id != user.pk:
        raise PermissionDenied(_("This message isn't yours."))
    if reply.role != ChatMessage.Role.ASSISTANT or reply.status != ChatMessage.Status.FAILED:
        raise ValidationError({"detail": _("Only a failed reply can be retried.")})
    message = (
        ChatMessage.objects.filter(
            conversation_id=reply.conversation_id,
            role=ChatMessage.Role.USER,
            id__lt=reply.id,
        )
        .order_by("-id")
        .first()
    )
    if message is None:
        raise ValidationError({"detail": _("There is no message to answer.")})
    conversation = reply.conversation
    return _answer(
        user=user,
        persona=conversation.persona,
        conversation=conversation,
        message=message,
        reply=reply,
    )


# History import ---------------------------------------------------------------


def _parse_time(value: object, index: int) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # SillyTavern writes milliseconds since the epoch in some versions.
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=timezone.get_current_timezone())
    parsed = parse_datetime(str(value)) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationError({"history": _("Item %d has a created_at I can't read.") % index})
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _decode_history_file(raw: bytes) -> list:
    text = raw.decode("utf-8-sig").strip()
    if text.startswith("["):
        return json.loads(text)
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
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
    """Return [{role, content, created_at}] from a JSON list or a SillyTavern .jsonl chat."""
    if isinstance(raw, bytes):
        try:
            items = _decode_history_file(raw)
        except ValueError as error:
            raise ValidationError(
                {"history": _("The file is not JSON or JSON lines: %s") % error}
            ) from error
    else:
        items = raw
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
    user_ids = [m.id for m in messages if m.role == ChatMessage.Role.USER]
    if user_ids:
        transaction.on_commit(lambda: extract_memories.enqueue(user_ids, imported=True))
    return conversation
