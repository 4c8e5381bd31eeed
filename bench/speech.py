"""Time to first audio: from a streamed reply's first word to the first byte of its speech.

    .venv/bin/python -m bench.speech                 # espeak-ng and the fake ElevenLabs, SQLite
    .venv/bin/python -m bench.speech --runs 5 --engines espeak   # a quick look
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mybella_bench .venv/bin/python -m bench.speech
                                                     # PostgreSQL: mybella_bench_speech

The production server (bench.served.SERVER) serves a fresh database with one user; the
tests' fake OpenAI-compatible server writes each reply a word every WORD_SECONDS (a model
writing about 20 tokens a second). For each run a client asks for a reply over real HTTP
(`stream: true`) and, the moment the stream tells its first `sentence` event, asks for
that sentence's audio (`POST /api/v1/personas/{id}/speak/sentence/`), as the chat page
does. Time to first audio is from the first `delta` of the reply to the first byte of that
audio: the model writing the rest of the first sentence and the next word, then the
synthesis up to its first bytes. Each run's reply differs, so no audio comes from the
cache. Engines: offline espeak-ng (target under 1 s at p95), and ElevenLabs, played by the
tests' fake server with its realistic pace (the first chunk after 300 ms, then a chunk
every 50 ms; target under 1.5 s). The cache is Redis (BENCH_CACHE_URL, by default db 11).
A benchmark is not a test: the exit status is 0 whatever the figures.
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import httpx

from bench.run import percentile
from bench.served import SERVER, prepare, scratch, serving
from mybella.tests.fakes.fake_elevenlabs import API_KEY, FakeElevenLabs, voice_json
from mybella.tests.fakes.fake_llm import FakeLLMServer

RUNS = 20
WORD_SECONDS = 0.05
TARGET_MS = {"espeak": 1000.0, "elevenlabs": 1500.0}
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/11"
SEND = "/api/v1/chat/messages/"
REPLY = (
    "Oh, run {n} already, it is so lovely to hear from you again. I was just thinking about "
    "what you told me yesterday. Tell me everything about your day, from the very start!"
)


def _reply(n: int) -> str:
    return REPLY.format(n=n)


def _first_audio(client: httpx.Client, persona: int, n: int, model: FakeLLMServer) -> dict:
    """Stream one reply, speak its first sentence the moment it is told; return the times."""
    model.reply_text = _reply(n)
    body = {"message": f"How are you? ({n})", "persona": persona, "stream": True}
    first_delta = sentence_at = audio_at = None
    status, sentence, event = "", "", ""
    with client.stream("POST", SEND, json=body) as response:
        if response.status_code != 200:
            return {"error": f"reply: HTTP {response.status_code}"}
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
                continue
            if not line.startswith("data: "):
                continue
            if event == "delta" and first_delta is None:
                first_delta = time.perf_counter()
            elif event == "sentence" and audio_at is None:
                sentence_at = time.perf_counter()
                sentence = json.loads(line.removeprefix("data: "))["text"]
                url = f"/api/v1/personas/{persona}/speak/sentence/"
                with client.stream("POST", url, json={"text": sentence}) as audio:
                    status = audio.status_code
                    # The whole of it, so that it is cached as the page's would be.
                    for chunk in audio.iter_bytes():
                        if chunk and audio_at is None:
                            audio_at = time.perf_counter()
            elif event in ("done", "error"):
                break
    if status != 200 or None in (first_delta, sentence_at, audio_at):
        return {"error": f"speech: HTTP {status or 'never asked'}"}
    return {
        "first_sentence_ms": (sentence_at - first_delta) * 1000,
        "first_audio_ms": (audio_at - first_delta) * 1000,
        "sentence": sentence,
    }


def _stats(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}
    if len(samples) == 1:  # percentiles need two
        return {"n": 1, "p50": samples[0], "p95": samples[0]}
    return {"n": len(samples), "p50": percentile(samples, 50), "p95": percentile(samples, 95)}


def measure_engine(*, engine: str, runs: int, incoming_url: str) -> dict:
    """Serve a fresh database with `engine` speaking; return its times to first audio."""
    model = FakeLLMServer()
    # The role chunk and the first word at once, then a word every WORD_SECONDS.
    model.hold_stream_after(0, then_pace=WORD_SECONDS)
    model.resume()
    voices = FakeElevenLabs() if engine == "elevenlabs" else None
    results: list[dict] = []
    try:
        with scratch(tag="speech", incoming_url=incoming_url, tool="bench.speech") as made:
            env = made.env(
                model_url=model.url,
                cache_url=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL),
                LLM_TIMEOUT="60",
                THROTTLE_SPEECH_SENTENCES="1000000/min",
                SPEECH_ENGINE=engine,
                ELEVENLABS_API_KEY=API_KEY if voices else "",
                ELEVENLABS_BASE_URL=voices.url if voices else "",
            )
            fixture = prepare(env)
            if voices is not None:
                # Every preset's voice id is one the fake ElevenLabs knows.
                for voice_id in fixture["preset_voice_ids"]:
                    voices.voices.setdefault(voice_id, voice_json(voice_id, voice_id))
            with (
                serving(env, made.work / "server.log", tool="bench.speech") as base_url,
                httpx.Client(
                    base_url=base_url,
                    headers={"Authorization": f"Token {fixture['key']}"},
                    timeout=60,
                ) as client,
            ):
                _first_audio(client, fixture["persona"], -1, model)  # warm the worker up
                for n in range(runs):
                    results.append(_first_audio(client, fixture["persona"], n, model))
    finally:
        model.stop()
        if voices is not None:
            voices.stop()
    ok = [r for r in results if "error" not in r]
    return {
        "engine": engine,
        "database": made.description,
        "runs": runs,
        "errors": [r["error"] for r in results if "error" in r],
        "first_sentence_ms": _stats([r["first_sentence_ms"] for r in ok]),
        "first_audio_ms": _stats([r["first_audio_ms"] for r in ok]),
        "sentence": ok[0]["sentence"] if ok else "",
    }


def report(all_figures: list[dict]) -> str:
    """Return the figures as lines of text."""
    if not all_figures:
        return "Time to first audio: no engine to measure"
    first = all_figures[0]
    lines = [
        f"Time to first audio: {first['runs']} replies per engine, a word every "
        f"{WORD_SECONDS * 1000:g} ms, {' '.join(['uvicorn', *SERVER[3:]])}, {first['database']}",
        f"  (from the first word of the reply; the first sentence: {first['sentence']!r})",
    ]
    for figures in all_figures:
        engine, audio = figures["engine"], figures["first_audio_ms"]
        sentence = figures["first_sentence_ms"]
        if not audio.get("n"):
            lines.append(f"  {engine:<11} no audio: {', '.join(figures['errors'])}")
            continue
        target = TARGET_MS[engine]
        verdict = "meets" if audio["p95"] < target and not figures["errors"] else "MISSES"
        lines.append(
            f"  {engine:<11} first audio byte p50 {audio['p50']:6.0f} ms  p95 {audio['p95']:6.0f}"
            f" ms   (first sentence told at p50 {sentence['p50']:4.0f} ms)   target < "
            f"{target:g} ms: {verdict}"
            + (f"   errors: {', '.join(figures['errors'])}" if figures["errors"] else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--engines", nargs="+", choices=sorted(TARGET_MS), default=["espeak", "elevenlabs"]
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = []
    for engine in args.engines:
        if engine == "espeak" and not shutil.which("espeak-ng"):
            print("bench.speech: espeak-ng is not installed; skipping the offline engine")
            continue
        figures.append(
            measure_engine(
                engine=engine, runs=args.runs, incoming_url=os.environ.get("DATABASE_URL", "")
            )
        )
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
