"""A fake OpenAI-compatible server on 127.0.0.1, so tests run the real `openai` SDK over HTTP.

Tests take the `fake_llm` fixture (the root conftest loads this module as a plugin);
settings then point at the server.
"""

import base64
import hashlib
import json
import re
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from mybella.tests.loopback import LoopbackServer

DEFAULT_REPLY = "Hello from the fake model, nice to meet you."
HOLD_LIMIT = 30  # seconds a held stream waits for resume() before going on by itself
# A runaway model stops at max_tokens, like a real server; without one it writes this many
# tokens (a real one writes until its context is full): enough that no cap means failure.
RUNAWAY_TOKENS = 2000
RUNAWAY_WORD = "more "


def fake_vector(text: str) -> list[float]:
    """Return the 8-number embedding the fake server gives `text`."""
    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 255 * 2 - 1, 4) for b in digest[:8]]


class _Handler(BaseHTTPRequestHandler):
    server: "FakeLLMServer"

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        fake = self.server
        with fake.lock:
            fake.requests.append((self.path, body, {k.lower(): v for k, v in self.headers.items()}))
            failure = fake.failures.pop(0) if fake.failures else None
            stall, fake.stall = fake.stall, 0.0
        if stall:
            time.sleep(stall)
        try:
            if failure:
                self._json(*failure)
            elif self.path == "/v1/chat/completions":
                self._chat(body)
            elif self.path == "/v1/embeddings":
                self._embeddings(body)
            else:
                self._json(404, {"error": {"message": "Unknown path.", "type": "not_found"}})
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test, a closed stream): nothing more to send.
            fake.connection_closed.set()

    def _json(self, status: int, payload: object, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(data)

    def _text(self, body: dict) -> tuple[str, str]:
        """Return the answer to a chat request and its finish reason."""
        fake = self.server
        json_mode = (body.get("response_format") or {}).get("type") == "json_object"
        if json_mode and fake.extraction_text is not None:
            return fake.extraction_text, "stop"
        if not fake.runaway:
            return fake.reply_text, "stop"
        limit = body.get("max_tokens")
        tokens = limit if isinstance(limit, int) and limit > 0 else RUNAWAY_TOKENS
        return RUNAWAY_WORD * min(tokens, RUNAWAY_TOKENS), "length"

    def _chat(self, body: dict) -> None:
        (text, finish), model = self._text(body), body.get("model", "")
        created = int(time.time())
        if not body.get("stream"):
            self._json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": finish,
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18},
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def chunk(delta: dict, finish: str | None = None) -> dict:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [choice],
            }

        # Like OpenAI: a role-only first chunk, the words, then an empty delta that stops.
        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": piece}) for piece in re.findall(r"\S+\s*", text)]
        events.append(chunk({}, finish))
        if self.server.break_after is not None:
            events = events[: self.server.break_after + 1]
            events.append({"error": {"message": "The server broke.", "type": "server_error"}})
        held = False
        for sent, event in enumerate(events):
            if sent - 1 == self.server.hold_after:  # the role chunk is not a piece
                self.server.held.set()
                self.server.resumed.wait(HOLD_LIMIT)
                held = True
            elif held:
                time.sleep(self.server.pace_after_hold)
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _embeddings(self, body: dict) -> None:
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        data = []
        fake = self.server
        for index, text in enumerate(inputs):
            vector: object = fake_vector(str(text))
            if fake.per_token_embeddings:  # llama.cpp with some models: one vector a word
                vector = [fake_vector(word) for word in str(text).split() or [""]]
            if fake.embedding_sizes:
                vector = vector[: fake.embedding_sizes[index % len(fake.embedding_sizes)]]
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack("<8f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": vector})
        usage = {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}
        self._json(
            200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
        )


class FakeLLMServer(LoopbackServer):
    """An OpenAI-compatible HTTP server with knobs for replies, failures and delays."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.reply_text = DEFAULT_REPLY
        self.requests: list[tuple[str, dict, dict[str, str]]] = []
        self.failures: list[tuple[int, object, dict]] = []
        self.break_after: int | None = None
        self.hold_after: int | None = None
        self.pace_after_hold = 0.0
        self.held = threading.Event()
        self.resumed = threading.Event()
        self.runaway = False
        self.extraction_text: str | None = None
        self.per_token_embeddings = False
        self.embedding_sizes: list[int] = []
        self.connection_closed = threading.Event()
        self.start()

    def run_away(self) -> None:
        """Answer like a model without a stop token: words until max_tokens, then "length"."""
        self.runaway = True

    def extract(self, text: str) -> None:
        """Answer requests in JSON mode (memory extraction) with `text`."""
        self.extraction_text = text

    def embed_per_token(self) -> None:
        """Answer embeddings with one vector per word of each text (a list of lists)."""
        self.per_token_embeddings = True

    def embed_sizes(self, *sizes: int) -> None:
        """Cut the vectors of the texts of an embeddings request to these sizes, in turn."""
        self.embedding_sizes = list(sizes)

    def fail_next(
        self, status: int, body: object = None, headers: dict | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` requests with HTTP `status` (an OpenAI-style error body)."""
        body = body or {"error": {"message": f"Fake failure {status}.", "type": "fake_error"}}
        with self.lock:
            self.failures += [(status, body, headers or {})] * times

    def break_stream_after(self, pieces: int) -> None:
        """Send an error event after the first `pieces` chunks of every streamed reply."""
        self.break_after = pieces

    def hold_stream_after(self, pieces: int, *, then_pace: float = 0.0) -> None:
        """Make streamed replies wait after their first `pieces` chunks until resume().

        After that, wait `then_pace` seconds before each further chunk: a slow model.
        """
        self.hold_after, self.pace_after_hold = pieces, then_pace

    def resume(self) -> None:
        """Let held streams go on (and every later one pass its hold at once)."""
        self.resumed.set()


@pytest.fixture(name="fake_llm")
def fake_llm_fixture(settings):
    """Start a fake OpenAI-compatible server and point the LLM settings at it."""
    server = FakeLLMServer()
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = server.url + "/v1"
    settings.LLM_API_KEY = "test-key"
    settings.LLM_MODEL = "fake-model"
    settings.LLM_EMBEDDING_MODEL = "fake-embed"
    settings.LLM_TIMEOUT = 2
    yield server
    server.resume()
    server.stop()
