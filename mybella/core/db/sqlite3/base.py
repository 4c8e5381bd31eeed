"""SQLite whose writers queue on a file lock instead of sleeping in SQLite's busy handler.

A SQLite file has one write lock. A `BEGIN IMMEDIATE` that finds it taken is retried by
SQLite's busy handler, which sleeps in growing steps (1, 2, 5, … 100 ms) rather than waking
when the lock frees: under concurrent sends most of a request's time went to those sleeps
(a transaction holds the lock ~2 ms, a waiter slept up to a second). Here every transaction
first takes an exclusive `flock` on `<database>-writelock`, which the kernel hands to the
next waiter the moment it is released, so writers (threads and the server's processes
alike) queue instead of polling; by the time `BEGIN IMMEDIATE` runs, the lock is almost
always free. The busy handler stays the fallback for writes that don't go through here
(autocommit statements, other programs). In-memory databases (the tests') have no file
and one writer: no lock.
"""

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite wrapper, taking the file lock around each transaction it begins."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock_fd: int | None = None
        self._write_locked = False

    def _start_transaction_under_autocommit(self) -> None:
        self._lock_writes()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._unlock_writes()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._unlock_writes()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._unlock_writes()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._unlock_writes()
            if self._write_lock_fd is not None:
                os.close(self._write_lock_fd)
                self._write_lock_fd = None

    def _lock_writes(self) -> None:
        if self._write_locked or self.is_in_memory_db():
            return
        if self._write_lock_fd is None:
            path = f"{self.settings_dict['NAME']}-writelock"
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._write_lock_fd, fcntl.LOCK_EX)  # blocks, without the GIL
        self._write_locked = True

    def _unlock_writes(self) -> None:
        if self._write_locked:
            self._write_locked = False
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)
