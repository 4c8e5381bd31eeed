"""Transactions whose commit need not wait for the disk."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def atomic_unflushed(*, relaxed: bool = True) -> Iterator[None]:
    """A transaction (no savepoint) that, with `relaxed`, commits without waiting for its log
    to reach the disk: PostgreSQL's `synchronous_commit = off` for this transaction only.

    The commit returns at once and the log is written within `3 x wal_writer_delay` (0.6 s
    by default). A crash of the database server (not of a web process) in between loses the
    transaction whole, as if it had not run; it never corrupts anything, and every other
    transaction still waits for its disk. Only for writes the application can do without
    after a crash. Nested in another transaction, or on SQLite, it is an ordinary one: the
    outer commit is not relaxed for what it holds besides.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic(savepoint=False):
        if relaxed and outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield
