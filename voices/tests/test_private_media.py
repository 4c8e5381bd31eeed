"""Voice samples and spoken clips are never served as public media, however the path is spelt.

Only avatars are public media. Private files live in a storage of their own that no public
URL reaches; only views that check who is asking serve them.
"""

import http.client
import json
import re
import subprocess
from urllib.parse import urlsplit

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test.testcases import LiveServerThread

from mybella.tests.processes import run_python
from personas.models import PersonaProfile
from voices import services
from voices.models import SpeechClip
from voices.tests.factories import CustomVoiceFactory

pytestmark = pytest.mark.django_db

PRIVATE_FOLDERS = ["voice-samples", "speech"]
NAME = "0123456789abcdef0123456789abcdef.wav"

# Ways to spell a path under /media/ that reach `{f}/{n}` once normalised (or on a file
# system that ignores case or takes backslashes for slashes).
VARIANTS = [
    "{f}/{n}",
    "%2e/{f}/{n}",
    "%2E/{f}/{n}",
    "./{f}/{n}",
    "/{f}/{n}",
    "{f}//{n}",
    "{f}/./{n}",
    "{f}%2f{n}",
    "%2f{f}%2F{n}",
    "avatars/../{f}/{n}",
    "avatars/%2e%2e/{f}/{n}",
    "avatars%2f..%2f{f}%2f{n}",
    "%252e/{f}/{n}",
    "{title}/{n}",
    "{upper}/{n}",
    ".\\{f}\\{n}",
    "%2e%5c{f}%5c{n}",
    "avatars\\..\\{f}\\{n}",
    "{f}/{n}%00",
]


def spell(variant: str, path: str) -> str:
    """Return the URL of the media path `folder/name` spelt as `variant` says."""
    folder, name = path.split("/", 1)
    words = {"f": folder, "n": name, "title": folder.title(), "upper": folder.upper()}
    return f"/media/{variant.format(**words)}"


def variants(path: str) -> list[str]:
    """Return the URL of the media path `folder/name` in every spelling of VARIANTS."""
    return [spell(variant, path) for variant in VARIANTS]


def raw_get(netloc: str, path: str) -> int:
    """GET `path` exactly as written (http.client neither normalises nor re-encodes it)."""
    connection = http.client.HTTPConnection(netloc, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def project_server():
    """Serve the project's WSGI application on a real socket, as gunicorn or runserver would.

    `live_server` wraps the project in Django's test-only media handler, which answers
    MEDIA_URL from MEDIA_ROOT by itself; this server leaves /media/ to the project's routing.
    """
    thread = LiveServerThread("127.0.0.1", static_handler=lambda _media_handler: WSGIHandler())
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture
def stray_private_files(settings):
    """Put a file in every private folder of MEDIA_ROOT (left from before the move, or a
    web server's root pointed at both) and return their media paths."""
    paths = []
    for folder in PRIVATE_FOLDERS:
        target = settings.MEDIA_ROOT / folder / NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"RIFF....WAVE")
        paths.append(f"{folder}/{NAME}")
    return paths


@pytest.fixture
def avatar(settings):
    target = settings.MEDIA_ROOT / "avatars" / "a.webp"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"RIFF....WEBP")
    return target


@pytest.mark.parametrize("folder", PRIVATE_FOLDERS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_no_spelling_of_a_private_path_is_public_media(
    client, stray_private_files, folder, variant
):
    """Every spelling of a path in a private folder is a 404 through the URL routing."""
    assert client.get(spell(variant, f"{folder}/{NAME}")).status_code == 404


def test_no_spelling_of_a_private_path_is_served_over_http(project_server, stray_private_files):
    """Raw paths over a real socket, unnormalised by any client, are all 404 too."""
    answered = {
        path: raw_get(project_server, path)
        for media_path in stray_private_files
        for path in variants(media_path)
    }
    assert {path: status for path, status in answered.items() if status != 404} == {}


def test_private_files_are_not_under_media_and_have_no_url(
    live_server, system_personas, user, espeak, settings
):
    """Samples and speech made the usual way are out of every public route's reach."""
    voice = CustomVoiceFactory(owner=user)
    isabella = PersonaProfile.objects.get(slug="isabella")
    clip = services.speech_for_persona(isabella, "Meet me at noon", user=user)
    netloc = urlsplit(live_server.url).netloc
    for field in (voice.sample, clip.audio):
        assert field.storage.exists(field.name)
        assert not (settings.MEDIA_ROOT / field.name).exists()
        with pytest.raises(ValueError, match="private"):
            field.storage.url(field.name)
        answered = {path: raw_get(netloc, path) for path in variants(field.name)}
        assert {path: status for path, status in answered.items() if status != 404} == {}


def test_avatars_are_public_media(client, project_server, avatar):
    assert client.get("/media/avatars/a.webp").status_code == 200
    assert raw_get(project_server, "/media/avatars/a.webp") == 200


@pytest.mark.parametrize(
    "path",
    [
        "/media/avatars/",
        "/media/avatars",
        "/media/Avatars/a.webp",
        "/media/avatars/./a.webp",
        "/media/avatars//a.webp",
        "/media/./avatars/a.webp",
        "/media/avatars%2fa.webp%00",
        "/media/avatars/a.webp%00",
        "/media/avatars\\a.webp",
        "/media/",
        "/media/..",
    ],
)
def test_only_plain_avatar_paths_are_served(client, project_server, avatar, path):
    """Directories, other spellings and odd bytes are 404s, never a listing or a 500."""
    assert client.get(path).status_code == 404
    assert raw_get(project_server, path) == 404


def test_public_prefixes_come_from_settings(client, avatar, settings):
    settings.PUBLIC_MEDIA_PREFIXES = []
    assert client.get("/media/avatars/a.webp").status_code == 404


# Names of private files ----------------------------------------------------------------


def test_speech_clip_names_are_random(espeak, user, other_user):
    """Two users having the same line said get unrelated random names; none comes from the
    text, the user or the cache key, and the same speech made again gets a new one."""
    isabella = PersonaProfile.objects.get(slug="isabella")
    mine = services.speech_for_persona(isabella, "Meet me at noon", user=user)
    theirs = services.speech_for_persona(isabella, "Meet me at noon", user=other_user)
    assert mine.pk != theirs.pk and mine.audio.name != theirs.audio.name
    for clip in (mine, theirs):
        assert re.fullmatch(r"speech/[0-9a-f]{32}\.wav", clip.audio.name)
        assert clip.key[:16] not in clip.audio.name
    name = mine.audio.name
    mine.audio.storage.delete(name)
    again = services.speech_for_persona(isabella, "Meet me at noon", user=user)
    assert again.cache_hit is False and again.audio.name != name
    assert SpeechClip.objects.filter(audio=name).count() == 0


# Where private files are kept -----------------------------------------------------------

DESCRIBE_PRIVATE_STORAGE = """
import json
import django
django.setup()
from django.core.files.storage import storages
s = storages["private"]
print(json.dumps({
    "class": type(s).__name__, "bucket": s.bucket_name, "location": s.location,
    "acl": s.default_acl, "domain": s.custom_domain, "url": s.url("speech/x.mp3"),
}))
"""


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter whose settings come from `env`."""
    return run_python("-c", code, without=("AWS_", "MEDIA_", "PRIVATE_MEDIA_"), **env)


S3_ACCESS = {
    "AWS_ACCESS_KEY_ID": "key-id",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_S3_REGION_NAME": "eu-west-1",
    "AWS_S3_CUSTOM_DOMAIN": "cdn.example.com",
}


def test_with_a_bucket_private_files_get_a_private_prefix_and_signed_urls_only():
    """Sharing the media bucket, private files sit under `private/`, private to the bucket's
    owner, never behind the public CDN domain, reachable only by a signed, expiring URL."""
    result = _python(DESCRIBE_PRIVATE_STORAGE, AWS_STORAGE_BUCKET_NAME="media", **S3_ACCESS)
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert {k: described[k] for k in ("class", "bucket", "location", "acl", "domain")} == {
        "class": "S3Storage",
        "bucket": "media",
        "location": "private",
        "acl": "private",
        "domain": None,
    }
    url = urlsplit(described["url"])
    assert url.netloc != "cdn.example.com" and url.path.endswith("/private/speech/x.mp3")
    assert "Signature=" in url.query and "Expires=" in url.query


def test_a_private_bucket_of_their_own():
    result = _python(
        DESCRIBE_PRIVATE_STORAGE,
        AWS_STORAGE_BUCKET_NAME="media",
        AWS_PRIVATE_STORAGE_BUCKET_NAME="secrets",
        **S3_ACCESS,
    )
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert (described["bucket"], described["location"], described["acl"]) == (
        "secrets",
        "",
        "private",
    )


def test_private_files_may_not_live_inside_public_media(tmp_path):
    """A web server serving MEDIA_ROOT would serve them too, so the settings refuse it."""
    code = "import django; django.setup()"
    inside = _python(code, MEDIA_ROOT=str(tmp_path), PRIVATE_MEDIA_ROOT=str(tmp_path / "private"))
    assert inside.returncode != 0
    assert "PRIVATE_MEDIA_ROOT must not be inside MEDIA_ROOT" in inside.stderr
    beside = _python(
        code, MEDIA_ROOT=str(tmp_path / "media"), PRIVATE_MEDIA_ROOT=str(tmp_path / "private")
    )
    assert beside.returncode == 0, beside.stderr
