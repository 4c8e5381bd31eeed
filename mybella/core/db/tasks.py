"""Tasks queued with the transaction that asks for them."""

from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, router, transaction
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend


def _queues_in(task: Task, using: str) -> bool:
    """Return whether queueing `task` writes a row in database `using` (django-tasks-db)."""
    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    from django_tasks_db.models import DBTaskResult  # a model: not at import time

    return router.db_for_write(DBTaskResult) == using


def enqueue_on_commit(task: Task, *args: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """Queue `task(*args, **kwargs)` to run only once the current transaction commits.

    With the database task backend on the same database, inside a transaction, the task's
    row is written now, in that transaction: it commits with the data it is about (a worker
    sees neither before the commit), or rolls back with it, and costs no commit of its own.
    Any other backend (the immediate one in tests, a broker) is handed the task on commit,
    never after a rollback. Outside a transaction it is queued at once.
    """
    if transaction.get_connection(using).in_atomic_block and _queues_in(task, using):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, *args, **kwargs), using=using)
