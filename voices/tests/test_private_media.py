"""Voice samples and spoken clips are never served as public media."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["voice-samples/abc.wav", "speech/abc.mp3", "/voice-samples/x.mp3"]
)
def test_private_uploads_are_not_public_media(client, settings, path):
    target = settings.MEDIA_ROOT / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"RIFF....WAVE")
    assert client.get(f"/media/{path.lstrip('/')}").status_code == 404


def test_avatars_are_public_media(client, settings):
    target = settings.MEDIA_ROOT / "avatars" / "a.webp"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"RIFF")
    assert client.get("/media/avatars/a.webp").status_code == 200
