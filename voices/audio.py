"""Check uploaded voice samples by their content: format, length, size and hidden extras."""

import hashlib
import io
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import mutagen
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

# format: (label, content type, extensions the file name may carry)
FORMATS = {
    "mp3": ("MP3", "audio/mpeg", {".mp3"}),
    "wav": ("WAV", "audio/wav", {".wav"}),
    "ogg": ("OGG", "audio/ogg", {".ogg", ".oga", ".opus"}),
    "m4a": ("M4A", "audio/mp4", {".m4a", ".mp4"}),
    "flac": ("FLAC", "audio/flac", {".flac"}),
}
_KINDS = [
    (MP3, "mp3"),
    (WAVE, "wav"),
    (OggVorbis, "ogg"),
    (OggOpus, "ogg"),
    (MP4, "m4a"),
    (FLAC, "flac"),
]
MARKUP = (b"<script", b"<html", b"<?php", b"<svg")
EDGE = 4096


class SampleError(ValueError):
    """A voice sample we won't accept; the message is for the person who uploaded it."""


@dataclass(frozen=True)
class SampleInfo:
    format: str  # a key of FORMATS
    content_type: str
    duration: float  # seconds
    size: int  # bytes
    sha256: str
    data: bytes = field(repr=False)


def _unreadable() -> SampleError:
    return SampleError(_("That's not an audio file we can read (MP3, WAV, OGG, M4A or FLAC)."))


def _truncated() -> SampleError:
    return SampleError(_("The file seems to be cut off. Please upload the whole recording."))


def _polyglot() -> SampleError:
    return SampleError(_("The file has something other than audio inside, so we can't accept it."))


def _detect(data: bytes) -> tuple[str, Any]:
    """Return (format, mutagen file) judged by content alone, never by the file name."""
    try:
        audio = mutagen.File(io.BytesIO(data))
        if audio is None and data[:1] == b"\xff":
            # MP3 without an ID3 tag and with a rarer frame header scores zero by content.
            audio = MP3(io.BytesIO(data))
    except Exception as error:
        # Crafted files make parsers raise all sorts of things; all mean "not readable".
        raise _unreadable() from error
    for cls, fmt in _KINDS:
        if audio is not None and isinstance(audio, cls):
            return fmt, audio
    raise _unreadable()


def _riff_end(data: bytes) -> int:
    end = struct.unpack_from("<I", data, 4)[0] + 8
    # A RIFF chunk of odd size is followed by a pad byte that some writers leave out.
    return end + 1 if end % 2 and len(data) == end + 1 else end


def _ogg_end(data: bytes) -> int:
    offset = 0
    while offset + 27 <= len(data) and data[offset : offset + 4] == b"OggS":
        segments = data[offset + 26]
        table = data[offset + 27 : offset + 27 + segments]
        if len(table) < segments:
            raise _truncated()
        offset += 27 + segments + sum(table)
    if offset > len(data):
        raise _truncated()
    return offset


def _mp4_end(data: bytes) -> int:
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if not re.fullmatch(rb"[\x20-\x7e\xa9]{4}", kind):
            raise _polyglot()  # not a box: something else follows the container
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack_from(">Q", data, offset + 8)[0]
        elif size == 0:  # the last box runs to the end of the file
            return len(data)
        if size < 8:
            raise _unreadable()
        offset += size
    if offset > len(data):
        raise _truncated()
    return offset


_ENDS = {"wav": _riff_end, "ogg": _ogg_end, "m4a": _mp4_end}


def _check_container(fmt: str, data: bytes) -> None:
    """Reject files with bytes after the container's end, or cut off before it."""
    end_of = _ENDS.get(fmt)
    if end_of is None:
        return  # MP3 and FLAC don't record where they end; the markup check still runs
    end = end_of(data)
    if end > len(data):
        raise _truncated()
    if end < len(data):
        raise _polyglot()


def _check_markup(data: bytes) -> None:
    edges = (data[:EDGE] + b"\0" + data[-EDGE:]).lower()
    if any(marker in edges for marker in MARKUP):
        raise _polyglot()


def _check_name(fmt: str, filename: str) -> None:
    label, _type, extensions = FORMATS[fmt]
    extension = PurePath(filename or "").suffix.lower()
    if extension in extensions:
        return
    if not extension:
        raise SampleError(_("The file name has no extension but it is a %s file.") % label)
    raise SampleError(
        _("The file says %(ext)s but it is a %(label)s file.")
        % {
            "ext": extension,
            "label": label,
        }
    )


def _formats_text() -> str:
    labels = [label for label, _type, _extensions in FORMATS.values()]
    return _("%(some)s or %(last)s") % {"some": ", ".join(labels[:-1]), "last": labels[-1]}


def _duration_text(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return ngettext("%d minute", "%d minutes", minutes) % minutes
    return ngettext("%(n)g second", "%(n)g seconds", seconds) % {"n": seconds}


def sample_help_text() -> str:
    """Return what a voice sample must be, from the VOICE_SAMPLE_* settings.

    The one text for the upload form, the API's schema and anywhere else that says it.
    """
    return _("%(min)s to %(max)s of one person speaking clearly: %(formats)s, up to %(size)s.") % {
        "min": _duration_text(settings.VOICE_SAMPLE_MIN_SECONDS),
        "max": _duration_text(settings.VOICE_SAMPLE_MAX_SECONDS),
        "formats": _formats_text(),
        "size": _("%g MB") % round(settings.VOICE_SAMPLE_MAX_BYTES / 2**20, 1),
    }


def _check_duration(duration: float) -> None:
    low, high = settings.VOICE_SAMPLE_MIN_SECONDS, settings.VOICE_SAMPLE_MAX_SECONDS
    if duration < low:
        raise SampleError(
            _("The sample is %(got)d seconds long; it needs at least %(min)g.")
            % {"got": int(duration), "min": low}
        )
    if duration > high:
        raise SampleError(
            _("The sample is %(got)d seconds long; it can be at most %(max)g.")
            % {"got": math.ceil(duration), "max": high}
        )


def _read(upload: Any, limit: int) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    return upload.read(limit + 1)


def inspect_sample(upload: Any, filename: str | None = None) -> SampleInfo:
    """Return what an uploaded voice sample is, or raise SampleError saying why it won't do.

    `upload` is a file object (Django's UploadedFile or any binary file); at most
    VOICE_SAMPLE_MAX_BYTES + 1 bytes of it are read. The format is judged by content and
    the name's extension must agree with it.
    """
    limit = settings.VOICE_SAMPLE_MAX_BYTES
    data = _read(upload, limit)
    if not data:
        raise SampleError(_("The file is empty."))
    if len(data) > limit:
        raise SampleError(_("The file is larger than %g MB.") % round(limit / 2**20, 1))
    fmt, audio = _detect(data)
    _check_name(fmt, filename if filename is not None else getattr(upload, "name", ""))
    _check_container(fmt, data)
    _check_markup(data)
    duration = float(getattr(audio.info, "length", 0) or 0)
    if duration <= 0 or not math.isfinite(duration):
        raise _unreadable()
    if fmt == "m4a" and not getattr(audio.info, "codec", ""):
        raise _unreadable()  # an MP4 with no audio track
    _check_duration(duration)
    return SampleInfo(
        format=fmt,
        content_type=FORMATS[fmt][1],
        duration=round(duration, 3),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
