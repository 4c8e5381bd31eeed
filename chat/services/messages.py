"""Talking to a persona: send a message, stream the reply, retry a reply that failed."""

from collections.abc import Generator, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import selectors
from chat.context import user_messages_saved
from chat.models import ChatMessage, Conversation
from chat.prompts import estimate_tokens, prompt_build
from chat.services.conversations import conversation_open, conversation_said
from mybella.core import limits
from mybella.core.services import service
from mybella.providers.llm import ChatProvider, ProviderError, get_provider
from mybella.users.models import User
from personas.models import PersonaProfile
from personas.selectors import persona_get_current


@dataclass
class Exchange:
    """A user message and the reply to it (which may have failed)."""

    user_message: ChatMessage
    reply: ChatMessage
    error: ProviderError | None = None


def _resolve(
    *,
    user: User,
    persona_id: int | None,
    conversation_id: int | None,
) -> tuple[PersonaProfile, Conversation]:
    """Return the persona and conversation a message goes to, both ones `user` may see.

    A conversation named goes with its own persona (naming another one is an error); a
    persona named without one gets the pair's latest conversation, or a new one. Without
    either, the user's current persona is meant. Anything out of reach is `NotFound`.
    """
    if conversation_id is not None:
        conversation = selectors.conversation_get_visible(user=user, pk=conversation_id)
        if persona_id is not None and persona_id != conversation.persona_id:
            # Say "not found" for a persona out of reach, before saying it doesn't match.
            selectors.chat_persona_get(user=user, pk=persona_id)
            raise ValidationError(
                {"conversation": _("This conversation belongs to another persona.")}
            )
        return conversation.persona, conversation
    if persona_id is not None:
        persona = selectors.chat_persona_get(user=user, pk=persona_id)
    else:
        # Visible by construction: an out-of-reach current persona counts as none.
        persona = persona_get_current(user=user)
        if persona is None:
            raise ValidationError({"persona": _("There is no persona to talk to.")})
    conversation = selectors.conversation_latest(user=user, persona=persona)
    return persona, conversation or conversation_open(user=user, persona=persona)


def message_text_problem(text: str) -> str | None:
    """Return why `text` can't be a message (sent or imported), or None."""
    if len(text) > limits.message_max_chars():
        return _("Keep messages under %d characters.") % limits.message_max_chars()
    problem = limits.text_problem(text)
    return _("The message %s.") % problem if problem else None


def _validate_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({"message": _("Write something first.")})
    problem = message_text_problem(text)
    if problem:
        raise ValidationError({"message": problem})
    return text


def _prepare(
    *,
    user: User,
    text: str,
    persona_id: int | None,
    conversation_id: int | None,
    persona: PersonaProfile | None,
) -> tuple[str, PersonaProfile, Conversation]:
    text = _validate_text(text)
    if persona is not None:
        if persona_id is not None and persona_id != persona.pk:
            raise ValueError("Give the persona or its id, not two different ones.")
        persona_id = persona.pk
    persona, conversation = _resolve(
        user=user, persona_id=persona_id, conversation_id=conversation_id
    )
    return text, persona, conversation


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
    conversation_said(conversation_id=conversation.pk, text=text)
    announce_on_commit(conversation_id=conversation.pk, message_ids=[message.id], imported=False)
    return Exchange(message, reply)


def announce_on_commit(*, conversation_id: int, message_ids: list[int], imported: bool) -> None:
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


@service
def message_send(
    *,
    user: User,
    text: str,
    persona_id: int | None = None,
    conversation_id: int | None = None,
    persona: PersonaProfile | None = None,
) -> Exchange:
    """Save the user's message, then answer it. A failed answer is saved as failed.

    The persona and conversation are looked up here, among those `user` may see (a
    `persona` object is looked up again by its id): anything else is `NotFound`.
    The user's message (and its reply, pending) is committed before the model is called,
    so no provider failure can lose it.
    """
    text, persona, conversation = _prepare(
        user=user,
        text=text,
        persona_id=persona_id,
        conversation_id=conversation_id,
        persona=persona,
    )
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


@service
def message_send_stream(
    *,
    user: User,
    text: str,
    persona_id: int | None = None,
    conversation_id: int | None = None,
    persona: PersonaProfile | None = None,
) -> tuple[Exchange, Generator[dict, None, None]]:
    """Save the user's message and its pending reply; return them with the reply's events.

    Resolved as `message_send` does, before anything is saved or streamed.
    Events: one {"type": "start", …} with both message ids, {"type": "delta", "text": …}
    pieces, then one {"type": "done", …}, or {"type": "error", …} when the engine fails
    (the reply is saved failed). Closing the events before the end (the client went away)
    saves what was written as a stopped reply, which retry answers again.
    """
    text, persona, conversation = _prepare(
        user=user,
        text=text,
        persona_id=persona_id,
        conversation_id=conversation_id,
        persona=persona,
    )
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


@service
def message_retry(*, user: User, reply_id: int) -> Exchange:
    """Answer again the message of a reply that failed, stopped, or was abandoned pending.

    The reply is looked up among `user`'s messages with personas they may still see
    (`NotFound` otherwise); the message it answers is its `reply_to`.
    """
    reply = selectors.message_get_reply(user=user, pk=reply_id)
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
    return _answer(
        user=user,
        persona=reply.persona,
        conversation=reply.conversation,
        message=message,
        reply=reply,
        provider=get_provider(),
    )
