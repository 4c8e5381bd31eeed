"""The body limit holds under ASGI too: oversized requests are refused before they are read.

Django's ASGI handler reads the whole body before any middleware runs, so the limit sits in
front of it, in `mybella.asgi.application`. These tests call that application with
hand-written ASGI messages, and once through a real uvicorn.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mybella.asgi import application

BASE_DIR = Path(__file__).resolve().parents[2]
LIMIT = 1000


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.MAX_REQUEST_BYTES = LIMIT


def run(coroutine_function, *args):
    """Run a coroutine in a thread of its own (Playwright's loop may own this one)."""
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine_function(*args)).result()


class Client:
    """Drive one ASGI request: count what the app reads, keep what it sends."""

    def __init__(self, path: str, headers: dict[str, str], chunks: list[bytes]) -> None:
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"localhost")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("localhost", 80),
        }
        self.chunks = list(chunks)
        self.bytes_read = 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if not self.chunks:
            # The client is gone once its body is sent and answered.
            await asyncio.sleep(3600)
        chunk = self.chunks.pop(0)
        self.bytes_read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    def run(self) -> "Client":
        run(lambda: asyncio.wait_for(application(self.scope, self.receive, self.send), 30))
        return self

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return {k.decode().lower(): v.decode() for k, v in start["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def test_a_declared_length_over_the_limit_is_413_before_any_byte_is_read():
    """Content-Length over MAX_REQUEST_BYTES: 413 JSON under /api/, the body never read."""
    client = Client(
        "/api/v1/personas/",
        {"content-type": "application/json", "content-length": str(300 * 2**20)},
        [b"x" * 500] * 10,
    ).run()
    assert client.status == 413
    assert client.bytes_read == 0
    assert client.headers["content-type"] == "application/json"
    assert "too large" in json.loads(client.body)["detail"]


def test_a_body_without_length_is_cut_off_once_it_passes_the_limit():
    """A chunked body is counted as it arrives and refused (text outside /api/) when over."""
    client = Client("/users/login/", {"content-type": "text/plain"}, [b"x" * 300] * 100).run()
    assert client.status == 413
    assert client.bytes_read <= LIMIT + 300
    assert client.headers["content-type"].startswith("text/plain")
    assert b"too large" in client.body


def test_a_body_that_outgrows_its_declared_length_is_cut_off_too():
    """A Content-Length under the limit doesn't excuse a body that keeps coming."""
    client = Client(
        "/api/v1/auth/token/",
        {"content-type": "application/json", "content-length": "10"},
        [b"x" * 300] * 100,
    ).run()
    assert client.status == 413
    assert client.bytes_read <= LIMIT + 300


def test_a_body_within_the_limit_reaches_django_whole():
    """Small requests pass through untouched: the view reads the JSON that was sent."""
    body = json.dumps({"username": "somebody"}).encode()
    client = Client(
        "/api/v1/auth/token/",
        {"content-type": "application/json", "content-length": str(len(body))},
        [body[:10], body[10:]],
    ).run()
    assert client.status == 400
    errors = json.loads(client.body)
    assert "password" in errors
    assert "username" not in errors


def test_other_connections_pass_through():
    """Lifespan and websocket scopes are Django's (or the server's) business, not the limit's."""
    sent = []

    async def receive():
        return {"type": "lifespan.startup"}

    async def send(message):
        sent.append(message)

    with pytest.raises(ValueError, match="lifespan"):
        run(application, {"type": "lifespan"}, receive, send)


# Under a real server -----------------------------------------------------------------------


@pytest.fixture
def uvicorn_socket(tmp_path):
    """Serve mybella.asgi with uvicorn on a Unix socket, MAX_REQUEST_BYTES=100000."""
    path = tmp_path / "uvicorn.sock"
    env = {
        **os.environ,
        "MAX_REQUEST_BYTES": "100000",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "DEBUG": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "mybella.asgi:application", "--uds", str(path)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not _accepts(path):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(server.communicate()[0].decode())
        time.sleep(0.05)
    yield path
    server.terminate()
    try:
        server.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # a request it still waits on
        server.kill()
        server.communicate()


def _accepts(path: Path) -> bool:
    """Whether the server listens yet (its socket file appears just before it does)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return False
    return True


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(str(path))
    return sock


def _response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_uvicorn_answers_413_after_the_headers_and_a_little_of_the_body(uvicorn_socket):
    """The client has sent 64 KB of a declared 300 MB when the 413 arrives."""
    sock = _connect(uvicorn_socket)
    sock.sendall(
        b"POST /api/v1/personas/ HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n" + b"x" * 65536
    )
    response = _response(sock)
    sock.close()
    assert response.startswith(b"HTTP/1.1 413"), response


def test_uvicorn_cuts_off_a_chunked_body_over_the_limit(uvicorn_socket):
    """A chunked upload (no Content-Length) is refused once it passes the limit."""
    sock = _connect(uvicorn_socket)
    sock.sendall(
        b"POST /api/v1/personas/ HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (16384, b"x" * 16384)
    try:
        for _ in range(64):  # 1 MB, ten times the limit
            sock.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    response = _response(sock)
    sock.close()
    assert response.startswith(b"HTTP/1.1 413"), response
    assert b"application/json" in response
