"""SQLite transactions queue on a file lock (mybella.core.db.sqlite3), taken and always freed."""

import fcntl
import os
import threading

import pytest

from mybella.core.db.sqlite3.base import DatabaseWrapper


def _wrapper(name: str) -> DatabaseWrapper:
    return DatabaseWrapper(
        {
            "NAME": name,
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0},  # no busy handler
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
        }
    )


@pytest.fixture
def database(tmp_path, django_db_blocker):
    """A SQLite file of its own (not the tests' database), opened as the settings open one."""
    wrapper = _wrapper(str(tmp_path / "db.sqlite3"))
    with django_db_blocker.unblock():
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x integer)")
        yield wrapper
        wrapper.close()


def _lock_is_free(database) -> bool:
    fd = os.open(f"{database.settings_dict['NAME']}-writelock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing frees a lock this took
    return True


def _begin(database) -> None:
    """Begin a transaction as `transaction.atomic` does on SQLite."""
    database.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def test_a_transaction_holds_the_lock_until_it_commits(database):
    _begin(database)
    assert not _lock_is_free(database)
    with database.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    database.commit()
    database.set_autocommit(True)
    assert _lock_is_free(database)


def test_a_rollback_and_a_close_free_the_lock(database):
    _begin(database)
    database.rollback()
    database.set_autocommit(True)
    assert _lock_is_free(database)
    _begin(database)
    database.close()
    assert _lock_is_free(database)


def test_a_second_writer_waits_for_the_first_and_then_writes(database):
    """The other connection waits on the file lock: with no busy handler, BEGIN would fail."""
    started, done = threading.Event(), threading.Event()

    def write() -> None:
        other = _wrapper(database.settings_dict["NAME"])  # a connection of this thread's
        started.set()
        _begin(other)
        with other.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (2)")
        other.commit()
        other.set_autocommit(True)
        other.close()
        done.set()

    _begin(database)
    thread = threading.Thread(target=write)
    thread.start()
    started.wait()
    assert not done.wait(0.2)  # still queued behind this transaction
    database.commit()
    database.set_autocommit(True)
    thread.join(10)
    assert done.is_set()
    with database.cursor() as cursor:
        cursor.execute("SELECT x FROM t")
        assert cursor.fetchall() == [(2,)]


def test_an_in_memory_database_takes_no_lock(django_db_blocker):
    wrapper = _wrapper(":memory:")
    with django_db_blocker.unblock():
        _begin(wrapper)
        assert wrapper._write_lock_fd is None
        wrapper.rollback()
        wrapper.set_autocommit(True)
