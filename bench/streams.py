"""Concurrent streams: 50 replies streaming at once from a slow model, the persona list timed.

    .venv/bin/python -m bench.streams                       # a throwaway SQLite database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mybella_bench .venv/bin/python -m bench.streams
                                                            # PostgreSQL: mybella_bench_streams
    .venv/bin/python -m bench.streams --streams 10 --reply-seconds 3   # a quick look

SERVER (the README's production command) serves a fresh database with one user. The fake
OpenAI-compatible server of the tests stands in for the model, slow on purpose: each reply
takes REPLY_SECONDS to write. STREAMS replies are asked for at once (`stream: true`, real
HTTP) and read to their end, while another thread requests `GET /api/v1/personas/` one after
the other and times each answer. Printed: how many streams ended with `done` (any other end
is a cut stream), their durations, and the persona list's p50/p95/p99 with no streams and
during them, against P95_TARGET_MS. The cache is Redis (the server's processes must share
their throttles): BENCH_CACHE_URL, by default db 10. A benchmark is not a test: the exit
status is 0 whatever the figures.
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench.databases import derived_database_url
from bench.run import BASE_DIR, _is_postgres, _redacted, child_env, percentile
from mybella.tests.fakes.fake_llm import FakeLLMServer

# The production server, as the README's production section runs it (host and port added).
SERVER = [sys.executable, "-m", "uvicorn", "mybella.asgi:application", "--workers", "2"]
STREAMS = 50
REPLY_SECONDS = 10.0
REPLY_WORDS = 20
P95_TARGET_MS = 100.0
IDLE_SECONDS = 3.0
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/10"
PERSONAS = "/api/v1/personas/"
SEND = "/api/v1/chat/messages/"


class SlowModel(FakeLLMServer):
    """The tests' fake model, with a listen backlog for many streams opened at once."""

    request_queue_size = 256

    def __init__(self, *, words: int, seconds: float) -> None:
        super().__init__()
        self.reply_text = " ".join(f"word{number}" for number in range(words))
        # Held after the role chunk, then paced: the words and the closing chunk, each late.
        self.hold_stream_after(0, then_pace=seconds / (words + 1))
        self.resume()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres(url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(statement)


def _prepare(env: dict[str, str]) -> dict:
    """Migrate the database and make a user with a token; return the token and a persona."""
    manage = [sys.executable, "manage.py"]
    migrate = [*manage, "migrate", "--noinput", "-v", "0"]
    subprocess.run(migrate, cwd=BASE_DIR, env=env, check=True)  # noqa: S603 - our own commands
    script = """
import json
from mybella.users.models import User
from mybella.users.services import api_token_create
from personas.models import PersonaProfile
user = User.objects.create_user("streams", password="bench-streams-password")
_token, key = api_token_create(user=user)
persona = PersonaProfile.objects.filter(owner=None).order_by("pk").first()
print(json.dumps({"key": key, "persona": persona.pk}))
"""
    out = subprocess.run(  # noqa: S603 - our own commands
        [*manage, "shell", "-v", "0", "-c", script],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 - our own commands
        [*SERVER, "--host", "127.0.0.1", "--port", str(port)],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        with suppress(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}{PERSONAS}", timeout=2)
            return server
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"bench.streams: the server did not start:\n{log.read_text()}")
        time.sleep(0.1)


class Timer(threading.Thread):
    """Request the persona list one after the other until stopped; keep each latency (ms)."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        self.samples: list[float] = []
        self.failures = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.perf_counter()
            try:
                ok = self.client.get(PERSONAS).status_code == 200
            except httpx.HTTPError:
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            if ok:
                self.samples.append(elapsed)
            else:
                self.failures += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.client.close()


async def _stream(client: httpx.AsyncClient, persona: int, number: int) -> dict:
    """Ask for one streamed reply and read it to its end; say how it ended."""
    started = time.perf_counter()
    body = {"message": f"Tell me a story, number {number}", "persona": persona, "stream": True}
    last, deltas, first_byte = "", 0, None
    try:
        async with client.stream("POST", SEND, json=body) as response:
            if response.status_code != 200:
                return {"end": f"HTTP {response.status_code}", "seconds": 0.0}
            async for line in response.aiter_lines():
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                if line.startswith("event: "):
                    last = line.removeprefix("event: ")
                    deltas += last == "delta"
    except httpx.HTTPError as error:
        last = type(error).__name__
    return {
        "end": last,
        "deltas": deltas,
        "seconds": time.perf_counter() - started,
        "first_byte": first_byte or 0.0,
    }


async def _streams(base_url: str, headers: dict[str, str], persona: int, count: int) -> list:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    timeout = httpx.Timeout(120, connect=30)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=timeout
    ) as client:
        return await asyncio.gather(*(_stream(client, persona, n) for n in range(count)))


def _latencies(samples: list[float]) -> dict:
    if len(samples) < 2:
        return {"n": len(samples), **dict.fromkeys(("p50", "p95", "p99"), sum(samples))}
    return {
        "n": len(samples),
        "p50": percentile(samples, 50),
        "p95": percentile(samples, 95),
        "p99": percentile(samples, 99),
    }


def measure(*, streams: int, reply_seconds: float, incoming_url: str) -> dict:
    """Run the scenario once on a database of its own; return the figures."""
    work = Path(tempfile.mkdtemp(prefix="bench-streams-"))
    url = derived_database_url(
        incoming_url, tag="streams", default=work / "streams.sqlite3", tool="bench.streams"
    )
    postgres = _is_postgres(url)
    name = urlsplit(url).path.lstrip("/")
    if postgres:
        _postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _postgres(url, f'CREATE DATABASE "{name}"')
    model = SlowModel(words=REPLY_WORDS, seconds=reply_seconds)
    env = {
        **child_env(url),
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL),
        "CONN_MAX_AGE": "0",
        "MEDIA_ROOT": str(work / "media"),
        "PRIVATE_MEDIA_ROOT": str(work / "private"),
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": model.url + "/v1",
        "LLM_API_KEY": "bench",
        "LLM_MODEL": "slow-model",
        "LLM_TIMEOUT": str(max(60, reply_seconds * 3)),
        "THROTTLE_CHAT": "1000000/min",
    }
    server = None
    try:
        fixture = _prepare(env)
        port = _free_port()
        server = _start_server(env, port, work / "server.log")
        base_url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Token {fixture['key']}"}

        warm = Timer(base_url, headers)  # each process's first answers are slower
        warm.start()
        time.sleep(1)
        warm.stop()

        idle = Timer(base_url, headers)
        idle.start()
        time.sleep(IDLE_SECONDS)
        idle.stop()

        during = Timer(base_url, headers)
        during.start()
        started = time.perf_counter()
        results = asyncio.run(_streams(base_url, headers, fixture["persona"], streams))
        wall = time.perf_counter() - started
        during.stop()
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        model.stop()
        if postgres:
            _postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
    done = [r for r in results if r["end"] == "done"]
    return {
        "server": " ".join(["uvicorn", *SERVER[3:]]),
        "database": _redacted(url) if postgres else "SQLite",
        "streams": streams,
        "reply_seconds": reply_seconds,
        "done": len(done),
        "cut": [r["end"] or "nothing" for r in results if r["end"] != "done"],
        "stream_seconds": _latencies([r["seconds"] for r in done]),
        "first_byte_ms": _latencies([r["first_byte"] * 1000 for r in done]),
        "wall_seconds": wall,
        "idle": _latencies(idle.samples),
        "during": _latencies(during.samples),
        "get_failures": idle.failures + during.failures,
    }


def report(figures: dict) -> str:
    """Return the scenario's figures as lines of text."""

    def row(label: str, stats: dict) -> str:
        if not stats.get("n"):
            return f"  {label:<28} no answers"
        return (
            f"  {label:<28} n={stats['n']:<5} p50 {stats['p50']:7.1f} ms   "
            f"p95 {stats['p95']:7.1f} ms   p99 {stats['p99']:7.1f} ms"
        )

    p95 = figures["during"].get("p95", float("inf"))
    verdict = (
        "meets the target"
        if p95 < P95_TARGET_MS and not figures["cut"] and not figures["get_failures"]
        else "MISSES the target"
    )
    seconds = figures["stream_seconds"]
    lines = [
        f"Concurrent streams: {figures['streams']} replies of {figures['reply_seconds']:g} s "
        f"each at once, {figures['server']}, {figures['database']}",
        f"  streams ended with done      {figures['done']}/{figures['streams']}"
        + (f"   cut: {', '.join(figures['cut'])}" if figures["cut"] else "   (none cut)"),
    ]
    if seconds.get("n"):
        lines.append(
            f"  stream duration              p50 {seconds['p50']:.1f} s   "
            f"p99 {seconds['p99']:.1f} s   all in {figures['wall_seconds']:.1f} s"
        )
    lines += [
        row("first byte of a stream", figures["first_byte_ms"]),
        row("GET personas/, no streams", figures["idle"]),
        row(f"GET personas/, {figures['streams']} streaming", figures["during"]),
        f"  persona list p95 {p95:.1f} ms (target < {P95_TARGET_MS:g} ms, no stream cut, "
        f"no failed GET: {figures['get_failures']} failed): {verdict}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=STREAMS)
    parser.add_argument("--reply-seconds", type=float, default=REPLY_SECONDS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = measure(
        streams=args.streams,
        reply_seconds=args.reply_seconds,
        incoming_url=os.environ.get("DATABASE_URL", ""),
    )
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
