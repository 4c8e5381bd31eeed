"""Writes of personas: creating, changing, selecting, importing and exporting them."""

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from mybella.core import limits
from mybella.users.models import User
from personas import cards
from personas.avatars import AvatarError, avatar_process
from personas.models import PersonaProfile
from personas.selectors import persona_list_owned, user_settings_get


def persona_ensure_editable(*, persona: PersonaProfile, user: User) -> None:
    """Raise PermissionDenied unless `user` may change or delete `persona`."""
    if persona.is_custom:
        if persona.owner_id != user.pk:
            raise PermissionDenied(_("You can only change your own personas."))
    elif not user.is_staff:
        raise PermissionDenied(_("System personas are curated by staff and can't be changed."))


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "persona"
    while True:
        slug = f"{base}-{secrets.token_hex(3)}"
        if not PersonaProfile.objects.filter(slug=slug).exists():
            return slug


def _ensure_storable(fields: dict[str, Any]) -> None:
    # Before any query uses them: PostgreSQL refuses a NUL even in a WHERE clause.
    for field, value in fields.items():
        problem = limits.text_problem(value) if isinstance(value, str) else None
        if problem:
            raise ValidationError({field: _("This text %s.") % problem})


def _ensure_name_available(*, owner: User, name: str, exclude_pk: int | None = None) -> None:
    taken = persona_list_owned(user=owner).filter(name__iexact=name.strip())
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"name": _("You already have a persona named “%s”.") % name})


def _delete_file_on_commit(name: str) -> None:
    if name:
        storage = PersonaProfile._meta.get_field("avatar").storage
        transaction.on_commit(lambda: storage.delete(name))


def _store_avatar(persona: PersonaProfile, processed: bytes) -> None:
    _delete_file_on_commit(persona.avatar.name)
    persona.avatar.save("avatar.webp", ContentFile(processed), save=False)


@transaction.atomic
def persona_create(
    *, owner: User, avatar: Any = None, extensions: dict | None = None, **fields: Any
) -> PersonaProfile:
    """Create a custom persona owned by `owner`; `avatar` is an uploaded image or None."""
    # Lock the owner's row before counting, so concurrent creates take turns and the limit
    # holds (NO KEY: rows that merely point at the user are not held up). SQLite's
    # IMMEDIATE transactions already take turns; it ignores the lock.
    User.objects.select_for_update(no_key=True).get(pk=owner.pk)
    if persona_list_owned(user=owner).count() >= settings.PERSONAS_MAX_PER_USER:
        raise ValidationError(
            _("You can have at most %d custom personas. Delete one to make room.")
            % settings.PERSONAS_MAX_PER_USER
        )
    unknown = set(fields) - set(PersonaProfile.EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"persona_create() got unexpected fields: {sorted(unknown)}")
    _ensure_storable(fields)
    _ensure_name_available(owner=owner, name=fields.get("name", ""))
    persona = PersonaProfile(
        **fields,
        owner=owner,
        is_custom=True,
        slug=_unique_slug(fields.get("name", "")),
        extensions=extensions or {},
    )
    processed = _process_avatar(avatar) if avatar else None
    persona.full_clean()
    if processed:
        _store_avatar(persona, processed)
    persona.save()
    return persona


def _process_avatar(upload: Any) -> bytes:
    try:
        return avatar_process(upload)
    except AvatarError as error:
        raise ValidationError({"avatar": str(error)}) from error


@transaction.atomic
def persona_update(
    *,
    persona: PersonaProfile,
    user: User,
    avatar: Any = None,
    remove_avatar: bool = False,
    **fields: Any,
) -> PersonaProfile:
    """Change the given fields of a persona `user` may edit, and its avatar if given."""
    persona_ensure_editable(persona=persona, user=user)
    unknown = set(fields) - set(PersonaProfile.EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"persona_update() got unexpected fields: {sorted(unknown)}")
    _ensure_storable(fields)
    if "name" in fields and persona.is_custom:
        _ensure_name_available(owner=persona.owner, name=fields["name"], exclude_pk=persona.pk)
    for field, value in fields.items():
        setattr(persona, field, value)
    processed = _process_avatar(avatar) if avatar else None
    persona.full_clean()
    if processed:
        _store_avatar(persona, processed)
    elif remove_avatar and persona.avatar:
        _delete_file_on_commit(persona.avatar.name)
        persona.avatar = ""
    persona.save()
    return persona


@transaction.atomic
def persona_set_avatar(*, persona: PersonaProfile, user: User, upload: Any) -> PersonaProfile:
    """Replace a persona's avatar with a checked, re-encoded copy of `upload`."""
    persona_ensure_editable(persona=persona, user=user)
    _store_avatar(persona, _process_avatar(upload))
    persona.save(update_fields=["avatar", "updated_at"])
    return persona


@transaction.atomic
def persona_delete(*, persona: PersonaProfile, user: User) -> None:
    """Delete a persona with everything that belongs to it (conversations, memories)."""
    persona_ensure_editable(persona=persona, user=user)
    _delete_file_on_commit(persona.avatar.name)
    persona.delete()


def persona_select(*, user: User, persona: PersonaProfile) -> PersonaProfile:
    """Make `persona` the one `user` is talking to."""
    if not persona.is_active or (persona.is_custom and persona.owner_id != user.pk):
        raise PermissionDenied(_("This persona can't be selected."))
    user_settings = user_settings_get(user=user)
    user_settings.current_persona = persona
    user_settings.save(update_fields=["current_persona", "updated_at"])
    return persona


def _free_name(*, owner: User, name: str) -> str:
    taken = {n.lower() for n in persona_list_owned(user=owner).values_list("name", flat=True)}
    candidate, number = name, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate = name[: PersonaProfile.NAME_MAX_LENGTH - len(suffix)] + suffix
        number += 1
    return candidate


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
    fields["name"] = _free_name(owner=owner, name=fields["name"])
    try:
        return persona_create(
            owner=owner, avatar=parsed.image, extensions=parsed.extensions, **fields
        )
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise ValidationError({"card": error.messages}) from error  # the limit
        # Name the card in field errors: the user uploaded a file, not a form.
        if not hasattr(error, "error_dict"):
            raise ValidationError({"card": error.messages}) from error
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
    """Return a persona as a Character Card: (content, content type, file name)."""
    fields = {field: getattr(persona, field) for field in cards.MYBELLA_FIELDS}
    stem = slugify(persona.name) or "persona"
    if fmt == "png":
        image = None
        if persona.avatar:
            with persona.avatar.open("rb") as avatar:
                image = avatar.read()
        content = cards.card_to_png(fields, persona.extensions, image=image)
        return content, "image/png", f"{stem}.card.png"
    return cards.card_to_json(fields, persona.extensions), "application/json", f"{stem}.card.json"


@transaction.atomic
def persona_duplicate(*, persona: PersonaProfile) -> PersonaProfile:
    """Copy a system persona as an inactive system persona, for staff to rework."""
    taken = {n.lower() for n in PersonaProfile.objects.system().values_list("name", flat=True)}
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
    return copy
