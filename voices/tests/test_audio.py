"""Checking voice samples by content: formats, extensions, limits and hidden extras."""

import io
import re
import struct

import pytest

from voices.audio import SampleError, inspect_sample, sample_help_text
from voices.tests.audio_files import encoded, m4a_bytes, opus_bytes, wav_bytes

ACCEPTED = [
    ("wav", "sample.wav", "audio/wav"),
    ("mp3", "sample.mp3", "audio/mpeg"),
    ("ogg", "sample.ogg", "audio/ogg"),
    ("ogg", "sample.oga", "audio/ogg"),
    ("flac", "sample.flac", "audio/flac"),
    ("m4a", "sample.m4a", "audio/mp4"),
    ("m4a", "sample.MP4", "audio/mp4"),
]


def inspect(data: bytes, name: str):
    return inspect_sample(io.BytesIO(data), name)


@pytest.mark.parametrize(("fmt", "name", "content_type"), ACCEPTED)
def test_accepts_each_format(fmt, name, content_type):
    """MP3, WAV, OGG Vorbis, FLAC and M4A are recognised by content, with their length."""
    data = encoded(fmt, seconds=12)
    info = inspect(data, name)
    assert (info.format, info.content_type, info.size) == (fmt, content_type, len(data))
    assert 11.5 < info.duration < 12.6
    assert len(info.sha256) == 64


def test_accepts_opus():
    """OGG Opus passes as OGG, named .opus."""
    info = inspect(opus_bytes(12), "voice.opus")
    assert (info.format, info.content_type, round(info.duration)) == ("ogg", "audio/ogg", 12)


def test_mp3_without_a_tag_or_common_header_is_still_found():
    """mutagen scores an untagged MPEG 2.5 MP3 as nothing; the check still reads it."""
    header = struct.pack(">I", 0xFFE39064)  # MPEG 2.5 layer III, 80 kbit/s, 11,025 Hz
    frames = (header + bytes(522 - 4)) * 300
    info = inspect(frames, "old.mp3")
    assert (info.format, round(info.duration)) == ("mp3", 16)
    with pytest.raises(SampleError, match="not an audio file"):
        inspect(b"\xff" + b"hello" * 1000, "a.mp3")


def test_uploaded_file_name_is_used_by_default(tmp_path):
    """Without an explicit name, the upload's own name is checked."""
    path = tmp_path / "voice.mp3"
    path.write_bytes(wav_bytes(12))
    with path.open("rb") as upload, pytest.raises(SampleError, match=r"says \.mp3 but it is a WAV"):
        inspect_sample(upload)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.wav", "The file is empty."),
        (b"just some notes\n" * 200, "notes.mp3", "not an audio file we can read"),
        (b"just some notes\n" * 200, "notes.wav", "not an audio file we can read"),
        (b"RIFF\x10\x00\x00\x00WAVEjunk", "a.wav", "not an audio file we can read"),
        (b"%PDF-1.7\n" + bytes(5000), "a.flac", "not an audio file we can read"),
    ],
)
def test_rejects_what_is_not_audio(data, name, message):
    """Empty files, text renamed to audio and other formats are refused."""
    with pytest.raises(SampleError, match=re.escape(message)):
        inspect(data, name)


@pytest.mark.parametrize(
    ("fmt", "name", "message"),
    [
        ("wav", "a.mp3", "The file says .mp3 but it is a WAV file."),
        ("mp3", "a.wav", "The file says .wav but it is a MP3 file."),
        ("flac", "a.ogg", "The file says .ogg but it is a FLAC file."),
        ("m4a", "a.flac", "The file says .flac but it is a M4A file."),
        ("wav", "a.txt", "The file says .txt but it is a WAV file."),
        ("wav", "sample", "no extension but it is a WAV file"),
    ],
)
def test_extension_must_agree_with_the_content(fmt, name, message):
    with pytest.raises(SampleError, match=re.escape(message)):
        inspect(encoded(fmt), name)


def test_too_short_and_too_long(settings):
    """The length must lie within VOICE_SAMPLE_MIN_SECONDS and VOICE_SAMPLE_MAX_SECONDS."""
    with pytest.raises(SampleError, match=r"The sample is 4 seconds long; it needs at least 10\."):
        inspect(wav_bytes(4.5), "a.wav")
    settings.VOICE_SAMPLE_MAX_SECONDS = 20
    with pytest.raises(SampleError, match=r"The sample is 21 seconds long; it can be at most 20\."):
        inspect(wav_bytes(20.5), "a.wav")


def test_too_large_reads_no_more_than_the_limit(settings):
    """A file over VOICE_SAMPLE_MAX_BYTES is refused after reading only max + 1 bytes."""
    settings.VOICE_SAMPLE_MAX_BYTES = 50_000
    upload = io.BytesIO(wav_bytes(12))  # 192 kB
    with pytest.raises(SampleError, match="larger than"):
        inspect_sample(upload, "a.wav")
    assert upload.tell() == 50_001


@pytest.mark.parametrize("fmt", ["wav", "ogg", "m4a"])
def test_truncated_files_are_refused(fmt):
    """A file cut short of the size its container declares is refused.

    (FFmpeg writes an M4A's index last, so a cut-off one can't even be read.)
    """
    data = encoded(fmt)
    with pytest.raises(SampleError, match=r"cut off|not an audio file we can read"):
        inspect(data[: len(data) - 700], f"a.{fmt}")


@pytest.mark.parametrize("fmt", ["wav", "ogg", "m4a"])
def test_bytes_after_the_container_are_refused(fmt):
    """Anything appended after the audio container's end (a polyglot file) is refused."""
    with pytest.raises(SampleError, match="something other than audio"):
        inspect(encoded(fmt) + b"PK\x03\x04" + bytes(100), f"a.{fmt}")


@pytest.mark.parametrize("fmt", ["mp3", "flac", "wav"])
@pytest.mark.parametrize("marker", [b"<script>alert(1)</script>", b"<HTML>", b"<?php ", b"<svg "])
def test_markup_inside_is_refused(fmt, marker):
    """Web page or script markup at either end of a file is refused, whatever the format."""
    data = encoded(fmt)
    for polyglot in (data + marker, data[:200] + marker + data[200 + len(marker) :]):
        with pytest.raises(SampleError, match="something other than audio"):
            inspect(polyglot, f"a.{fmt}")


def test_m4a_without_a_sound_track_is_refused():
    """An MP4 container whose track isn't sound is no voice sample."""
    data = m4a_bytes().replace(b"soun", b"vide")
    with pytest.raises(SampleError, match="not an audio file"):
        inspect(data, "a.mp4")


def test_wav_pad_byte_after_an_odd_sized_riff_chunk_passes():
    """The pad byte after an odd-sized RIFF chunk is part of the file, not an extra."""
    data = wav_bytes(12)
    odd = data[:4] + struct.pack("<I", len(data) - 9) + data[8:]  # odd size, then a pad byte
    assert inspect(odd, "a.wav").format == "wav"


def test_sample_help_text_follows_the_settings(settings):
    """One text says what a sample must be, from the VOICE_SAMPLE_* settings."""
    assert sample_help_text() == (
        "10 seconds to 5 minutes of one person speaking clearly: MP3, WAV, OGG, M4A or FLAC, "
        "up to 10 MB."
    )
    settings.VOICE_SAMPLE_MIN_SECONDS = 1
    settings.VOICE_SAMPLE_MAX_SECONDS = 90
    settings.VOICE_SAMPLE_MAX_BYTES = 2.5 * 2**20
    assert sample_help_text().startswith("1 second to 90 seconds of one person")
    assert sample_help_text().endswith("up to 2.5 MB.")
    settings.VOICE_SAMPLE_MAX_SECONDS = 60
    assert sample_help_text().startswith("1 second to 1 minute of one person")
