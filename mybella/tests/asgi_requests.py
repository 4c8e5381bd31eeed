"""GET requests made straight to an ASGI handler, for the tests of the handler itself."""

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run(coroutine_function: Callable[..., Coroutine], *args: Any) -> Any:
    """Run a coroutine in a thread of its own (Playwright's loop may own this one)."""
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine_function(*args)).result()


async def call(handler: Callable, url: str) -> str:
    """GET `url` from `handler`; return the body of its 200 answer."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent, asked = [], asyncio.Event()

    async def receive():
        if not asked.is_set():
            asked.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the response is made

    async def send(message):
        sent.append(message)

    await handler(scope, receive, send)
    assert sent[0]["status"] == 200, sent
    return b"".join(m.get("body", b"") for m in sent[1:]).decode()


def get(handler: Callable, url: str) -> str:
    """GET `url` from `handler` from synchronous code; return the body."""
    return run(call, handler, url)
