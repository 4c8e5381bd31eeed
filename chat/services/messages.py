"""Talking to a persona: send a message, stream the reply, retry a reply that failed,
regenerate the latest reply as a new alternative and pick among the alternatives."""

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, replace

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import selectors
from chat.cache import chat_changed
from chat.context import user_messages_saved
from chat.models import ChatMessage, Conversation
from chat.prompts import estimate_tokens, prompt_build
from chat.services.conversations import (
    conversation_open,
    conversation_said,
    conversation_said_statement,
)
from mybella.core import limits
from mybella.core.db.commits import execute_unflushed, update_statement
from mybella.core.sentences import SentenceStream
from mybella.core.services import service
from mybella.providers.llm import ChatProvider, Prompt, ProviderError, get_provider
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


def validate_text(text: str, *, field: str = "message") -> str:
    """Return `text` stripped; raise a ValidationError about `field` when it can't be one."""
    text = text.strip()
    if limits.shows_nothing(text):  # empty, or only marks that show nothing ("\u200b")
        raise ValidationError({field: _("Write something first.")})
    problem = message_text_problem(text)
    if problem:
        raise ValidationError({field: problem})
    return text


def _prepare(
    *,
    user: User,
    text: str,
    persona_id: int | None,
    conversation_id: int | None,
    persona: PersonaProfile | None,
) -> tuple[str, PersonaProfile, Conversation]:
    text = validate_text(text)
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
    *,
    user: User,
    conversation: Conversation,
    text: str,
    provider: ChatProvider,
    said_now: bool = True,
) -> Exchange:
    """Save the user's message with its reply, pending until the engine has answered.

    `said_now`: record the conversation active (and titled) now; a reply finished within
    the same request does it when it is saved instead (`_finish(said=...)`), one write.
    """
    message = ChatMessage(
        conversation=conversation,
        user=user,
        persona_id=conversation.persona_id,
        role=ChatMessage.Role.USER,
        content=text,
        token_estimate=estimate_tokens(text),
    )
    if connection.vendor == "postgresql":
        reply = _pending_reply(message, provider)
        _insert_answered(message, reply)
    else:
        message.save(force_insert=True)
        reply = _pending_reply(message, provider)
        reply.save(force_insert=True)
    if said_now:
        conversation_said(conversation_id=conversation.pk, text=text)
    announce_saved(conversation_id=conversation.pk, message_ids=[message.id], imported=False)
    return Exchange(message, reply)


def announce_saved(*, conversation_id: int, message_ids: list[int], imported: bool) -> None:
    """Send `user_messages_saved` in the transaction that stored the messages.

    The receivers queue their tasks (memory's extraction and summaries) so that they run
    once it commits (`mybella.core.db.tasks.enqueue_on_commit`): with the database's task
    backend their rows are written in it, so a send commits its message, its pending reply
    and their tasks once, where the tasks had a commit of their own (on PostgreSQL, one more
    wait for the disk), and before that one each.
    """
    user_messages_saved.send(
        sender=ChatMessage,
        conversation_id=conversation_id,
        message_ids=message_ids,
        imported=imported,
    )


def _pending_reply(user_message: ChatMessage, provider: ChatProvider) -> ChatMessage:
    # Saved before the engine is asked, so the reply has its id (and its place after the
    # message) from the start, and a stream that breaks off leaves something to retry.
    return ChatMessage(
        conversation_id=user_message.conversation_id,
        user_id=user_message.user_id,
        persona_id=user_message.persona_id,
        role=ChatMessage.Role.ASSISTANT,
        status=ChatMessage.Status.PENDING,
        reply_to=user_message,
        provider=provider.name,
        model=provider.model,
    )


def _insert_answered(message: ChatMessage, reply: ChatMessage) -> None:
    """Insert `message` and `reply` to it (both new) in one statement (PostgreSQL).

    What two `save()`s do, in one round trip instead of two: the same columns and values
    (timestamps stamped in the same order, the message's id lower), the same signals, and
    the reply's `reply_to` is the message's new id, taken from the first insert.
    """
    using = connection.alias
    fields = [field for field in ChatMessage._meta.concrete_fields if not field.primary_key]
    for instance in (message, reply):
        pre_save.send(
            sender=ChatMessage, instance=instance, raw=False, using=using, update_fields=None
        )
    quote = connection.ops.quote_name
    table, pk = quote(ChatMessage._meta.db_table), quote(ChatMessage._meta.pk.column)
    columns = ", ".join(quote(field.column) for field in fields)
    message_params = [
        field.get_db_prep_save(field.pre_save(message, True), connection) for field in fields
    ]
    reply_values, reply_params = [], []
    for field in fields:
        if field.column == "reply_to_id":
            reply_values.append(f"m.{pk}")
        else:
            reply_values.append("%s")
            reply_params.append(field.get_db_prep_save(field.pre_save(reply, True), connection))
    sql = (
        f"WITH m AS (INSERT INTO {table} ({columns}) "  # noqa: S608 (the model's own names)
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {pk}) "
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(reply_values)} FROM m "
        f"RETURNING reply_to_id, {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*message_params, *reply_params])
        message.pk, reply.pk = cursor.fetchone()
    reply.reply_to = message
    for instance in (message, reply):
        instance._state.adding, instance._state.db = False, using
        post_save.send(
            sender=ChatMessage,
            instance=instance,
            created=True,
            update_fields=None,
            raw=False,
            using=using,
        )


def _finish(
    reply: ChatMessage,
    *,
    text: str = "",
    error: ProviderError | None = None,
    stopped: bool = False,
    said: str | None = None,
) -> None:
    """Save how `reply` ended and mark its conversation active.

    `said`: the text of the message this reply answers when the conversation was not
    yet told of it (`_save_exchange(said_now=False)`) and may need a title: it is titled
    after it too. Without it the conversation is only marked active.
    """
    reply.content = text
    if reply.alternatives:
        # A regenerated reply: the text is its selected alternative.
        reply.alternatives[reply.selected] = text
    if stopped:
        reply.status = ChatMessage.Status.STOPPED
        reply.error = _("The reply was interrupted before it finished.")
    elif error:
        reply.status, reply.error = ChatMessage.Status.FAILED, error.message
    else:
        reply.status, reply.error = ChatMessage.Status.OK, ""
    reply.token_estimate = estimate_tokens(text) if text else 0
    reply.updated_at = timezone.now()
    # One commit for the reply and its conversation, not one each: a PostgreSQL commit waits
    # for its log to reach the disk, and this one need not (CHAT_REPLY_SYNCHRONOUS_COMMIT):
    # after a database crash that lost it the reply is pending again, retried like one
    # abandoned; the user's message was committed, waiting, before. On PostgreSQL both
    # updates go as one statement, its own transaction (`execute_unflushed`): one round
    # trip where BEGIN, SET LOCAL, two updates and COMMIT took five.
    # An update, not save(): a conversation deleted meanwhile stays deleted, no error.
    reply_update = update_statement(
        ChatMessage.objects.filter(pk=reply.pk),
        content=reply.content,
        alternatives=reply.alternatives,
        status=reply.status,
        error=reply.error,
        provider=reply.provider,
        model=reply.model,
        token_estimate=reply.token_estimate,
        updated_at=reply.updated_at,
    )
    conversation_update = conversation_said_statement(
        conversation_id=reply.conversation_id, text=said, at=reply.updated_at
    )
    execute_unflushed(
        [reply_update, conversation_update], relaxed=not settings.CHAT_REPLY_SYNCHRONOUS_COMMIT
    )
    chat_changed(user_id=reply.user_id)


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
    # The conversation is marked active (and titled) once, as the reply is saved. One that
    # has a title keeps it (no service takes a title away): only its activity is recorded,
    # a plainer statement than the title's CASE.
    exchange = _save_exchange(
        user=user, conversation=conversation, text=text, provider=provider, said_now=False
    )
    return _answer(
        user=user,
        persona=persona,
        conversation=conversation,
        message=exchange.user_message,
        reply=exchange.reply,
        provider=provider,
        said=None if conversation.title else text,
    )


def _answer(
    *,
    user: User,
    persona: PersonaProfile,
    conversation: Conversation,
    message: ChatMessage,
    reply: ChatMessage,
    provider: ChatProvider,
    restore: Callable[[], ChatMessage] | None = None,
    said: str | None = None,
) -> Exchange:
    """Answer `message` with `reply`; a failure saves the reply failed, or, with `restore`
    (a regeneration), puts the reply back as it was and returns it with the error.

    `said`: see `_finish`."""
    reply.provider, reply.model = provider.name, provider.model
    prompt = _reply_prompt(
        user=user,
        persona=persona,
        conversation=conversation,
        message=message,
        reply=reply,
        provider=provider,
    )
    try:
        text = provider.reply(prompt)
    except ProviderError as error:
        if restore is not None:
            return Exchange(message, restore(), error)
        _finish(reply, error=error, said=said)
        return Exchange(message, reply, error)
    _finish(reply, text=text, said=said)
    return Exchange(message, reply)


def _reply_prompt(
    *,
    user: User,
    persona: PersonaProfile,
    conversation: Conversation,
    message: ChatMessage,
    reply: ChatMessage,
    provider: ChatProvider,
) -> Prompt:
    """Return the prompt answering `message` with `reply`: its n-th alternative is variant n."""
    prompt = prompt_build(
        user=user, persona=persona, conversation=conversation, message=message, provider=provider
    )
    return replace(prompt, variant=reply.selected)


@service
def message_send_stream(
    *,
    user: User,
    text: str,
    persona_id: int | None = None,
    conversation_id: int | None = None,
    persona: PersonaProfile | None = None,
) -> tuple[Exchange, "ReplyEvents"]:
    """Save the user's message and its pending reply; return them with the reply's events.

    Resolved as `message_send` does, before anything is saved or streamed. The events
    (`ReplyEvents`, read sync or async) save the reply failed when the engine fails, and
    closing them before the end (the client went away) saves what was written as a
    stopped reply, which retry answers again.
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
    prompt = _reply_prompt(
        user=user,
        persona=persona,
        conversation=conversation,
        message=message,
        reply=reply,
        provider=provider,
    )
    return exchange, ReplyEvents(_ReplyWriting(reply, conversation, provider), prompt)


@dataclass
class _ReplyWriting:
    """One reply being written: its events, and how it is saved however the writing ends.

    The one rule for both ways of reading a reply (`ReplyEvents`): a failure, or a client
    gone, before the first word puts a regenerated reply back as it was (`restore`), and
    otherwise saves it failed or stopped with what was written.
    """

    reply: ChatMessage
    conversation: Conversation
    provider: ChatProvider
    restore: Callable[[], ChatMessage] | None = None
    pieces: list[str] = dataclasses.field(default_factory=list)
    sentences: SentenceStream = dataclasses.field(default_factory=SentenceStream)
    told: int = 0

    @property
    def ids(self) -> dict[str, int | None]:
        return {"user_message_id": self.reply.reply_to_id, "assistant_message_id": self.reply.id}

    def start(self) -> dict:
        return {"type": "start", **self.ids, "conversation_id": self.conversation.id}

    def delta(self, piece: str) -> list[dict]:
        """Return the piece's event, then one for each sentence it completed."""
        self.pieces.append(piece)
        return [{"type": "delta", "text": piece}, *self._sentences(self.sentences.feed(piece))]

    def last_sentences(self) -> list[dict]:
        """Return the events of the sentences not told yet, the reply being complete."""
        return self._sentences(self.sentences.finish())

    def _sentences(self, sentences: list[str]) -> list[dict]:
        events = [
            {"type": "sentence", "index": self.told + i, "text": text}
            for i, text in enumerate(sentences)
        ]
        self.told += len(sentences)
        return events

    def failed(self, error: ProviderError) -> dict:
        """Save the failure; return the event saying so."""
        if self.restore is not None and not self.pieces:
            self.restore()
        else:
            _finish(self.reply, text="".join(self.pieces), error=error)
        return {"type": "error", "detail": error.message, "status": error.status_code, **self.ids}

    def stopped(self) -> None:
        """Save what was written as a stopped reply (the reader went away)."""
        if self.restore is not None and not self.pieces:
            self.restore()
        else:
            _finish(self.reply, text="".join(self.pieces), stopped=True)

    def done(self) -> dict:
        """Save the finished reply; return the last event."""
        _finish(self.reply, text="".join(self.pieces))
        return {
            "type": "done",
            **self.ids,
            "conversation_id": self.conversation.id,
            "provider": self.provider.name,
        }


class ReplyEvents:
    """A reply's events as it is written, saved when it ends however it ends; read once.

    Events: one {"type": "start", …} with both message ids, {"type": "delta", "text": …}
    pieces, each followed by a {"type": "sentence", "index": n, "text": …} for every
    sentence of the reply it completed (as spoken: `mybella.core.sentences`; the last ones
    just before the end), then one {"type": "done", …}, or {"type": "error", …} when the
    engine fails.
    Sync code iterates it like a generator (`next`, `close`); an async server reads it with
    `async for` (the engine's async stream, the database through `sync_to_async`), where a
    cancelled task or `aclose()` is the client going away. Either way closing it early
    saves the reply as stopped and closes the engine's stream.
    """

    def __init__(self, writing: _ReplyWriting, prompt: Prompt) -> None:
        self._writing = writing
        self._prompt = prompt
        self._events: Generator[dict, None, None] | None = None

    def __iter__(self) -> "ReplyEvents":
        return self

    def __next__(self) -> dict:
        if self._events is None:
            self._events = self._sync_events()
        return next(self._events)

    def close(self) -> None:
        """Stop reading: save the reply as stopped (if it had started) and stop the engine."""
        if self._events is not None:
            self._events.close()

    def __aiter__(self) -> AsyncGenerator[dict, None]:
        return self._async_events()

    def _sync_events(self) -> Generator[dict, None, None]:
        writing = self._writing
        stream: Iterator[str] | None = None
        try:
            yield writing.start()
            stream = writing.provider.stream_reply(self._prompt)
            for piece in stream:
                yield from writing.delta(piece)
        except ProviderError as error:
            yield writing.failed(error)
            return
        except GeneratorExit:
            writing.stopped()
            raise
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # let the engine stop writing too
        # Saved before the last events go out: a client leaving now finds the reply done.
        done = writing.done()
        yield from writing.last_sentences()
        yield done

    async def _async_events(self) -> AsyncGenerator[dict, None]:
        writing = self._writing
        stream: AsyncIterator[str] | None = None
        try:
            yield writing.start()
            stream = writing.provider.astream_reply(self._prompt)
            async for piece in stream:
                for event in writing.delta(piece):
                    yield event
        except ProviderError as error:
            yield await sync_to_async(writing.failed)(error)
            return
        except (GeneratorExit, asyncio.CancelledError):
            # The client went away: the server cancelled the response or closed this.
            await sync_to_async(writing.stopped)()
            raise
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()  # let the engine stop writing too
        done = await sync_to_async(writing.done)()
        for event in writing.last_sentences():
            yield event
        yield done


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
    chat_changed(user_id=reply.user_id)
    reply.status, reply.error, reply.updated_at = ChatMessage.Status.PENDING, "", now
    return _answer(
        user=user,
        persona=reply.persona,
        conversation=reply.conversation,
        message=message,
        reply=reply,
        provider=get_provider(),
    )


# How many alternatives one reply may have: each is a model call, and all are stored.
ALTERNATIVES_MAX = 20


def _claim_regeneration(*, user: User, reply_id: int) -> tuple[ChatMessage, Callable]:
    """Turn the latest reply into a pending new alternative; return it and its undo.

    The claim is one statement that also checks nothing changed the reply since it was
    read, so two regenerations (or one and an edit) never write the same reply at once.
    """
    reply = selectors.message_get_reply(user=user, pk=reply_id)
    if (
        reply.role != ChatMessage.Role.ASSISTANT
        or reply.reply_to is None
        or reply.status not in (ChatMessage.Status.OK, ChatMessage.Status.STOPPED)
        or not selectors.message_is_latest(message=reply)
    ):
        raise ValidationError(
            {"detail": _("Only the latest finished reply to a message can be regenerated.")}
        )
    texts = reply.texts
    if len(texts) >= ALTERNATIVES_MAX:
        raise ValidationError(
            {
                "detail": _("This reply has %d alternatives already; pick one or edit it.")
                % ALTERNATIVES_MAX
            }
        )
    before = {
        field: getattr(reply, field)
        for field in ("content", "alternatives", "selected", "status", "error", "token_estimate")
    }
    before["alternatives"] = list(reply.alternatives)
    now = timezone.now()
    claimed = ChatMessage.objects.filter(
        pk=reply.pk, status=reply.status, updated_at=reply.updated_at
    ).update(
        content="",
        alternatives=[*texts, ""],
        selected=len(texts),
        status=ChatMessage.Status.PENDING,
        error="",
        token_estimate=0,
        updated_at=now,
    )
    if not claimed:
        raise ValidationError(
            {"detail": _("This reply changed meanwhile. Reload to see it, then try again.")}
        )
    chat_changed(user_id=reply.user_id)
    reply.content, reply.alternatives, reply.selected = "", [*texts, ""], len(texts)
    reply.status, reply.error, reply.token_estimate, reply.updated_at = (
        ChatMessage.Status.PENDING,
        "",
        0,
        now,
    )

    def restore() -> ChatMessage:
        # Nothing was written: the reply is again what it was, its alternatives untouched.
        for field, value in before.items():
            setattr(reply, field, value)
        reply.updated_at = timezone.now()
        ChatMessage.objects.filter(pk=reply.pk).update(**before, updated_at=reply.updated_at)
        chat_changed(user_id=reply.user_id)
        return reply

    return reply, restore


@service
def message_regenerate(*, user: User, reply_id: int) -> Exchange:
    """Answer the latest reply's message again, as a new alternative that becomes selected.

    The earlier alternatives stay. When the engine fails, the reply is put back as it was
    and the error returned with it. Only the latest finished (or stopped) reply of a
    conversation can be regenerated; `NotFound` for one out of reach.
    """
    reply, restore = _claim_regeneration(user=user, reply_id=reply_id)
    return _answer(
        user=user,
        persona=reply.persona,
        conversation=reply.conversation,
        message=reply.reply_to,
        reply=reply,
        provider=get_provider(),
        restore=restore,
    )


@service
def message_regenerate_stream(*, user: User, reply_id: int) -> tuple[Exchange, "ReplyEvents"]:
    """Claim the reply as `message_regenerate` does; return it with the new text's events.

    The events are those of `message_send_stream`. A stream closed early keeps what was
    written as the new alternative, stopped; one that fails or is closed before its first
    word puts the reply back as it was.
    """
    reply, restore = _claim_regeneration(user=user, reply_id=reply_id)
    provider = get_provider()
    reply.provider, reply.model = provider.name, provider.model
    prompt = _reply_prompt(
        user=user,
        persona=reply.persona,
        conversation=reply.conversation,
        message=reply.reply_to,
        reply=reply,
        provider=provider,
    )
    writing = _ReplyWriting(reply, reply.conversation, provider, restore)
    return Exchange(reply.reply_to, reply), ReplyEvents(writing, prompt)


@service
def message_select(*, user: User, message_id: int, index: int) -> ChatMessage:
    """Make alternative `index` of a reply the one shown and counted (its content).

    A reply still being written can't change; an index out of range is a ValidationError.
    Choosing the one already selected writes nothing.
    """
    reply = selectors.message_get_reply(user=user, pk=message_id)
    if reply.role != ChatMessage.Role.ASSISTANT or reply.is_being_written:
        raise ValidationError({"detail": _("Only a finished reply has alternatives to pick.")})
    texts = reply.texts
    if not 0 <= index < len(texts):
        raise ValidationError(
            {"index": _("Pick an alternative from 0 to %d.") % (max(len(texts), 1) - 1)}
        )
    if index == reply.selected and reply.status == ChatMessage.Status.OK:
        return reply
    changes = {
        "selected": index,
        "content": texts[index],
        "status": ChatMessage.Status.OK,
        "error": "",
        "token_estimate": estimate_tokens(texts[index]),
        "updated_at": timezone.now(),
    }
    # Only if nothing (a regeneration starting, an edit) changed the reply since it was read.
    if not ChatMessage.objects.filter(pk=reply.pk, updated_at=reply.updated_at).update(**changes):
        raise ValidationError(
            {"detail": _("This reply changed meanwhile. Reload to see it, then try again.")}
        )
    chat_changed(user_id=reply.user_id)
    for field, value in changes.items():
        setattr(reply, field, value)
    return reply
