"""Check an uploaded persona avatar by its content and re-encode it as a small square WebP."""

import re
import struct
import warnings
from collections.abc import Callable, Iterable, Iterator
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
# later serves or unpacks the file under another type. Only metadata is searched for them, as
# compressed pixel data holds any of these byte sequences by chance in about 1% of photos.
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
        if (end is not None and end < len(data)) or _has_hidden_markers(data, image.format):
            raise AvatarError(_HIDDEN)
        if end is None:
            raise AvatarError(_DAMAGED)
        with _failing_as(_DAMAGED):
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
            for marker, at, _ in _jpeg_markers(data)
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


def _jpeg_markers(data: bytes) -> Iterator[tuple[int, int, int]]:
    """Yield each marker of the JPEG streams that open data, its offset and its segment's end.

    A segment's data runs from offset + 4 to its end; a scan's entropy-coded data follows the end
    of its SOS segment. Streams may follow each other back to back: MPO and Ultra HDR photos
    append further images. Stop at the end of the last stream, or where one is cut short.
    """
    pos = 0
    while data.startswith(_JPEG_SOI, pos):
        pos += 2
        while pos + 1 < len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            if marker == 0xFF:  # a fill byte before the marker
                pos += 1
                continue
            # Standalone markers have no length.
            standalone = marker in (_JPEG_EOI, 0x01) or 0xD0 <= marker <= 0xD7
            end = pos + 2 + (0 if standalone else int.from_bytes(data[pos + 2 : pos + 4]))
            yield marker, pos, end
            pos = end
            if marker == _JPEG_EOI:
                break
            if marker == _JPEG_SOS:
                # Entropy-coded data runs to the next marker that is not a stuffed 00 or a restart.
                pos = data.find(b"\xff", pos)
                while pos != -1 and data[pos + 1 : pos + 2] in _SCAN_GOES_ON:
                    pos = data.find(b"\xff", pos + 2)
                if pos == -1:
                    return
        else:
            return


def _jpeg_end(data: bytes) -> int | None:
    """Return the offset past the last EOI, or None if the first JPEG stream is cut short."""
    return max((end for marker, _, end in _jpeg_markers(data) if marker == _JPEG_EOI), default=None)


def _jpeg_metadata(data: bytes) -> Iterator[bytes]:
    """Yield the data of each JPEG segment, leaving out the entropy-coded scans."""
    return (data[at + 4 : end] for _, at, end in _jpeg_markers(data))


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """Yield the type, data offset and data end of each PNG chunk up to IEND; stop if cut short."""
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        yield kind, pos + 8, pos + 8 + length
        if kind == b"IEND":
            return
        pos += 12 + length


def _png_end(data: bytes) -> int | None:
    """Return the offset past the IEND chunk, or None if the chunks are cut short."""
    end = next((end + 4 for kind, _, end in _png_chunks(data) if kind == b"IEND"), len(data) + 1)
    return end if end <= len(data) else None


def _png_metadata(data: bytes) -> Iterator[bytes]:
    """Yield the data of each PNG chunk but the compressed pixels of IDAT and APNG's fdAT."""
    return (data[at:end] for kind, at, end in _png_chunks(data) if kind not in (b"IDAT", b"fdAT"))


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


def _gif_metadata(data: bytes) -> Iterator[bytes]:
    """Yield the data of each GIF extension (comment, application...), joined across sub-blocks."""
    for block, pos in _gif_blocks(data):
        if block == 0x21:
            parts, pos = [], pos + 2
            while pos < len(data) and (size := data[pos]):
                parts.append(data[pos + 1 : pos + 1 + size])
                pos += 1 + size
            yield b"".join(parts)


def _webp_end(data: bytes) -> int | None:
    """Return the offset past the RIFF container, or None if the file is shorter than it says."""
    size = int.from_bytes(data[4:8], "little")
    end = 8 + size + (size & 1)
    return end if end <= len(data) else None


def _webp_metadata(data: bytes, pos: int = 12, stop: int | None = None) -> Iterator[bytes]:
    """Yield the data of each WebP chunk but the compressed pixels, including animation frames."""
    stop = len(data) if stop is None else stop
    while pos + 8 <= stop:
        kind, size = struct.unpack_from("<4sI", data, pos)
        end = min(pos + 8 + size, stop)
        if kind == b"ANMF":  # frame position, size and timing, then the frame's own chunks
            yield from _webp_metadata(data, pos + 24, end)
        elif kind not in (b"VP8 ", b"VP8L", b"ALPH"):
            yield data[pos + 8 : end]
        pos += 8 + size + (size & 1)


def _has_hidden_markers(data: bytes, format: str | None) -> bool:
    """Tell whether the metadata of an image of format holds markup, script or an archive."""
    return any(map(_HIDDEN_MARKERS.search, _METADATA[format](data)))


_IMAGE_ENDS: dict[str | None, Callable[[bytes], int | None]] = {
    "PNG": _png_end,
    "JPEG": _jpeg_end,
    "MPO": _jpeg_end,
    "GIF": _gif_end,
    "WEBP": _webp_end,
}
_METADATA: dict[str | None, Callable[[bytes], Iterable[bytes]]] = {
    "PNG": _png_metadata,
    "JPEG": _jpeg_metadata,
    "MPO": _jpeg_metadata,
    "GIF": _gif_metadata,
    "WEBP": _webp_metadata,
}
