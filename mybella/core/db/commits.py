"""Transactions whose commit need not wait for the disk."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.sql import UpdateQuery

# Run inside a statement, this makes its transaction's commit skip the wait (see below).
_RELAX_CALL = "set_config('synchronous_commit', 'off', true)"

Statement = tuple[str, Sequence[Any]]


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
    connection = transaction.get_connection()
    outermost = not connection.in_atomic_block
    with transaction.atomic(savepoint=False):
        if relaxed and outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def update_statement(queryset: QuerySet, **values: Any) -> Statement:
    """Return the SQL and parameters of `queryset.update(**values)`, without running it.

    For a plain filter on the queryset's own table (a primary key): what `update()` would
    send, field conversions included; related-table updates are not supported.
    """
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, params = query.get_compiler(queryset.db).as_sql()
    return sql, tuple(params)


def execute_unflushed(statements: Sequence[Statement], *, relaxed: bool = True) -> None:
    """Run data-changing `statements` (UPDATE, INSERT or DELETE, without RETURNING) all or
    none, as `atomic_unflushed(relaxed=relaxed)` would, in the fewest round trips.

    On PostgreSQL, outside a transaction, they go as one statement (each a data-modifying
    `WITH` part), which is its own transaction, committed without waiting for the disk when
    `relaxed` (`set_config(..., true)` in it: that transaction only): one round trip where
    BEGIN, SET LOCAL, each statement and COMMIT took one each. The statements run on one
    snapshot and see none of each other's changes: they must write different rows. Inside
    another transaction they join it (one statement still, nothing relaxed); on other
    databases they run one after the other in `atomic_unflushed`.
    """
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        with atomic_unflushed(relaxed=relaxed), connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
        return
    relax = relaxed and not connection.in_atomic_block
    parts = ", ".join(f"w{index} AS ({sql})" for index, (sql, _params) in enumerate(statements))
    sql = f"WITH {parts} SELECT {_RELAX_CALL if relax else '1'}"
    params = [param for _sql, statement_params in statements for param in statement_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
