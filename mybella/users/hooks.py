"""How each app takes part in exporting and deleting an account, without users knowing it.

The users app knows no other app. An app that keeps data of a user registers an
`AccountHook` into `account_hooks` (from its `account` module, imported by its
`AppConfig.ready()`); `user_export` merges every hook's sections and `user_delete` runs
every hook's `delete`, in registration order (the order of `INSTALLED_APPS`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile

from mybella.core.hooks import Registry

if TYPE_CHECKING:
    from mybella.users.models import User


@dataclass(frozen=True)
class AccountHook:
    """One app's part of an account.

    `models` are the models holding a user's data that this hook covers (a test checks
    that every model pointing at the user is covered by some hook). `export(user)` returns
    top-level sections of the account export, by key. `delete(user)` runs inside
    `user_delete`'s transaction, before the user row goes; it schedules the removal of
    files and remote copies with `transaction.on_commit`.
    """

    name: str
    models: tuple[type[Model], ...]
    export: Callable[["User"], dict[str, Any]]
    delete: Callable[["User"], None]


account_hooks: Registry[AccountHook] = Registry("account_hooks")


def export_rows(rows: QuerySet, *fields: str) -> list[dict[str, Any]]:
    """Return `fields` of each row as JSON-ready values (dates and times in ISO 8601)."""
    return [
        {
            key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in row.items()
        }
        for row in rows.values(*fields)
    ]


def delete_files_on_commit(files: Iterable[FieldFile]) -> None:
    """Delete the stored `files` once the account's deletion is committed.

    A rolled-back deletion keeps them. A storage failure afterwards is logged, never
    raised: the account is gone by then, and the user must hear so.
    """
    doomed = [(file.storage, file.name) for file in files if file.name]
    if doomed:
        transaction.on_commit(
            lambda: [storage.delete(name) for storage, name in doomed], robust=True
        )
