"""`mybella.core.db.commits.atomic_unflushed`: on PostgreSQL, a commit that need not wait
for the disk, for its own transaction only."""

import pytest
from django.db import connection, transaction

from mybella.core.db.commits import atomic_unflushed

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
