"""The version cached persona reads depend on (`mybella.core.cache`)."""

from typing import Any

from django.db import transaction

from mybella.core.cache import bump

PERSONAS_VERSION = "personas"


def personas_changed(**kwargs: Any) -> None:
    """Make cached persona reads stale: now, and again once the change is committed.

    Again on commit because a read between the two would have cached the old rows. A signal
    receiver as well (hence `**kwargs`), for every save and delete.
    """
    bump(PERSONAS_VERSION)
    transaction.on_commit(lambda: bump(PERSONAS_VERSION), robust=True)
