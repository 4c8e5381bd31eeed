"""Writes of memories and preferences; every change to a memory leaves an event.

Background work (embedding a memory's new content) is asked for with `memory.signals`,
sent on commit; the services never import the tasks (`memory.receivers` wires them).
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import selectors as chat_selectors
from chat.models import ChatMessage
from memory import rules, selectors
from memory.cache import memories_changed
from memory.extraction import slots
from memory.extraction.ops import MemoryOp
from memory.models import (
    ConversationMemory,
    MemoryEvent,
    MemorySettings,
    MessageExtraction,
    UserPreference,
)
from memory.signals import memory_content_changed
from mybella.core import fulltext, limits
from mybella.core.services import model_update, service
from mybella.users.models import User
from personas.models import PersonaProfile

logger = logging.getLogger(__name__)

HISTORY_LENGTH = 10  # events kept per memory
Actor = MemoryEvent.Actor
# What a user (or an extractor) may change of a memory; the rest is set by the services.
MEMORY_EDITABLE_FIELDS = ("content", "kind", "importance", "pinned")
# A summary is written by `memory.summaries` alone, with the stretch of messages it covers:
# nobody gives a memory that kind, or takes it away (a "summary" without a stretch would be
# left out of prompts both as a summary and as a recent memory).
SUMMARY = ConversationMemory.Kind.SUMMARY
_PEOPLE = (Actor.USER, Actor.IMPORT)


def _clean_content(content: object) -> object:
    # Text that shows nothing ("\u200b \u200b") is blank, and refused as blank is.
    if not isinstance(content, str):
        return content
    content = content.strip()
    return "" if limits.shows_nothing(content) else content


def _summary_kind_error() -> ValidationError:
    return ValidationError(
        {"kind": _("Summaries are written by MyBella from your conversations; pick another kind.")}
    )


def _record(
    memory: ConversationMemory, *, action: str, actor: str, before: str = "", after: str = ""
) -> None:
    MemoryEvent.objects.create(
        memory=memory,
        user_id=memory.user_id,
        persona_id=memory.persona_id,
        action=action,
        actor=actor,
        content_before=before,
        content_after=after,
    )
    stale = MemoryEvent.objects.filter(memory=memory).values_list("id", flat=True)[HISTORY_LENGTH:]
    MemoryEvent.objects.filter(id__in=list(stale)).delete()


def _content_changed_on_commit(memory: ConversationMemory) -> None:
    pk = memory.pk
    transaction.on_commit(
        lambda: memory_content_changed.send(sender=ConversationMemory, memory_ids=[pk])
    )


@service
@transaction.atomic
def memory_create(
    *,
    user: User,
    persona: PersonaProfile,
    content: str,
    kind: str = ConversationMemory.Kind.FACT,
    importance: int = rules.IMPORTANCE_DEFAULT,
    pinned: bool = False,
    actor: str = Actor.USER,
    source_message_ids: Iterable[int] = (),
    slot: str = "",
    happened_on: date | None = None,
) -> ConversationMemory:
    """Remember something about `user` for `persona` alone.

    The memory's slot (what it is a fact about) is `slot`, else read from its content
    (`memory.extraction.slots`), so that a newer fact about the same thing can replace it.
    A user (or an import) can't make a summary: that kind is the summaries' own.
    """
    if kind == SUMMARY and actor in _PEOPLE:
        raise _summary_kind_error()
    content = _clean_content(content)
    memory = ConversationMemory(
        user=user,
        persona=persona,
        content=content,
        kind=kind,
        importance=importance,
        pinned=pinned,
        slot=slots.claim(content, slot).slot if isinstance(content, str) else slot,
        happened_on=happened_on,
    )
    memory.full_clean()
    memory.save()
    ids = list(source_message_ids)
    if ids:
        # Only this pair's own messages can be a memory's source.
        memory.source_messages.set(
            chat_selectors.message_ids_of_pair(user=user, persona=persona, ids=ids)
        )
    _record(memory, action=MemoryEvent.Action.CREATED, actor=actor, after=memory.content)
    _content_changed_on_commit(memory)
    return memory


@service
def memory_update(
    *, memory: ConversationMemory, actor: str = Actor.USER, **fields: object
) -> tuple[ConversationMemory, bool]:
    """Change a memory's content, kind, importance or pin, keeping a record of the change.

    Return `(memory, changed)`. Fields equal to what is stored are no change: when none
    differs, nothing is written, no event is recorded and no query runs. A new content
    drops the old embedding and asks for a new one (on commit), and is read for its slot
    again.
    """
    unknown = set(fields) - set(MEMORY_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"memory_update() got unexpected fields: {sorted(unknown)}")
    data = dict(fields)
    if "kind" in data and data["kind"] != memory.kind and SUMMARY in (data["kind"], memory.kind):
        raise _summary_kind_error()
    if "content" in data:
        data["content"] = _clean_content(data["content"])
    if all(getattr(memory, name) == value for name, value in data.items()):
        # Decided before the transaction: even an empty savepoint is a query.
        return memory, False
    before = memory.content
    with transaction.atomic():
        memory, _changed = model_update(instance=memory, fields=MEMORY_EDITABLE_FIELDS, data=data)
        _record(
            memory,
            action=MemoryEvent.Action.UPDATED,
            actor=actor,
            before=before,
            after=memory.content,
        )
        if memory.content != before:
            memory.embedding, memory.slot = None, slots.claim(memory.content).slot
            ConversationMemory.objects.filter(pk=memory.pk).update(embedding=None, slot=memory.slot)
            _content_changed_on_commit(memory)
    return memory, True


@service
@transaction.atomic
def memory_delete(*, memory: ConversationMemory, actor: str = Actor.USER) -> None:
    """Forget one memory; its history keeps the deletion."""
    _record(memory, action=MemoryEvent.Action.DELETED, actor=actor, before=memory.content)
    memory.delete()
    memories_changed(user_id=memory.user_id)


@service
@transaction.atomic
def memory_forget_all(*, user: User, persona: PersonaProfile) -> int:
    """Forget everything `persona` knows about `user`: memories, their history, preferences.

    Whether the persona remembers (its `MemorySettings`) stays as it was.
    """
    count, _details = ConversationMemory.objects.filter(user=user, persona=persona).delete()
    MemoryEvent.objects.filter(user=user, persona=persona).delete()
    UserPreference.objects.filter(user=user, persona=persona).delete()
    memories_changed(user_id=user.pk)
    return count


def _skipped(what: str, error: ValidationError) -> None:
    logger.info("Skipped a proposed %s the rules refuse: %s", what, error.messages)


@service
@transaction.atomic
def memory_apply_ops(
    *,
    user: User,
    persona: PersonaProfile,
    ops: Iterable[MemoryOp],
    actor: str,
    source_message_ids: Iterable[int] = (),
) -> list[ConversationMemory]:
    """Apply an extractor's proposed add/update/delete operations to this pair's memories only.

    Return the memories created or changed. What a memory says is its claim
    (`memory.extraction.slots`): a proposal saying what an active memory already says
    (a near-duplicate) confirms that memory instead (its importance goes up by one and
    the message joins its sources); one that contradicts active memories (the same slot,
    something else in it: another city, another name for the dog) is stored as a new
    memory that supersedes them, each keeping its history and a link to its replacement.
    An update of a memory is such a replacement too. A proposal the rules refuse (too
    long, text that can't be stored, a preference value a key does not take, one
    preference too many) is skipped and logged: it is no reason to lose the others.
    """
    sources = list(source_message_ids)
    own = selectors.memory_by_id(user=user, persona=persona)
    changed = []
    for op in ops:
        if op.preference:
            key, value = op.preference
            try:
                preference_set(user=user, persona=persona, key=key, value=value)
            except ValidationError as error:
                _skipped(f"preference {key!r}", error)
        try:
            # Each service below validates before it writes, in its own savepoint.
            memory = _apply_op(
                op, user=user, persona=persona, own=own, actor=actor, sources=sources
            )
        except ValidationError as error:
            _skipped(f"{op.op} of a memory", error)
            continue
        if memory is not None and memory not in changed:
            changed.append(memory)
    return changed


def _apply_op(
    op: MemoryOp,
    *,
    user: User,
    persona: PersonaProfile,
    own: dict[int, ConversationMemory],
    actor: str,
    sources: list[int],
) -> ConversationMemory | None:
    """Apply one operation; return the memory it created or changed, if any."""
    if op.op == "delete" and op.memory_id in own:
        memory_delete(memory=own.pop(op.memory_id), actor=actor)
        return None
    if not op.content or op.op not in ("add", "update"):
        return None
    replaced = []
    if op.op == "update":
        if op.memory_id not in own or not own[op.memory_id].is_active:
            return None
        replaced = [own[op.memory_id]]
    new = slots.claim(op.content, op.slot)
    active = [memory for memory in own.values() if memory.is_active]
    for memory in [*replaced, *active]:
        if slots.same_claim(slots.claim(memory.content, memory.slot), new):
            return _confirm(
                memory, importance=op.importance, happened_on=op.happened_on, actor=actor,
                sources=sources, user=user, persona=persona,
            )  # fmt: skip
    replaced += [
        memory
        for memory in active
        if memory not in replaced
        and slots.contradicts(new, slots.claim(memory.content, memory.slot))
    ]
    memory = memory_create(
        user=user,
        persona=persona,
        content=op.content,
        kind=ConversationMemory.Kind.FACT if op.kind == SUMMARY else op.kind,
        importance=max([op.importance, *(old.importance for old in replaced)]),
        pinned=any(old.pinned for old in replaced),
        actor=actor,
        source_message_ids=sources,
        slot=new.slot,
        happened_on=op.happened_on,
    )
    own[memory.pk] = memory
    for old in replaced:
        _supersede(old, by=memory, actor=actor)
    return memory


def _confirm(
    memory: ConversationMemory,
    *,
    importance: int,
    happened_on: date | None,
    actor: str,
    sources: list[int],
    user: User,
    persona: PersonaProfile,
) -> ConversationMemory:
    """Count a near-duplicate as hearing `memory` again, not as a new memory."""
    data: dict[str, object] = {
        "importance": min(max(memory.importance, importance) + 1, rules.IMPORTANCE_MAX)
    }
    if memory.happened_on is None and happened_on is not None:
        data["happened_on"] = happened_on
    memory, _changed = model_update(
        instance=memory, fields=["importance", "happened_on"], data=data
    )
    memory.source_messages.add(
        *chat_selectors.message_ids_of_pair(user=user, persona=persona, ids=sources)
    )
    _record(
        memory,
        action=MemoryEvent.Action.CONFIRMED,
        actor=actor,
        before=memory.content,
        after=memory.content,
    )
    return memory


def _supersede(old: ConversationMemory, *, by: ConversationMemory, actor: str) -> None:
    """Mark `old` replaced by `by`: kept, with its history and the link, but no longer recalled."""
    old.superseded_by = by
    old.updated_at = timezone.now()
    ConversationMemory.objects.filter(pk=old.pk).update(superseded_by=by, updated_at=old.updated_at)
    memories_changed(user_id=old.user_id)
    _record(
        old,
        action=MemoryEvent.Action.SUPERSEDED,
        actor=actor,
        before=old.content,
        after=by.content,
    )


@service
@transaction.atomic
def memory_apply_extraction(
    *, message: ChatMessage, ops: Iterable[MemoryOp], actor: str
) -> list[ConversationMemory] | None:
    """Mark `message` extracted and apply the operations it called for, in one transaction.

    Return the memories changed, or None when the message was marked already (by another
    run of the same task): a message is extracted once.
    """
    _mark, created = MessageExtraction.objects.get_or_create(message=message)
    if not created:
        return None
    return memory_apply_ops(
        user=message.user,
        persona=message.persona,
        ops=ops,
        actor=actor,
        source_message_ids=[message.id],
    )


@service
def messages_mark_extracted(*, messages: Iterable[ChatMessage]) -> None:
    """Mark messages extracted without extracting anything (remembering was off)."""
    MessageExtraction.objects.bulk_create(
        [MessageExtraction(message=message) for message in messages], ignore_conflicts=True
    )


@service
def memory_mark_recalled(*, user: User, persona: PersonaProfile, memory_ids: Iterable[int]) -> int:
    """Stamp the pair's memories among `memory_ids` as recalled now, in one query (none
    without ids); return how many were stamped."""
    ids = list(memory_ids)
    if not ids:
        return 0
    return ConversationMemory.objects.filter(user=user, persona=persona, id__in=ids).update(
        last_recalled_at=timezone.now()
    )


@service
def memory_set_embeddings(*, embeddings: Mapping[int, list[float]]) -> int:
    """Store each memory's embedding, by memory id, in one query; return how many.

    For background work handed memory ids by `memory_content_changed` (memory's own, so
    not scoped to a caller again).
    """
    memories = [ConversationMemory(pk=pk, embedding=vector) for pk, vector in embeddings.items()]
    if not memories:
        return 0
    return ConversationMemory.objects.bulk_update(memories, ["embedding"])


class _TooMany(Exception):
    """A new preference would pass `limits.PREFERENCES_MAX_PER_PERSONA`."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def error(self, field: str) -> ValidationError:
        return ValidationError(
            {
                field: _("Keep at most %d preferences for one persona; remove one first.")
                % limits.PREFERENCES_MAX_PER_PERSONA
            }
        )


def _clean_preference(*, user: User, persona: PersonaProfile, key: str, value: str) -> str:
    """Return the value to store for `key`; raise a ValidationError about "key" or "value"."""
    value = rules.clean_preference(key, value)
    UserPreference(user=user, persona=persona, key=key, value=value).full_clean(
        exclude=["user", "persona"], validate_unique=False, validate_constraints=False
    )
    return value


@transaction.atomic
def _store_preferences(
    *, user: User, persona: PersonaProfile, values: Mapping[str, str]
) -> list[UserPreference]:
    """Store cleaned values (an empty one removes its key); raise `_TooMany` past the limit."""
    # Lock the user's row so two new keys at once can't both squeeze under the limit.
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    existing = {p.key: p for p in selectors.preference_list(user=user, persona=persona)}
    removed = [key for key, value in values.items() if not value and key in existing]
    count = len(existing) - len(removed)
    for key, value in values.items():
        if value and key not in existing:
            count += 1
            if count > limits.PREFERENCES_MAX_PER_PERSONA:
                raise _TooMany(key)
    if removed:
        UserPreference.objects.filter(user=user, persona=persona, key__in=removed).delete()
    stored = []
    for key, value in values.items():
        if not value:
            stored.append(UserPreference(user=user, persona=persona, key=key, value=""))
        elif key in existing:
            preference, _changed = model_update(
                instance=existing[key], fields=["value"], data={"value": value}
            )
            stored.append(preference)
        else:
            stored.append(
                UserPreference.objects.create(user=user, persona=persona, key=key, value=value)
            )
    return stored


@service
def preferences_set(
    *, user: User, persona: PersonaProfile, values: Mapping[str, str]
) -> list[UserPreference]:
    """Set several preferences of this pair at once, all or nothing (an empty value removes one).

    Each key obeys its rule (`memory.rules`), any key the generic caps; a refused value
    raises a ValidationError naming its key, and nothing is stored. A pair keeps at most
    `limits.PREFERENCES_MAX_PER_PERSONA` preferences (every one goes into each prompt):
    the user's row is locked, so two requests can't both squeeze under the limit. A value
    equal to the stored one is not written again. Return the preferences in the order
    given, a removed one as an unsaved preference with an empty value.
    """
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        try:
            cleaned[key] = _clean_preference(user=user, persona=persona, key=key, value=value)
        except ValidationError as error:
            errors[key] = error.messages
    if errors:
        raise ValidationError(errors)
    try:
        return _store_preferences(user=user, persona=persona, values=cleaned)
    except _TooMany as too_many:
        raise too_many.error(too_many.key) from None


@service
def preference_set(*, user: User, persona: PersonaProfile, key: str, value: str) -> UserPreference:
    """Set one preference of this pair (an empty value removes it), by the rules and the
    limit of `preferences_set`; errors are about "key" or "value"."""
    value = _clean_preference(user=user, persona=persona, key=key, value=value)
    try:
        (preference,) = _store_preferences(user=user, persona=persona, values={key: value})
    except _TooMany as too_many:
        raise too_many.error("key") from None
    return preference


@service
def memory_settings_set(*, user: User, persona: PersonaProfile, remember: bool) -> MemorySettings:
    """Switch remembering on or off for this pair; write only if that changes it.

    Remembering is on without a settings row, so switching it on then stores nothing.
    """
    current = selectors.memory_settings_get(user=user, persona=persona)
    if current is None:
        if remember:
            return MemorySettings(user=user, persona=persona, remember=True)
        current, created = MemorySettings.objects.get_or_create(
            user=user, persona=persona, defaults={"remember": remember}
        )
        if created:
            return current
    memory_settings, _changed = model_update(
        instance=current, fields=["remember"], data={"remember": remember}
    )
    return memory_settings


@service
@transaction.atomic
def memories_forget_messages(
    *,
    user: User,
    persona: PersonaProfile,
    message_ids: Iterable[int],
    actor: str = Actor.USER,
) -> int:
    """Forget what the pair's messages `message_ids` taught; return how many memories went.

    A memory that came only from these messages is deleted; one that came from other
    messages too keeps those and loses these as sources. Each change is in the memory's
    history. The messages are marked not extracted, so extracting one again (after an
    edit) starts afresh. For chat's news of edited and deleted messages: call it before
    the messages are deleted, while their links to memories still exist.
    """
    ids = set(message_ids)
    deleted = 0
    for memory in selectors.memories_from_messages(user=user, persona=persona, message_ids=ids):
        sources = {message.pk for message in memory.source_messages.all()}
        if sources <= ids:
            memory_delete(memory=memory, actor=actor)
            deleted += 1
            continue
        memory.source_messages.remove(*(sources & ids))
        # Same content before and after: the history shows that it changed, not a new text.
        _record(
            memory,
            action=MemoryEvent.Action.UPDATED,
            actor=actor,
            before=memory.content,
            after=memory.content,
        )
    MessageExtraction.objects.filter(message_id__in=ids).delete()
    return deleted


def search_indexes_merge(*, pages: int = fulltext.MERGE_PAGES) -> dict[str, int]:
    """Merge the messages' and the memories' full-text indexes into one segment each.

    SQLite only (`fulltext.merge_index`; nothing to do on PostgreSQL). Return the merge
    steps each index took, by its FTS5 table. Run by `manage.py merge_search_indexes` (from
    time to time, e.g. nightly) and queued when an imported history's extraction ends.
    """
    return {
        index.fts_table: fulltext.merge_index(index, pages=pages)
        for index in (chat_selectors.MESSAGE_INDEX, selectors.MEMORY_INDEX)
    }
