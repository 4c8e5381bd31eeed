"""Django's ASGI handler, keeping the threads that run requests' synchronous code.

Django's handler runs each request's synchronous part (middleware, views, the ORM) in a
thread made for that request (`ThreadSensitiveContext()` per request), so each request opens
its database connection anew and drops it: on SQLite about 2.5 ms a request (parsing the
schema, the PRAGMAs, a WAL checkpoint when the last connection closes) and every statement
prepared again. Here a request takes an idle thread, or a new one when every kept thread is
busy (streams waiting on a model keep theirs), and gives it back when it ends; at most
`IDLE_THREADS_KEPT` idle ones are kept, the others close their connections and end. A thread
serves one request at a time. What a thread keeps between requests is what Django keeps
under a threaded WSGI server: its connections, closed or kept at the end of a request as
`CONN_MAX_AGE` says.

Two rules keep it Django's handler in all but the threads:

- A kept thread serves only under the database settings its connections were opened with
  (`connections.settings`, each alias's dict). A connection holds its own copy of them, so
  after a change a kept one would go on reading the database the settings no longer name.
  When they change, the idle threads close their connections and end, and so does a busy
  one when its request ends. A server never changes them; tests that point the server's
  threads at another database do (`share_with_threads`).
- A request made from synchronous code (through `async_to_sync`, as a test client does) is
  left to Django's handler, which runs its synchronous part in the caller's thread, on the
  caller's connection and in its transaction; a kept thread would be another connection.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import AsyncToSync, ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

IDLE_THREADS_KEPT = 16

Databases = tuple[tuple[str, dict], ...]


def _databases() -> Databases:
    """The database settings connections are opened with now: (alias, its dict)."""
    return tuple(connections.settings.items())


def _same(first: Databases, second: Databases) -> bool:
    """Whether both name the same settings dicts (by identity: a connection keeps its dict)."""
    return len(first) == len(second) and all(
        alias == other_alias and settings is other_settings
        for (alias, settings), (other_alias, other_settings) in zip(first, second, strict=True)
    )


def _let_go(thread: ThreadPoolExecutor) -> None:
    """Close the thread's connections, in that thread (they belong to it), and end it."""
    thread.submit(connections.close_all)
    thread.shutdown(wait=False)


class ThreadKeepingASGIHandler(ASGIHandler):
    """`ASGIHandler` whose requests reuse the threads earlier requests ran in."""

    def __init__(self) -> None:
        super().__init__()
        # The event loop's thread alone touches these.
        self.idle: list[ThreadPoolExecutor] = []
        self.databases: Databases = _databases()  # those the kept threads' connections use

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or getattr(AsyncToSync.executors, "current", None):
            # Refused (not HTTP), or called from synchronous code: Django's handler runs the
            # request's synchronous part in the caller's thread.
            await super().__call__(scope, receive, send)
            return
        databases = _databases()
        if _same(databases, self.databases):
            databases = self.databases
        else:  # the kept threads' connections are to databases the settings no longer name
            for thread in self.idle:
                _let_go(thread)
            self.idle, self.databases = [], databases
        # The most recently used: its connection is the likeliest to be open and warm.
        thread = self.idle.pop() if self.idle else ThreadPoolExecutor(1, "request")
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            if self.databases is databases and _same(_databases(), databases):
                if len(self.idle) < IDLE_THREADS_KEPT:
                    self.idle.append(thread)
                else:
                    _let_go(thread)
            else:  # the settings changed while it served
                _let_go(thread)
