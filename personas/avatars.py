"""Check an uploaded persona avatar by its content and re-encode it as a small square WebP."""

import re
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import IO

from django.conf import settings
from PIL import Image, ImageOps

_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8"
_JPEG_EOI = 0xD9
_JPEG_SOS = 0xDA
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_SCAN_GOES_ON = frozenset({b"\x00", *(bytes([marker]) for marker in range(0xD0, 0xD8))})
# Markup, script or an archive has no business inside a picture: it is a payload for whatever
# later serves or unpacks the file under another type.
_HIDDEN_MARKERS = re.compile(rb"(?i:<(?:script|html|\?php|svg|!doctype))|PK\x03\x04|PK\x05\x06")

_WRONG_TYPE = "Upload a PNG, JPEG, WebP or GIF image."
_TOO_LARGE = "The image is too large to process"
_HIDDEN = "The file has other data hidden in it; upload a plain image."
_DAMAGED = "The image is damaged or incomplete."


class AvatarError(ValueError):
    """An upload that is not an acceptable avatar; str(error) tells the user what is wrong."""


def avatar_process(upload: bytes | IO[bytes]) -> bytes:
    """Check an uploaded image by its content and return it re-encoded as a square WebP.

    The WebP is at most AVATAR_SIZE px a side and carries no metadata. A file object is read
    from its start and never past AVATAR_MAX_BYTES + 1 bytes. Raise AvatarError, whose text is
    meant for the user, when the upload is not an acceptable image.
    """
    max_bytes = settings.AVATAR_MAX_BYTES
    data = _read(upload, max_bytes + 1)
    if not data:
        raise AvatarError("The file is empty.")
    if len(data) > max_bytes:
        raise AvatarError(f"The image is larger than {_format_bytes(max_bytes)}.")
    declared = _declared_size(data)
    _check_pixels(declared)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with _failing_as(_WRONG_TYPE if declared is None else _DAMAGED):
            image = Image.open(BytesIO(data), formats=_FORMATS)
        _check_pixels(image.size)
        end = _IMAGE_ENDS[image.format](data)
        if (end is not None and end < len(data)) or _HIDDEN_MARKERS.search(data):
            raise AvatarError(_HIDDEN)
        with _failing_as(_DAMAGED):
            if end is None:
                raise AvatarError(_DAMAGED)
            image.verify()
            # verify() leaves the image unusable, so decode the first frame from a fresh open.
            image = Image.open(BytesIO(data), formats=_FORMATS)
            image.load()
            image = ImageOps.exif_transpose(image)
    return _encode(image)


def _read(upload: bytes | IO[bytes], limit: int) -> bytes:
    """Return the upload's content, stopping at limit bytes."""
    if isinstance(upload, bytes | bytearray | memoryview):
        return bytes(upload[:limit])
    # A validator may already have read part of the file; check all of it.
    if upload.seekable():
        upload.seek(0)
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := upload.read(limit - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _format_bytes(count: int) -> str:
    """Write a byte count in MB, or in KB below one MB, with one decimal unless it is whole."""
    value, unit = (count / 2**20, "MB") if count >= 2**20 else (count / 2**10, "KB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _check_pixels(size: tuple[int, int] | None) -> None:
    """Raise AvatarError when size has more pixels than AVATAR_MAX_PIXELS."""
    if size and size[0] * size[1] > settings.AVATAR_MAX_PIXELS:
        raise AvatarError(f"{_TOO_LARGE} ({size[0]}\u00d7{size[1]} pixels).")


@contextmanager
def _failing_as(message: str) -> Iterator[None]:
    """Turn whatever Pillow raises inside into an AvatarError with message."""
    try:
        yield
    except AvatarError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit, met only where the header check could not see the size.
        raise AvatarError(f"{_TOO_LARGE}.") from None
    # Pillow's decoders raise a wide, undocumented range of exceptions on hostile input.
    except Exception:
        raise AvatarError(message) from None


def _encode(image: Image.Image) -> bytes:
    """Centre-crop the image to a square, shrink it to AVATAR_SIZE at most and encode it as WebP."""
    if image.mode.startswith("I"):
        # 16-bit greyscale PNG: keep the top 8 bits, as converting would clip nearly all to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    side = min(*image.size, settings.AVATAR_SIZE)
    image = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    output = BytesIO()
    image.save(output, "WEBP", quality=85, method=4, exif=b"", icc_profile=None, xmp="")
    return output.getvalue()


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """Read the size a PNG, GIF, WebP or JPEG header declares, or None for any other file."""
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20]), int.from_bytes(data[20:24])
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif_size(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp_size(data)
    return next(
        (
            (int.from_bytes(data[at + 7 : at + 9]), int.from_bytes(data[at + 5 : at + 7]))
            for marker, at in _jpeg_markers(data, 0)
            if marker in _JPEG_SOF
        ),
        None,
    )


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """Read the canvas size from the first chunk of a WebP file."""
    chunk = data[12:16]
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30].ljust(4, b"\0"))
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg_markers(data: bytes, pos: int) -> Iterator[tuple[int, int]]:
    """Yield each marker of the JPEG stream starting at pos with its offset, up to its EOI."""
    if not data.startswith(_JPEG_SOI, pos):
        return
    pos += 2
    while pos + 1 < len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte before the marker
            pos += 1
            continue
        yield marker, pos
        if marker == _JPEG_EOI:
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # standalone markers have no length
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4])
        if marker == _JPEG_SOS:
            # Entropy-coded data runs to the next marker that is not a stuffed 00 or a restart.
            pos = data.find(b"\xff", pos)
            while pos != -1 and data[pos + 1 : pos + 2] in _SCAN_GOES_ON:
                pos = data.find(b"\xff", pos + 2)
            if pos == -1:
                return


def _jpeg_end(data: bytes) -> int | None:
    """Return the offset past the last EOI, or None if the first JPEG stream is cut short.

    Streams may follow each other back to back: MPO and Ultra HDR photos append further images.
    """
    pos = 0
    while (end := _jpeg_stream_end(data, pos)) is not None:
        pos = end
        if not data.startswith(_JPEG_SOI, pos):
            return pos
    return pos or None


def _jpeg_stream_end(data: bytes, pos: int) -> int | None:
    """Return the offset past the EOI of the JPEG stream at pos, or None if it has none."""
    return next((at + 2 for marker, at in _jpeg_markers(data, pos) if marker == _JPEG_EOI), None)


def _png_end(data: bytes) -> int | None:
    """Return the offset past the IEND chunk, or None if the chunks are cut short."""
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= len(data) else None
    return None


def _gif_blocks(data: bytes) -> Iterator[tuple[int, int]]:
    """Yield the introducer and offset of each GIF block up to the trailer; stop if cut short."""

    def colour_table(flags: int) -> int:
        return 3 << ((flags & 7) + 1) if flags & 0x80 else 0

    try:
        pos = 13 + colour_table(data[10])
        while True:
            block = data[pos]
            yield block, pos
            if block == 0x21:  # extension: introducer and label
                pos += 2
            elif block == 0x2C:  # image: descriptor, local colour table and LZW code size
                pos += 11 + colour_table(data[pos + 9])
            else:
                return
            while data[pos]:  # data sub-blocks up to the empty one
                pos += data[pos] + 1
            pos += 1
    except IndexError:
        return


def _gif_size(data: bytes) -> tuple[int, int]:
    """Read the screen size of a GIF, widened as Pillow does to fit its first frame."""
    width, height = struct.unpack("<HH", data[6:10].ljust(4, b"\0"))
    at = next((pos for block, pos in _gif_blocks(data) if block == 0x2C), None)
    if at is not None:
        left, top, frame_width, frame_height = struct.unpack(
            "<4H", data[at + 1 : at + 9].ljust(8, b"\0")
        )
        width, height = max(width, left + frame_width), max(height, top + frame_height)
    return width, height


def _gif_end(data: bytes) -> int | None:
    """Return the offset past the trailer, or None if the blocks are cut short."""
    return next((pos + 1 for block, pos in _gif_blocks(data) if block == 0x3B), None)


def _webp_end(data: bytes) -> int | None:
    """Return the offset past the RIFF container, or None if the file is shorter than it says."""
    size = int.from_bytes(data[4:8], "little")
    end = 8 + size + (size & 1)
    return end if end <= len(data) else None


_IMAGE_ENDS: dict[str | None, Callable[[bytes], int | None]] = {
    "PNG": _png_end,
    "JPEG": _jpeg_end,
    "MPO": _jpeg_end,
    "GIF": _gif_end,
    "WEBP": _webp_end,
}
