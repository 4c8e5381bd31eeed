"""Tests for checking and re-encoding persona avatar uploads; every input is built here."""

import random
import struct
import zipfile
import zlib
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageFile, PngImagePlugin

from personas.avatars import AvatarError, avatar_process

RED = (220, 30, 30)
BLUE = (30, 30, 220)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WRONG_TYPE = "Upload a PNG, JPEG, WebP or GIF image."
HIDDEN = "The file has other data hidden in it; upload a plain image."
DAMAGED = "The image is damaged or incomplete."


def encode(image: Image.Image, format: str, **params) -> bytes:
    output = BytesIO()
    image.save(output, format, **params)
    return output.getvalue()


def picture(size=(64, 64), format="PNG", mode="RGB", colour=RED, **params) -> bytes:
    return encode(Image.new(mode, size, colour), format, **params)


def noise(size=(256, 256), format="PNG") -> bytes:
    pixels = random.Random(0).randbytes(size[0] * size[1] * 3)
    return encode(Image.frombytes("RGB", size, pixels), format)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def opened(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


def near(pixel: tuple, colour: tuple) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=False))


def rejection(upload) -> str:
    with pytest.raises(AvatarError) as error:
        avatar_process(upload)
    return str(error.value)


@pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_accepts_each_format_as_square_webp(format):
    result = opened(avatar_process(picture((300, 200), format)))

    assert (result.format, result.size) == ("WEBP", (200, 200))
    assert near(result.convert("RGB").getpixel((100, 100)), RED)


@pytest.mark.parametrize(
    ("size", "format", "expected"),
    [((1000, 600), "JPEG", (512, 512)), ((100, 80), "PNG", (80, 80)), ((80, 100), "PNG", (80, 80))],
)
def test_crops_to_a_square_and_shrinks_but_never_enlarges(size, format, expected):
    assert opened(avatar_process(picture(size, format))).size == expected


def test_reads_the_size_limit_at_call_time(settings):
    settings.AVATAR_SIZE = 64

    assert opened(avatar_process(picture((300, 200)))).size == (64, 64)


@pytest.mark.parametrize("format", ["GIF", "WEBP"])
def test_keeps_only_the_first_frame_of_an_animation(format):
    red, blue = Image.new("RGB", (64, 64), RED), Image.new("RGB", (64, 64), BLUE)
    data = encode(red, format, save_all=True, append_images=[blue], duration=100, loop=0)
    assert getattr(opened(data), "n_frames", 1) == 2

    result = opened(avatar_process(data))

    assert getattr(result, "n_frames", 1) == 1
    assert near(result.convert("RGB").getpixel((32, 32)), RED)


def test_applies_the_exif_orientation_then_drops_all_exif():
    # Stored tall with red on top; Orientation 6 turns it a quarter clockwise, so red ends right.
    image = Image.new("RGB", (200, 400), BLUE)
    image.paste(RED, (0, 0, 200, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 30.0, 12.0),
    }
    data = encode(image, "JPEG", exif=exif)
    assert opened(data).getexif()[ExifTags.Base.Make] == "SpyCam"

    output = avatar_process(data)

    result = opened(output).convert("RGB")
    assert result.size == (200, 200)
    assert near(result.getpixel((20, 50)), BLUE)
    assert near(result.getpixel((180, 50)), RED)
    assert not opened(output).getexif()
    assert b"Exif" not in output
    assert b"SpyCam" not in output


def test_keeps_transparency():
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((*RED, 255), (32, 0, 64, 64))

    result = opened(avatar_process(encode(image, "PNG")))

    assert result.mode == "RGBA"
    assert result.getpixel((5, 32))[3] == 0
    assert result.getpixel((60, 32))[3] == 255


def test_keeps_the_tones_of_a_16_bit_greyscale_png():
    result = opened(avatar_process(picture(mode="I;16", colour=40000)))

    assert result.convert("L").getpixel((32, 32)) == pytest.approx(40000 / 256, abs=3)


@pytest.mark.parametrize(
    "wrap",
    [
        bytes,
        bytearray,
        BytesIO,
        lambda data: SimpleUploadedFile("avatar.png", data, "image/png"),
        lambda data: (file := BytesIO(data), file.read())[0],
    ],
    ids=["bytes", "bytearray", "file", "uploaded-file", "file-already-read"],
)
def test_accepts_bytes_and_file_objects(wrap):
    assert opened(avatar_process(wrap(picture()))).size == (64, 64)


@pytest.mark.parametrize(
    "upload", [b"", BytesIO(), SimpleUploadedFile("a.png", b"")], ids=["bytes", "file", "upload"]
)
def test_rejects_an_empty_file(upload):
    assert rejection(upload) == "The file is empty."


@pytest.mark.parametrize(
    ("limit", "shown"),
    [(5 * 2**20, "5 MB"), (3 * 2**19, "1.5 MB"), (512 * 2**10, "512 KB"), (1536, "1.5 KB")],
)
def test_rejects_a_file_over_the_byte_limit(settings, limit, shown):
    settings.AVATAR_MAX_BYTES = limit

    assert rejection(bytes(limit + 1)) == f"The image is larger than {shown}."


def test_accepts_a_file_of_exactly_the_byte_limit(settings):
    data = picture()
    settings.AVATAR_MAX_BYTES = len(data)

    assert avatar_process(data)


def test_reads_no_more_than_one_byte_past_the_limit(settings):
    class CountingFile(BytesIO):
        consumed = 0

        def read(self, size=-1):
            chunk = super().read(size)
            self.consumed += len(chunk)
            return chunk

    settings.AVATAR_MAX_BYTES = 1024
    upload = CountingFile(bytes(10**6))

    assert rejection(upload) == "The image is larger than 1 KB."
    assert upload.consumed == 1025


@pytest.mark.parametrize(
    "data",
    [
        b"hello",
        picture(format="BMP"),
        picture(format="TIFF"),
        picture(format="PDF"),
        picture(format="ICO"),
        b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle r="9"/></svg>',
    ],
    ids=["text", "bmp", "tiff", "pdf", "ico", "svg"],
)
def test_rejects_anything_but_png_jpeg_webp_or_gif_whatever_its_name(data):
    assert rejection(SimpleUploadedFile("avatar.png", data, "image/png")) == WRONG_TYPE


def test_rejects_a_decompression_bomb_from_its_header_without_decoding(monkeypatch):
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(bytes(1000)))
        + png_chunk(b"IEND", b"")
    )

    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))

    assert len(bomb) < 100
    assert rejection(bomb) == "The image is too large to process (100000\u00d7100000 pixels)."


@pytest.mark.parametrize(
    ("format", "params"),
    [
        ("PNG", {}),
        ("JPEG", {}),
        ("GIF", {}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
        ("WEBP", {"mode": "RGBA", "colour": (*RED, 128)}),
    ],
    ids=["png", "jpeg", "gif", "webp-vp8", "webp-vp8l", "webp-vp8x"],
)
def test_rejects_more_pixels_than_the_setting_allows_before_pillow_opens_it(
    settings, monkeypatch, format, params
):
    settings.AVATAR_MAX_PIXELS = 30 * 20 - 1
    data = picture((30, 20), format, **params)
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: pytest.fail("opened"))

    assert rejection(data) == "The image is too large to process (30\u00d720 pixels)."


def test_accepts_exactly_the_pixel_limit(settings):
    settings.AVATAR_MAX_PIXELS = 30 * 20

    assert avatar_process(picture((30, 20)))


@pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_rejects_a_truncated_image(monkeypatch, format):
    data = noise(format=format)
    # The structure check alone must catch it, whatever Pillow is told to tolerate.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    assert rejection(data[: len(data) // 2]) == DAMAGED


def idat(data: bytes) -> tuple[int, int]:
    start = data.index(b"IDAT") - 4
    return start, struct.unpack_from(">I", data, start)[0]


def test_rejects_a_png_whose_pixel_chunk_fails_its_checksum():
    data = bytearray(noise())
    start, length = idat(data)
    data[start + 8 + length] ^= 0xFF

    assert rejection(bytes(data)) == DAMAGED


def test_rejects_a_png_whose_pixel_data_is_corrupt_under_a_valid_checksum():
    data = noise()
    start, length = idat(data)
    body = bytearray(data[start + 8 : start + 8 + length])
    body[length // 2 : length // 2 + 64] = bytes(64)
    damaged = data[:start] + png_chunk(b"IDAT", bytes(body)) + data[start + 12 + length :]

    assert rejection(damaged) == DAMAGED


def zip_archive() -> bytes:
    output = BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("payload.txt", "anything")
    return output.getvalue()


def webp_frame_with_chunk(body: bytes) -> bytes:
    """An animated WebP whose first frame carries an extra chunk holding body (of even length)."""
    red, blue = Image.new("RGB", (64, 64), RED), Image.new("RGB", (64, 64), BLUE)
    data = encode(red, "WEBP", save_all=True, append_images=[blue])
    at = data.index(b"ANMF")
    size = int.from_bytes(data[at + 4 : at + 8], "little")
    chunk = b"XYZW" + struct.pack("<I", len(body)) + body
    frame = b"ANMF" + struct.pack("<I", size + len(chunk)) + data[at + 8 : at + 8 + size] + chunk
    riff = b"WEBP" + data[12:at] + frame + data[at + 8 + size :]
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


def png_with_text(key: str, text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text(key, text)
    return picture(pnginfo=info)


@pytest.mark.parametrize(
    "data",
    [
        picture() + zip_archive(),
        picture(format="JPEG") + b"<!DOCTYPE html><html><body>hi</body></html>",
        picture(format="GIF") + b"<script>alert(1)</script>",
        png_with_text("Comment", "<SCRIPT>alert(1)</SCRIPT>"),
        picture(format="JPEG", comment=b"<?php system($_GET['c']); ?>"),
        picture() + b"\0" * 16,
        picture(format="JPEG") + b"trailing",
        picture(format="GIF") + b"trailing",
        picture(format="WEBP") + b"trailing",
        picture(format="WEBP") + b"<svg/>",
        picture(format="GIF", comment=b"<script>alert(1)</script>"),
        picture(format="GIF", comment=b"x" * 253 + b"<script>"),
        picture(format="WEBP", xmp=b"<html><body>hi</body></html>"),
        webp_frame_with_chunk(b"<svg/>"),
    ],
    ids=[
        "png+zip",
        "jpeg+html",
        "gif+script",
        "png-text-chunk-script",
        "jpeg-comment-php",
        "png+zeros",
        "jpeg+bytes",
        "gif+bytes",
        "webp+bytes",
        "webp+svg",
        "gif-comment-script",
        "gif-comment-script-across-sub-blocks",
        "webp-xmp-html",
        "webp-frame-chunk-svg",
    ],
)
def test_rejects_an_image_with_other_data_glued_on_or_inside(data):
    assert opened(data)
    assert rejection(data) == HIDDEN


def test_accepts_a_multi_picture_jpeg_whose_images_follow_each_other():
    image = Image.new("RGB", (64, 64), RED)
    data = encode(image, "MPO", save_all=True, append_images=[image])
    assert Image.open(BytesIO(data)).format == "MPO"

    assert opened(avatar_process(data)).size == (64, 64)


MARKER_BYTES = b"PK\x03\x04<svg"


def test_accepts_a_png_whose_pixel_data_holds_marker_bytes():
    # Stored deflate keeps the scanlines literal: each row is filter 0 and 16 RGB pixels.
    rows = (b"\0" + MARKER_BYTES * 6) * 16
    data = (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(rows, level=0))
        + png_chunk(b"IEND", b"")
    )
    assert MARKER_BYTES in data

    assert opened(avatar_process(data)).size == (16, 16)


def test_accepts_a_jpeg_whose_scan_data_holds_marker_bytes():
    data = noise(format="JPEG")
    middle = (data.index(b"\xff\xda") + len(data)) // 2
    data = data[:middle] + MARKER_BYTES + data[middle + len(MARKER_BYTES) :]

    assert opened(avatar_process(data)).size == (256, 256)
