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


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def m4a_bytes(seconds: float = 12, rate: int = 44100) -> bytes:
    """Return a minimal M4A container (ftyp, moov with one AAC sound track, mdat).

    No encoder here makes AAC (that needs ffmpeg), so the frames are placeholders: enough
    for a reader of the container, which is all the upload check looks at.
    """
    duration = int(seconds * rate)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">4I", 0, 0, 0, rate)
        + struct.pack(">IIH10x", duration, 0x10000, 0x100)
        + matrix
        + bytes(24)
        + struct.pack(">I", 2),
    )
    tkhd = _box(
        b"tkhd",
        struct.pack(">I", 7)
        + struct.pack(">5I", 0, 0, 1, 0, duration)
        + bytes(8)
        + struct.pack(">hhhH", 0, 0, 0x100, 0)
        + matrix
        + struct.pack(">II", 0, 0),
    )
    mdhd = _box(b"mdhd", struct.pack(">5IHH", 0, 0, 0, rate, duration, 0x55C4, 0))
    hdlr = _box(b"hdlr", struct.pack(">II", 0, 0) + b"soun" + bytes(12) + b"SoundHandler\0")
    # An MPEG-4 ES descriptor: AAC LC (object type 0x40), 44.1 kHz mono.
    decoder_specific = b"\x05\x02\x12\x08"
    decoder_config = b"\x04" + bytes([13 + len(decoder_specific)]) + b"\x40\x15" + bytes(11)
    es = b"\x00\x01\x00" + decoder_config + decoder_specific + b"\x06\x01\x02"
    esds = _box(b"esds", bytes(4) + b"\x03" + bytes([len(es)]) + es)
    mp4a = _box(
        b"mp4a",
        bytes(6)
        + struct.pack(">H", 1)
        + bytes(8)
        + struct.pack(">HHHHI", 1, 16, 0, 0, rate << 16)
        + esds,
    )
    stsd = _box(b"stsd", struct.pack(">II", 0, 1) + mp4a)
    stbl = _box(b"stbl", stsd)
    minf = _box(b"minf", stbl)
    mdia = _box(b"mdia", mdhd + hdlr + minf)
    trak = _box(b"trak", tkhd + mdia)
    moov = _box(b"moov", mvhd + trak)
    ftyp = _box(b"ftyp", b"M4A " + struct.pack(">I", 0) + b"M4A mp42isom")
    return ftyp + moov + _box(b"mdat", bytes(2048))


def opus_bytes(seconds: float = 12) -> bytes:
    """Return an Ogg Opus stream: real headers and pages, placeholder silence packets.

    sox here can't write Opus and opus-tools isn't needed otherwise; mutagen builds the
    Ogg pages (with their checksums) and the packets follow RFC 7845.
    """
    from mutagen.ogg import OggPage

    pre_skip = 312
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    vendor = b"mybella-tests"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages, granule, frames = [], 0, int(seconds * 50)  # 20 ms frames
    for sequence, packets in enumerate(
        [[head], [tags], *[[b"\xf8\xff\xfe"] * 50] * (frames // 50)]
    ):
        page = OggPage()
        page.serial, page.sequence, page.packets = 7, sequence, packets
        if sequence == 0:
            page.first, page.position = True, 0
        elif sequence == 1:
            page.position = 0
        else:
            granule += 960 * len(packets)
            page.position = granule + pre_skip
        pages.append(page)
    pages[-1].last = True
    return b"".join(page.write() for page in pages)
