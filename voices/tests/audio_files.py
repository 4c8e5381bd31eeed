"""Audio files made on the spot for tests: WAV with the stdlib, others with CLI encoders."""

import io
import os
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

import pytest

# format: (tool, how to make it from a WAV file)
ENCODERS = {
    "mp3": ("lame", lambda src, dst: ["lame", "--quiet", src, dst]),
    "ogg": ("oggenc", lambda src, dst: ["oggenc", "-Q", src, "-o", dst]),
    "flac": ("flac", lambda src, dst: ["flac", "-s", "-f", src, "-o", dst]),
}


def wav_bytes(seconds: float = 12, rate: int = 8000) -> bytes:
    """Return a mono 16-bit WAV of a quiet sawtooth lasting `seconds`."""
    frames = int(seconds * rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        period = b"".join(struct.pack("<h", i * 60) for i in range(100))
        out.writeframes((period * (frames // 100 + 1))[: frames * 2])
    return buffer.getvalue()


def require_tool(tool: str) -> None:
    """Skip the test when `tool` is missing, except under CI, where that is a failure."""
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing; .ci/run must install it")
        pytest.skip(f"{tool} is not installed")


def encoded(fmt: str, seconds: float = 12) -> bytes:
    """Return `seconds` of audio in `fmt` (mp3, ogg, flac or wav)."""
    if fmt == "wav":
        return wav_bytes(seconds)
    if fmt == "m4a":
        return m4a_bytes(seconds)
    tool, command = ENCODERS[fmt]
    require_tool(tool)
    with tempfile.TemporaryDirectory() as folder:
        src, dst = Path(folder, "in.wav"), Path(folder, f"out.{fmt}")
        src.write_bytes(wav_bytes(seconds, rate=22050))
        subprocess.run(command(str(src), str(dst)), check=True, timeout=60)
        return dst.read_bytes()


def _pyav(container: str, codec: str, rate: int, seconds: float) -> bytes:
    """Encode `seconds` of the test tone with FFmpeg's encoders inside PyAV (no CLI needed)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        period = b"".join(struct.pack("<h", i * 60) for i in range(100))
        size, pts = 960, 0
        while pts < rate * seconds:
            frame = av.AudioFrame(format="s16", layout="mono", samples=size)
            frame.planes[0].update((period * (size // 100 + 1))[: size * 2])
            frame.sample_rate, frame.pts = rate, pts
            pts += size
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def m4a_bytes(seconds: float = 12) -> bytes:
    """Return real AAC audio in an M4A container."""
    return _pyav("ipod", "aac", 22050, seconds)


def opus_bytes(seconds: float = 12) -> bytes:
    """Return real Opus audio in an Ogg container."""
    return _pyav("ogg", "libopus", 48000, seconds)
