"""Run code in threads that share the test database the way processes share a real one."""

import sqlite3
import threading
from contextlib import closing

import pytest
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections


@pytest.fixture
def share_with_threads(tmp_path):
    """Return a function that lets threads share the test database as processes share one.

    SQLite's test database lives in memory with a shared cache, where a second writer fails
    at once ("table is locked") instead of waiting its turn as on a file. On SQLite the
    function copies the data so far to a file that the threads then open with the project's
    settings (WAL, IMMEDIATE transactions); on PostgreSQL the database already is shared.
    """
    original = connections.settings[DEFAULT_DB_ALIAS]

    def share() -> None:
        if connection.vendor != "sqlite":
            return
        path = tmp_path / "threads.sqlite3"
        connection.ensure_connection()
        with closing(sqlite3.connect(path)) as target:
            connection.connection.backup(target)
        # A generous busy timeout: twenty writers queue behind each other on a loaded machine.
        options = {**original.get("OPTIONS", {}), "timeout": 60}
        connections.settings[DEFAULT_DB_ALIAS] = {**original, "NAME": str(path), "OPTIONS": options}

    yield share
    connections.settings[DEFAULT_DB_ALIAS] = original


def race(target, count: int) -> list[str]:
    """Run `target(n)` in `count` threads released together; return how each ended."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(number: int) -> None:
        try:
            barrier.wait()
            target(number)
            outcome = "created"
        except ValidationError as error:
            outcome = " ".join(error.messages)
        except Exception as error:  # any other failure is reported, not lost in a thread
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def in_thread(target):
    """Return `target()` run in a thread, with that thread's own database connection."""
    result = []
    thread = threading.Thread(target=lambda: (result.append(target()), connections.close_all()))
    thread.start()
    thread.join()
    return result[0]
