"""A fake ElevenLabs API on 127.0.0.1, so tests run the real `elevenlabs` SDK over HTTP.

It speaks the paths and shapes the SDK calls: text to speech (whole and streamed), the
paginated voice list (GET /v2/voices), instant voice cloning (POST /v1/voices/add), and
getting and deleting voices. Tests take the `fake_elevenlabs` fixture (the root conftest
loads this module as a plugin); settings then point at the server with a key it accepts.

Streamed speech arrives as the real API sends it: the first chunk after a moment of
synthesis (`STREAM_FIRST_DELAY`), then a chunk at a time (`STREAM_CHUNK_DELAY` apart), so a
client can tell first audio from all of it; `hold_stream()` keeps the rest back until
`release_stream()`.
"""

import json
import re
import struct
import threading
import time
from collections import Counter
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from mybella.tests.loopback import LoopbackServer

API_KEY = "test-eleven-key"
STREAM_FIRST_DELAY = 0.3  # seconds before the first chunk of streamed speech
STREAM_CHUNK_DELAY = 0.05  # seconds between its chunks
STREAM_CHUNK_BYTES = 4096  # the SDK reads 1,024 bytes at a time
HOLD_TIMEOUT = 30

ERRORS = {
    "invalid_api_key": (401, {"status": "invalid_api_key", "message": "Invalid API key"}),
    "quota_exceeded": (
        401,
        {
            "status": "quota_exceeded",
            "message": "This request exceeds your quota of 10000. You have 3 credits remaining.",
        },
    ),
    "too_many_concurrent_requests": (
        429,
        {
            "status": "too_many_concurrent_requests",
            "message": "Too many concurrent requests for your subscription.",
        },
    ),
    "system_busy": (429, {"status": "system_busy", "message": "We are experiencing heavy load."}),
    "voice_not_found": (
        404,
        {"status": "voice_not_found", "message": "A voice with the voice_id was not found."},
    ),
    "unprocessable": (
        422,
        [{"loc": ["body", "files"], "msg": "The sample is too noisy.", "type": "value_error"}],
    ),
    "server_error": (500, {"status": "internal_error", "message": "Something broke."}),
}


def fake_mp3(text: str) -> bytes:
    """Return silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz), more for longer text."""
    header = struct.pack(">I", 0xFFFB9064)
    frame = header + bytes(413)  # 417-byte frames
    return frame * (4 + len(text) // 4)


def voice_json(voice_id: str, name: str, **extra: object) -> dict:
    """Return a voice as GET /v2/voices and GET /v1/voices/{id} describe it."""
    return {
        "voice_id": voice_id,
        "name": name,
        "category": "premade",
        "labels": {"gender": "female", "accent": "american"},
        "description": f"{name}, a fake voice.",
        "preview_url": f"https://storage.example/{voice_id}.mp3",
        "is_legacy": False,
        **extra,
    }


class _Handler(BaseHTTPRequestHandler):
    server: "FakeElevenLabs"
    protocol_version = "HTTP/1.1"  # chunked streams, like the real API

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = self._body(raw, headers.get("content-type", ""))
        fake = self.server
        with fake.lock:
            fake.requests.append((method, url.path, query, body, headers))
            fake.counts[f"{method} {url.path}"] += 1
            failure = fake.failures.pop(0) if fake.failures else None
            stall, fake.stall = fake.stall, 0.0
        if stall:
            time.sleep(stall)
        try:
            if headers.get("xi-api-key") != fake.api_key:
                self._error(*ERRORS["invalid_api_key"])
            elif failure:
                self._error(*failure)
            else:
                self._route(method, url.path, query, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    @staticmethod
    def _body(raw: bytes, content_type: str) -> object:
        if content_type.startswith("application/json"):
            return json.loads(raw or b"{}")
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + raw
            )
            fields: dict[str, list] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                filename = part.get_filename()
                value = (
                    (filename, payload, part.get_content_type()) if filename else payload.decode()
                )
                fields.setdefault(name, []).append(value)
            return fields
        return raw

    def _route(self, method: str, path: str, query: dict, body: object) -> None:
        fake = self.server
        tts = re.fullmatch(r"/v1/text-to-speech/([^/]+)(/stream)?", path)
        if method == "POST" and (match := tts):
            voice_id, streamed = match.groups()
            if voice_id not in fake.voices:
                self._error(*ERRORS["voice_not_found"])
            else:
                self._audio(fake_mp3(body.get("text", "")), streamed=bool(streamed))
        elif method == "GET" and path == "/v2/voices":
            self._voice_page(query)
        elif method == "POST" and path == "/v1/voices/add":
            self._add_voice(body)
        elif match := re.fullmatch(r"/v1/voices/([^/]+)", path):
            voice = fake.voices.get(match.group(1))
            if voice is None:
                self._error(*ERRORS["voice_not_found"])
            elif method == "DELETE":
                with fake.lock:
                    del fake.voices[match.group(1)]
                self._json(200, {"status": "ok"})
            else:
                self._json(200, voice)
        else:
            self._json(404, {"detail": "Not Found"})

    def _voice_page(self, query: dict) -> None:
        voices = list(self.server.voices.values())
        start = int(query.get("next_page_token") or 0)
        size = int(query.get("page_size") or 10)
        page = voices[start : start + size]
        more = start + size < len(voices)
        self._json(
            200,
            {
                "voices": page,
                "has_more": more,
                "total_count": len(voices),
                "next_page_token": str(start + size) if more else None,
            },
        )

    def _add_voice(self, fields: dict) -> None:
        name = (fields.get("name") or [""])[0]
        files = [f for f in fields.get("files", []) if isinstance(f, tuple) and f[1]]
        if not name or not files:
            missing = "name" if not name else "files"
            problem = {"loc": ["body", missing], "msg": "Field required", "type": "missing"}
            self._error(422, [problem])
            return
        fake = self.server
        with fake.lock:
            voice_id = f"cloned{len(fake.cloned) + 1:04d}"
            fake.cloned.append((voice_id, name, files))
            fake.voices[voice_id] = voice_json(voice_id, name, category="cloned", labels={})
        self._json(200, {"voice_id": voice_id, "requires_verification": False})

    def _audio(self, data: bytes, *, streamed: bool) -> None:
        fake = self.server
        if streamed:
            time.sleep(fake.stream_first_delay)  # synthesis of the first words
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        if streamed:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            size = STREAM_CHUNK_BYTES
            for number, start in enumerate(range(0, len(data), size)):
                if number == 1:
                    fake.stream_released.wait(HOLD_TIMEOUT)
                if number:
                    time.sleep(fake.stream_chunk_delay)
                piece = data[start : start + size]
                # Counted before it goes: a client holding the chunk always finds it counted
                # (counted after, a busy machine let the client read it first).
                with fake.lock:
                    fake.chunks_sent += 1
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            with fake.lock:
                fake.streams_finished += 1
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def _error(self, status: int, detail: object, headers: dict | None = None) -> None:
        self._json(status, {"detail": detail}, headers)

    def _json(self, status: int, payload: object, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(data)


class FakeElevenLabs(LoopbackServer):
    """An ElevenLabs-shaped HTTP server with knobs for failures and delays."""

    def __init__(self, voices: int = 3) -> None:
        super().__init__(_Handler)
        self.api_key = API_KEY
        self.voices = {
            f"premade{i:04d}": voice_json(f"premade{i:04d}", f"Voice {i}") for i in range(voices)
        }
        self.voices["21m00Tcm4TlvDq8ikWAM"] = voice_json("21m00Tcm4TlvDq8ikWAM", "Rachel")
        self.cloned: list[tuple[str, str, list]] = []
        self.requests: list[tuple[str, str, dict, object, dict]] = []
        self.counts: Counter[str] = Counter()
        self.failures: list[tuple[int, object, dict] | None] = []
        self.stream_first_delay = STREAM_FIRST_DELAY
        self.stream_chunk_delay = STREAM_CHUNK_DELAY
        self.stream_released = threading.Event()
        self.stream_released.set()
        self.chunks_sent = 0
        self.streams_finished = 0
        self.start()

    def hold_stream(self) -> None:
        """Send streamed speech's first chunk only, until `release_stream()`."""
        self.stream_released.clear()

    def release_stream(self) -> None:
        """Send the rest of streamed speech."""
        self.stream_released.set()

    def add_voices(self, count: int, **extra: object) -> list[str]:
        """Add `count` premade voices; return their ids."""
        start = len(self.voices)
        ids = [f"extra{start + i:04d}" for i in range(count)]
        for voice_id in ids:
            self.voices[voice_id] = voice_json(voice_id, f"Extra {voice_id}", **extra)
        return ids

    def fail_next(
        self,
        error: str | int,
        detail: object = None,
        headers: dict | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer `times` requests with an error (a name from ERRORS, or a status and detail),
        once `after` more requests have been answered normally."""
        status, body = ERRORS[error] if isinstance(error, str) else (error, None)
        failure = (status, detail if detail is not None else body, headers or {})
        with self.lock:
            self.failures += [None] * after + [failure] * times

    def tts_calls(self) -> int:
        """Return how many text-to-speech requests (whole or streamed) arrived."""
        return sum(n for key, n in self.counts.items() if "/v1/text-to-speech/" in key)


@pytest.fixture(name="fake_elevenlabs")
def fake_elevenlabs_fixture(settings):
    """Start a fake ElevenLabs API and point the settings at it (speech and cloning)."""
    server = FakeElevenLabs()
    settings.ELEVENLABS_API_KEY = API_KEY
    settings.ELEVENLABS_BASE_URL = server.url
    settings.ELEVENLABS_TIMEOUT = 2
    settings.SPEECH_ENGINE = ""
    yield server
    server.release_stream()
    server.stop()
