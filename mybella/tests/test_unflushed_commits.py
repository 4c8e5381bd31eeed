"""`mybella.core.db.commits.atomic_unflushed`: on PostgreSQL, a commit that need not wait
for the disk, for its own transaction only."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from mybella.core.db.commits import atomic_unflushed, execute_unflushed

pytestmark = [
    pytest.mark.django_db(transaction=True),  # outermost transactions, as in a request
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's setting"),
]


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_only_its_own_transaction_skips_the_wait():
    with atomic_unflushed():
        assert synchronous_commit() == "off"
    assert synchronous_commit() == "on"


def test_not_relaxed_it_waits():
    with atomic_unflushed(relaxed=False):
        assert synchronous_commit() == "on"


def test_inside_another_transaction_it_relaxes_nothing():
    with transaction.atomic(), atomic_unflushed():
        assert synchronous_commit() == "on"


@pytest.fixture
def probe():
    """A table of two rows, (1, 0) and (2, 0)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS unflushed_probe")
        cursor.execute("CREATE TABLE unflushed_probe (id int PRIMARY KEY, v int)")
        cursor.execute("INSERT INTO unflushed_probe VALUES (1, 0), (2, 0)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS unflushed_probe")


def _values() -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, v FROM unflushed_probe ORDER BY id")
        return cursor.fetchall()


@pytest.mark.usefixtures("probe")
def test_statements_go_as_one_relaxed_statement():
    statements = [
        ("UPDATE unflushed_probe SET v = %s WHERE id = %s", (5, 1)),
        ("UPDATE unflushed_probe SET v = %s WHERE id = %s", (7, 2)),
    ]
    with CaptureQueriesContext(connection) as queries:
        execute_unflushed(statements)
    assert len(queries) == 1
    assert "set_config('synchronous_commit', 'off', true)" in queries[0]["sql"]
    assert _values() == [(1, 5), (2, 7)]
    assert synchronous_commit() == "on"  # that statement's transaction only


@pytest.mark.usefixtures("probe")
def test_statements_are_all_or_none():
    with pytest.raises(IntegrityError):
        execute_unflushed(
            [
                ("UPDATE unflushed_probe SET v = %s WHERE id = %s", (5, 1)),
                ("UPDATE unflushed_probe SET id = %s WHERE id = %s", (1, 2)),
            ]
        )
    assert _values() == [(1, 0), (2, 0)]


@pytest.mark.usefixtures("probe")
def test_statements_inside_another_transaction_relax_nothing():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        execute_unflushed([("UPDATE unflushed_probe SET v = %s WHERE id = %s", (5, 1))])
        assert synchronous_commit() == "on"
    assert "set_config" not in queries[0]["sql"]
    assert _values() == [(1, 5), (2, 0)]
