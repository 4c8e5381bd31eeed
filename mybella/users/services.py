"""Writes of accounts."""

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mybella.core import limits
from mybella.core.services import model_update, service
from mybella.users.hooks import AccountHook, account_hooks, export_rows
from mybella.users.models import ApiToken, User


@service
@transaction.atomic
def user_create(*, username: str, password: str, email: str = "") -> User:
    """Create an account."""
    return User.objects.create_user(username=username, email=email, password=password)


# The fields a user changes on their profile page; everything else is not theirs to set here.
PROFILE_FIELDS = ("display_name", "first_name", "last_name", "email")
NAME_FIELDS = ("display_name", "first_name", "last_name")


@service
def user_update_profile(*, user: User, data: Mapping[str, object]) -> tuple[User, bool]:
    """Change the profile `fields` given in `data`; return the user and whether anything changed.

    Nothing is written when nothing differs. Other fields (staff rights, the password) are
    refused with `ValueError`: they are the caller's mistake, never input to drop. The
    names are one line, as a persona's are: personas call the user by one in their prompts.
    """
    for field in NAME_FIELDS:
        value = data.get(field)
        problem = limits.line_problem(value) if isinstance(value, str) else None
        if problem:
            raise ValidationError({field: _("This text %s.") % problem})
    return model_update(instance=user, fields=PROFILE_FIELDS, data=data)


def _export_own(user: User) -> dict[str, Any]:
    """Return the user's own fields and API tokens (never their keys, only kept hashed)."""
    return {
        "user": {
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": user.date_joined.isoformat(),
        },
        "api_tokens": export_rows(
            ApiToken.objects.filter(user=user),
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
        ),
    }


def _delete_own(user: User) -> None:
    """Leave the API tokens to the user's CASCADE: they keep no files."""


# The users app's own part of an account. Not registered: the users app runs the hooks,
# and its part comes first whatever the order the other apps are loaded in.
own_account = AccountHook(
    name="users",
    models=(ApiToken,),
    export=_export_own,
    delete=_delete_own,
)


def _account_parts() -> tuple[AccountHook, ...]:
    return (own_account, *account_hooks)


@service
@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete an account with everything it owns: every app's part, then the user row.

    Each app's hook schedules the removal of its files for once the deletion is committed;
    a rolled-back deletion keeps them.
    """
    for part in _account_parts():
        part.delete(user)
    user.delete()


def user_export(*, user: User) -> dict[str, Any]:
    """Return everything MyBella keeps about `user`, as plain JSON-ready data.

    The sections come from every app's account hook; two hooks exporting one section is a
    mistake, refused with `ValueError` rather than one hiding the other.
    """
    export: dict[str, Any] = {}
    for part in _account_parts():
        for key, section in part.export(user).items():
            if key in export:
                raise ValueError(f"Account hook {part.name!r} exports {key!r} a second time.")
            export[key] = section
    return export


# Keys start with a fixed tag so that secret scanners (and people) can recognise them.
API_TOKEN_TAG = "mb_"  # noqa: S105 -- a label, not a secret


@service
@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a new API token for `user`; return it with its key, which is never stored.

    Expired tokens of the user are cleared first; past API_TOKENS_MAX_PER_USER working
    tokens the user must revoke one before making another.
    """
    now = timezone.now()
    # Lock the user's row: two sign-ins at once must not both slip under the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    if ApiToken.objects.filter(user=user).count() >= settings.API_TOKENS_MAX_PER_USER:
        raise ValidationError(
            _(
                "You already have %d API tokens. Revoke one you no longer use "
                "(on your profile page, or DELETE /api/v1/auth/tokens/{id}/) first."
            )
            % settings.API_TOKENS_MAX_PER_USER
        )
    key = API_TOKEN_TAG + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        # Shown in the token list as one line: line breaks become spaces, controls go.
        name=limits.one_line(name)[:100],
        prefix=key[: ApiToken.PREFIX_LENGTH],
        digest=ApiToken.hash(key),
        expires_at=now + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    return token, key


@service
def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke `token`: the key stops working at once."""
    token.delete()
