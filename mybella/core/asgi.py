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
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

IDLE_THREADS_KEPT = 16


class ThreadKeepingASGIHandler(ASGIHandler):
    """`ASGIHandler` whose requests reuse the threads earlier requests ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.idle: list[ThreadPoolExecutor] = []  # the event loop's thread alone touches it

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # refused, as Django does
            return
        # The most recently used: its connection is the likeliest to be open and warm.
        thread = self.idle.pop() if self.idle else ThreadPoolExecutor(1, "request")
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            if len(self.idle) < IDLE_THREADS_KEPT:
                self.idle.append(thread)
            else:
                thread.submit(connections.close_all)
                thread.shutdown(wait=False)
