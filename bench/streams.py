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
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.run import percentile
from bench.served import SERVER, prepare, scratch, serving
from mybella.tests.fakes.fake_llm import FakeLLMServer

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
    model = SlowModel(words=REPLY_WORDS, seconds=reply_seconds)
    try:
        with scratch(tag="streams", incoming_url=incoming_url, tool="bench.streams") as made:
            env = made.env(
                model_url=model.url,
                cache_url=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL),
                LLM_TIMEOUT=str(max(60, reply_seconds * 3)),
                THROTTLE_CHAT="1000000/min",
            )
            fixture = prepare(env)
            with serving(env, made.work / "server.log", tool="bench.streams") as base_url:
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
        model.stop()
    done = [r for r in results if r["end"] == "done"]
    return {
        "server": " ".join(["uvicorn", *SERVER[3:]]),
        "database": made.description,
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
