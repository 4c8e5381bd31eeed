"""Writes of memories and preferences; every change to a memory leaves an event."""

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from chat import selectors as chat_selectors
from memory.extraction import MemoryOp
from memory.models import ConversationMemory, MemoryEvent, MemorySettings, UserPreference
from mybella.core import limits
from mybella.users.models import User
from personas.models import PersonaProfile

logger = logging.getLogger(__name__)

HISTORY_LENGTH = 10  # events kept per memory
Actor = MemoryEvent.Actor

PREFERENCE_CHOICES = {
    "reply_length": {"short", "medium", "long"},
}


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


def _check_content(content: str) -> None:
    if len(content) > limits.MEMORY_MAX_CHARS:
        raise ValidationError(
            {
                "content": _("Keep a memory to at most %(max)d characters (it has %(length)d).")
                % {"max": limits.MEMORY_MAX_CHARS, "length": len(content)}
            }
        )
    problem = limits.text_problem(content)
    if problem:
        raise ValidationError({"content": _("This text %s.") % problem})


def _embed_on_commit(memory: ConversationMemory) -> None:
    from memory.tasks import enqueue_embedding

    transaction.on_commit(lambda: enqueue_embedding([memory.pk]))


@transaction.atomic
def memory_create(
    *,
    user: User,
    persona: PersonaProfile,
    content: str,
    kind: str = ConversationMemory.Kind.FACT,
    importance: int = 5,
    pinned: bool = False,
    actor: str = Actor.USER,
    source_message_ids: Iterable[int] = (),
) -> ConversationMemory:
    """Remember something about `user` for `persona` alone."""
    _check_content(content.strip())
    memory = ConversationMemory(
        user=user,
        persona=persona,
        content=content.strip(),
        kind=kind,
        importance=importance,
        pinned=pinned,
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
    _embed_on_commit(memory)
    return memory


@transaction.atomic
def memory_update(
    *, memory: ConversationMemory, actor: str = Actor.USER, **fields: object
) -> ConversationMemory:
    """Change a memory's content, kind, importance or pin, keeping a record of the change."""
    allowed = {"content", "kind", "importance", "pinned"}
    if set(fields) - allowed:
        raise TypeError(f"memory_update() got unexpected fields: {sorted(set(fields) - allowed)}")
    if isinstance(fields.get("content"), str):
        _check_content(fields["content"].strip())
    before = memory.content
    for name, value in fields.items():
        setattr(memory, name, value.strip() if name == "content" else value)
    memory.full_clean()
    memory.save()
    _record(
        memory, action=MemoryEvent.Action.UPDATED, actor=actor, before=before, after=memory.content
    )
    if memory.content != before:
        ConversationMemory.objects.filter(pk=memory.pk).update(embedding=None)
        _embed_on_commit(memory)
    return memory


@transaction.atomic
def memory_delete(*, memory: ConversationMemory, actor: str = Actor.USER) -> None:
    """Forget one memory; its history keeps the deletion."""
    _record(memory, action=MemoryEvent.Action.DELETED, actor=actor, before=memory.content)
    memory.delete()


@transaction.atomic
def memory_forget_all(*, user: User, persona: PersonaProfile) -> int:
    """Forget everything `persona` knows about `user`: memories, their history, preferences."""
    count, _details = ConversationMemory.objects.filter(user=user, persona=persona).delete()
    MemoryEvent.objects.filter(user=user, persona=persona).delete()
    UserPreference.objects.filter(user=user, persona=persona).delete()
    return count


@transaction.atomic
def memory_apply_ops(
    *,
    user: User,
    persona: PersonaProfile,
    ops: Iterable[MemoryOp],
    actor: str,
    source_message_ids: Iterable[int] = (),
) -> list[ConversationMemory]:
    """Apply proposed add/update/delete operations to this pair's memories only."""
    sources = list(source_message_ids)
    own = {m.id: m for m in ConversationMemory.objects.filter(user=user, persona=persona)}
    changed = []
    for op in ops:
        if op.preference:
            key, value = op.preference
            try:
                preference_set(user=user, persona=persona, key=key, value=value)
            except ValidationError as error:
                # A preference that doesn't fit (one too many, say) is no reason to lose
                # the memories proposed with it.
                logger.info("Skipped the preference %r: %s", key, error.messages)
        if op.op == "add" and op.content:
            changed.append(
                memory_create(
                    user=user,
                    persona=persona,
                    content=op.content,
                    kind=op.kind,
                    importance=op.importance,
                    actor=actor,
                    source_message_ids=sources,
                )
            )
        elif op.op == "update" and op.memory_id in own and op.content:
            memory = own[op.memory_id]
            if memory.content != op.content:
                changed.append(memory_update(memory=memory, actor=actor, content=op.content))
                memory.source_messages.add(
                    *chat_selectors.message_ids_of_pair(user=user, persona=persona, ids=sources)
                )
        elif op.op == "delete" and op.memory_id in own:
            memory_delete(memory=own.pop(op.memory_id), actor=actor)
    return changed


@transaction.atomic
def preference_set(*, user: User, persona: PersonaProfile, key: str, value: str) -> UserPreference:
    """Set one preference of this pair (an empty value removes it).

    A pair keeps at most `limits.PREFERENCES_MAX_PER_PERSONA` preferences: every one of
    them goes into each prompt.
    """
    allowed = PREFERENCE_CHOICES.get(key)
    if value and allowed and value not in allowed:
        raise ValidationError({"value": _("Choose one of: %s.") % ", ".join(sorted(allowed))})
    for name, text in (("key", key), ("value", value)):
        problem = limits.text_problem(text)
        if problem:
            raise ValidationError({name: _("This text %s.") % problem})
    preference = UserPreference(user=user, persona=persona, key=key, value=value.strip())
    preference.full_clean(
        exclude=["user", "persona"], validate_unique=False, validate_constraints=False
    )
    # Lock the user's row so two new keys at once can't both squeeze under the limit.
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    existing = UserPreference.objects.filter(user=user, persona=persona)
    if not value.strip():
        existing.filter(key=key).delete()
        return preference
    if (
        not existing.filter(key=key).exists()
        and existing.count() >= limits.PREFERENCES_MAX_PER_PERSONA
    ):
        raise ValidationError(
            {
                "key": _("Keep at most %d preferences for one persona; remove one first.")
                % limits.PREFERENCES_MAX_PER_PERSONA
            }
        )
    preference, _created = UserPreference.objects.update_or_create(
        user=user, persona=persona, key=key, defaults={"value": value.strip()}
    )
    return preference


def memory_settings_set(*, user: User, persona: PersonaProfile, remember: bool) -> MemorySettings:
    """Switch remembering on or off for this pair."""
    memory_settings, _created = MemorySettings.objects.update_or_create(
        user=user, persona=persona, defaults={"remember": remember}
    )
    return memory_settings
