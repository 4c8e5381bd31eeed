"""How each app takes part in exporting and deleting an account, without users knowing it.

The users app knows no other app. An app that keeps data of a user registers an
`AccountHook` into `account_hooks` (from its `account` module, imported by its
`AppConfig.ready()`); `user_export` merges every hook's sections and `user_delete` runs
every hook's `delete`, in registration order (the order of `INSTALLED_APPS`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Model

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
