"""Writes of personas: creating, changing, selecting, importing and exporting them.

Every page, API and admin view that changes a persona calls one of these, so each rule
(limits, trait cleaning, who may change what, which files go when) holds for all of them.
"""

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from mybella.core import limits
from mybella.core.filenames import file_stem
from mybella.core.services import model_update, service
from mybella.users.models import User
from personas import cards, rules, selectors
from personas.avatars import AvatarError, avatar_process
from personas.cache import personas_changed
from personas.card_hooks import card_blocks, card_blocks_apply, card_blocks_take
from personas.models import PersonaProfile, PersonaSelection
from personas.sections import persona_sections

# What staff may set on a system persona, besides what owners set on theirs.
STAFF_FIELDS = ("slug", "position", "is_active", "extensions")
CARD_FORMATS = ("json", "png")


def persona_ensure_editable(*, persona: PersonaProfile, user: User) -> None:
    """Raise PermissionDenied unless `user` may change or delete `persona`."""
    if persona.is_custom:
        if persona.owner_id != user.pk:
            raise PermissionDenied(_("You can only change your own personas."))
    elif not user.is_staff:
        raise PermissionDenied(_("System personas are curated by staff and can't be changed."))


# Shown in lists and read into prompts as one line each: no line breaks, no control marks.
ONE_LINE_FIELDS = ("name", "tagline", "traits")


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "persona"
    while True:
        slug = f"{base}-{secrets.token_hex(3)}"
        if not selectors.persona_slug_taken(slug=slug):
            return slug


def _checked_fields(
    fields: Mapping[str, Any], allowed: Iterable[str], caller: str
) -> dict[str, Any]:
    """Return `fields` ready for the model: known names only, traits cleaned, text storable."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{caller}() got unexpected fields: {sorted(unknown)}")
    fields = dict(fields)
    if "traits" in fields:
        try:
            fields["traits"] = rules.clean_traits(fields["traits"], mode="strict")
        except ValidationError as error:
            raise ValidationError({"traits": error}) from error
    # Before any query uses them: PostgreSQL refuses a NUL even in a WHERE clause.
    for field, value in fields.items():
        problem = limits.text_problem(value) if isinstance(value, str) else None
        if problem:
            raise ValidationError({field: _("This text %s.") % problem})
    for field in ONE_LINE_FIELDS:
        values = fields.get(field)
        for value in values if isinstance(values, list) else [values]:
            problem = limits.line_problem(value) if isinstance(value, str) else None
            if problem:
                raise ValidationError({field: _("This text %s.") % problem})
    name = fields.get("name")
    if isinstance(name, str) and name.strip() and limits.shows_nothing(name):
        raise ValidationError({"name": _("This name shows nothing; give one that can be seen.")})
    return fields


def _ensure_name_available(*, owner: User, name: str, exclude_pk: int | None = None) -> None:
    taken = selectors.persona_list_owned(user=owner).filter(name__iexact=name.strip())
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"name": _("You already have a persona named “%s”.") % name})


def _ensure_staff(user: User, message: str) -> None:
    if not user.is_staff:
        raise PermissionDenied(message)


def _process_avatar(upload: Any) -> bytes | None:
    """Return `upload` checked and re-encoded, or None when there is none."""
    if upload is None:
        return None
    try:
        return avatar_process(upload)
    except AvatarError as error:
        raise ValidationError({"avatar": str(error)}) from error


def _delete_file_on_commit(name: str) -> None:
    if name:
        storage = PersonaProfile._meta.get_field("avatar").storage
        transaction.on_commit(lambda: storage.delete(name))


def _replace_avatar(persona: PersonaProfile, processed: bytes) -> None:
    """Store a new avatar file; the old one is deleted once the change is committed."""
    old = persona.avatar.name
    persona.avatar.save("avatar.webp", ContentFile(processed), save=False)
    persona.save(update_fields=["avatar", "updated_at"])
    _delete_file_on_commit(old)


def _remove_avatar(persona: PersonaProfile) -> None:
    """Clear the avatar, if any; its file is deleted once the change is committed."""
    if not persona.avatar:
        return
    old = persona.avatar.name
    persona.avatar = ""
    persona.save(update_fields=["avatar", "updated_at"])
    _delete_file_on_commit(old)


def _save_sections(
    *, persona: PersonaProfile, user: User, sections: Mapping[str, Any] | None
) -> None:
    """Save the input of each registered section given, inside the persona's transaction."""
    sections = dict(sections or {})
    unknown = set(sections) - set(persona_sections.names())
    if unknown:
        raise TypeError(f"No persona sections named {sorted(unknown)} are registered.")
    for section in persona_sections:
        if section.name in sections:
            section.save(persona=persona, user=user, data=sections[section.name])


def _finish(
    persona: PersonaProfile,
    *,
    user: User,
    sections: Mapping[str, Any] | None,
    avatar: bytes | None,
    remove_avatar: bool = False,
) -> PersonaProfile:
    """Save the sections, then the avatar: its file is written last, once nothing can fail."""
    _save_sections(persona=persona, user=user, sections=sections)
    if avatar is not None:
        _replace_avatar(persona, avatar)
    elif remove_avatar:
        _remove_avatar(persona)
    return persona


@service
@transaction.atomic
def persona_create(
    *,
    owner: User,
    fields: Mapping[str, Any],
    avatar: Any = None,
    extensions: dict | None = None,
    sections: Mapping[str, Any] | None = None,
) -> PersonaProfile:
    """Create a custom persona owned by `owner`.

    `fields` are among `PersonaProfile.EDITABLE_FIELDS`; `avatar` is an uploaded image (or
    its bytes) or None; `sections` maps a registered persona section's name to its input.
    """
    # Lock the owner's row before counting, so concurrent creates take turns and the limit
    # holds (NO KEY: rows that merely point at the user are not held up). SQLite's
    # IMMEDIATE transactions already take turns; it ignores the lock.
    User.objects.select_for_update(no_key=True).get(pk=owner.pk)
    if selectors.persona_list_owned(user=owner).count() >= settings.PERSONAS_MAX_PER_USER:
        raise ValidationError(
            _("You can have at most %d custom personas. Delete one to make room.")
            % settings.PERSONAS_MAX_PER_USER
        )
    fields = _checked_fields(fields, PersonaProfile.EDITABLE_FIELDS, "persona_create")
    _ensure_name_available(owner=owner, name=fields.get("name", ""))
    persona = PersonaProfile(
        **fields,
        owner=owner,
        is_custom=True,
        slug=_unique_slug(fields.get("name", "")),
        extensions=extensions or {},
    )
    processed = _process_avatar(avatar)
    persona.full_clean()
    persona.save()
    return _finish(persona, user=owner, sections=sections, avatar=processed)


@service
@transaction.atomic
def persona_create_system(
    *,
    user: User,
    fields: Mapping[str, Any],
    staff_fields: Mapping[str, Any] | None = None,
    avatar: Any = None,
    sections: Mapping[str, Any] | None = None,
) -> PersonaProfile:
    """Create a system persona (no owner), as staff; `staff_fields` among `STAFF_FIELDS`.

    Without a `slug`, one is made from the name.
    """
    _ensure_staff(user, _("Only staff create system personas."))
    fields = _checked_fields(fields, PersonaProfile.EDITABLE_FIELDS, "persona_create_system")
    staff = _checked_fields(staff_fields or {}, STAFF_FIELDS, "persona_create_system")
    staff["slug"] = staff.get("slug") or _unique_slug(fields.get("name", ""))
    persona = PersonaProfile(**fields, **staff, owner=None, is_custom=False)
    processed = _process_avatar(avatar)
    persona.full_clean()
    persona.save()
    return _finish(persona, user=user, sections=sections, avatar=processed)


@service
@transaction.atomic
def persona_update(
    *,
    persona: PersonaProfile,
    user: User,
    fields: Mapping[str, Any] | None = None,
    avatar: Any = None,
    remove_avatar: bool = False,
    sections: Mapping[str, Any] | None = None,
    staff_fields: Mapping[str, Any] | None = None,
) -> PersonaProfile:
    """Change the given fields of a persona `user` may edit, and its avatar if given.

    Only what differs is saved: an update that changes nothing runs no query. `avatar`
    replaces the picture; `remove_avatar` (without `avatar`) clears it. `staff_fields`
    (among `STAFF_FIELDS`) are for staff changing a system persona.
    """
    persona_ensure_editable(persona=persona, user=user)
    fields = _checked_fields(fields or {}, PersonaProfile.EDITABLE_FIELDS, "persona_update")
    if staff_fields:
        if persona.is_custom or not user.is_staff:
            raise PermissionDenied(_("Only staff change these fields, of system personas."))
        fields.update(_checked_fields(staff_fields, STAFF_FIELDS, "persona_update"))
    if persona.is_custom and "name" in fields and fields["name"] != persona.name:
        _ensure_name_available(owner=persona.owner, name=fields["name"], exclude_pk=persona.pk)
    processed = _process_avatar(avatar)
    model_update(
        instance=persona, fields=(*PersonaProfile.EDITABLE_FIELDS, *STAFF_FIELDS), data=fields
    )
    return _finish(
        persona, user=user, sections=sections, avatar=processed, remove_avatar=remove_avatar
    )


@service
@transaction.atomic
def persona_set_avatar(*, persona: PersonaProfile, user: User, upload: Any) -> PersonaProfile:
    """Replace a persona's avatar with a checked, re-encoded copy of `upload`.

    `upload=None` removes the avatar (no write when there is none). The old file is
    deleted once the change is committed.
    """
    persona_ensure_editable(persona=persona, user=user)
    if upload is None:
        _remove_avatar(persona)
    else:
        _replace_avatar(persona, _process_avatar(upload))
    return persona


@service
@transaction.atomic
def persona_delete(*, persona: PersonaProfile, user: User) -> None:
    """Delete a persona with everything that belongs to it (conversations, memories)."""
    persona_ensure_editable(persona=persona, user=user)
    _delete_file_on_commit(persona.avatar.name)
    persona.delete()


@service
@transaction.atomic
def persona_set_active(*, user: User, personas: Iterable[PersonaProfile], active: bool) -> int:
    """Activate or deactivate system personas, as staff; return how many changed.

    Custom personas among them are left alone: they are their owners' to change. Users'
    conversations and memories with an inactive persona are hidden until it is back.
    """
    _ensure_staff(user, _("Only staff activate or deactivate system personas."))
    ids = [persona.pk for persona in personas if not persona.is_custom]
    changed = (
        PersonaProfile.objects.system()
        .filter(pk__in=ids)
        .exclude(is_active=active)
        .update(is_active=active, updated_at=timezone.now())
    )
    if changed:
        personas_changed()
    return changed


@service
def persona_select(*, user: User, persona: PersonaProfile) -> PersonaProfile:
    """Make `persona` the one `user` is talking to; nothing is written if it already is."""
    if not persona.is_active or (persona.is_custom and persona.owner_id != user.pk):
        raise PermissionDenied(_("This persona can't be selected."))
    # No savepoint of its own: after the permission check it only writes one row, and a
    # caller already in a transaction would pay two more queries.
    with transaction.atomic(savepoint=False):
        selection = selectors.persona_selection_get(user=user)
        if selection is None:
            PersonaSelection.objects.create(user=user, persona=persona)
        else:
            model_update(instance=selection, fields=["persona"], data={"persona": persona})
    return persona


def _free_name(*, owner: User, name: str) -> str:
    taken = {
        n.lower() for n in selectors.persona_list_owned(user=owner).values_list("name", flat=True)
    }
    candidate, number = name, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate = name[: PersonaProfile.NAME_MAX_LENGTH - len(suffix)] + suffix
        number += 1
    return candidate


@service
def persona_import_card(*, owner: User, data: bytes) -> PersonaProfile:
    """Create a custom persona from a Character Card (V1/V2/V3 JSON, or a PNG card)."""
    if len(data) > settings.CARD_MAX_BYTES:
        raise ValidationError(
            {"card": _("The card is larger than %d MB.") % (settings.CARD_MAX_BYTES // 2**20)}
        )
    try:
        parsed = cards.card_parse(data)
    except cards.CardError as error:
        raise ValidationError({"card": str(error)}) from error
    fields = dict(parsed.fields)
    # Cards from other apps may break a name over lines: made one line, not refused.
    for field in ONE_LINE_FIELDS:
        value = fields.get(field)
        if isinstance(value, str):
            fields[field] = limits.one_line(value)
        elif isinstance(value, list):
            fields[field] = [limits.one_line(v) if isinstance(v, str) else v for v in value]
    fields["name"] = _free_name(owner=owner, name=fields["name"])
    # Other apps' blocks (the voice, …) are applied by them, not stored as the card's own.
    extensions, blocks = card_blocks_take(parsed.extensions)
    try:
        with transaction.atomic():
            persona = persona_create(
                owner=owner,
                fields=fields,
                avatar=parsed.image,
                extensions=extensions,
                sections={"lorebook": {"entries": parsed.lorebook}},
            )
            card_blocks_apply(persona=persona, user=owner, blocks=blocks)
            return persona
    except ValidationError as error:
        if not hasattr(error, "error_dict"):  # the persona count, say
            raise ValidationError({"card": error.messages}) from error
        # Name the card in field errors: the user uploaded a file, not a form.
        raise ValidationError(
            {
                "card": [
                    f"{field}: {msg}" if field != "__all__" else msg
                    for field, msgs in error.message_dict.items()
                    for msg in msgs
                ]
            }
        ) from error


def persona_export_card(*, persona: PersonaProfile, fmt: str) -> tuple[bytes, str, str]:
    """Return a persona as a Character Card: (content, content type, file name).

    `fmt` is "json" or "png"; anything else is a ValidationError on `format`.
    """
    if fmt not in CARD_FORMATS:
        raise ValidationError({"format": _("Choose json or png.")}, code="invalid_choice")
    fields = {field: getattr(persona, field) for field in cards.MYBELLA_FIELDS}
    lorebook = [
        {**{name: getattr(entry, name) for name in cards.ENTRY_FIELDS}, "extra": entry.extra}
        for entry in selectors.lorebook_entry_list(persona=persona)
    ]
    # Other apps' blocks (the voice, …) go in the card's data.extensions beside its own.
    stored = dict(persona.extensions) if isinstance(persona.extensions, dict) else {}
    blocks = card_blocks(persona)
    if blocks:
        own = stored.get("extensions")
        stored["extensions"] = {**(own if isinstance(own, dict) else {}), **blocks}
    # A name in any script names the file (sent as RFC 6266 `filename*` when not ASCII).
    stem = file_stem(persona.name, fallback="persona")
    if fmt == "png":
        image = None
        if persona.avatar:
            with persona.avatar.open("rb") as avatar:
                image = avatar.read()
        content = cards.card_to_png(fields, stored, image=image, lorebook=lorebook)
        return content, "image/png", f"{stem}.card.png"
    content = cards.card_to_json(fields, stored, lorebook=lorebook)
    return content, "application/json", f"{stem}.card.json"


@service
@transaction.atomic
def persona_duplicate(*, persona: PersonaProfile, user: User) -> PersonaProfile:
    """Copy a system persona as an inactive system persona, for staff to rework.

    Each registered persona section with a `copy` carries its part over too.
    """
    _ensure_staff(user, _("Only staff duplicate system personas."))
    if persona.is_custom:
        raise PermissionDenied(_("Only system personas are duplicated; users' are theirs."))
    taken = {name.lower() for name in selectors.persona_system_names()}
    name, number = f"{persona.name} (copy)", 2
    while name.lower() in taken:
        name, number = f"{persona.name} (copy {number})", number + 1
    copy = PersonaProfile(
        **{
            field: getattr(persona, field)
            for field in (*PersonaProfile.EDITABLE_FIELDS, "extensions", "position")
        },
    )
    copy.name, copy.is_active, copy.is_custom, copy.owner = (
        name[: PersonaProfile.NAME_MAX_LENGTH],
        False,
        False,
        None,
    )
    copy.slug = _unique_slug(name)
    if persona.avatar:
        with persona.avatar.open("rb") as avatar:
            copy.avatar.save("avatar.webp", ContentFile(avatar.read()), save=False)
    copy.save()
    for section in persona_sections:
        if section.copy is not None:
            section.copy(persona, copy)
    return copy
